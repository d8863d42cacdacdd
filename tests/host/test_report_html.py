"""OUT/report.html: self-contained (no script, no external file), its memory plan holds one box per
planned tensor inside the arena, and headless Chromium renders it (the DOM it builds has the
summary, the plan, the layer table and, after pruning, the sensitivity plot)."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import need_tool
from tinyc import api, pipeline

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class _Elements(HTMLParser):
    """Every start tag with its attributes, in order."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _elements(html: str) -> list[tuple[str, dict]]:
    p = _Elements()
    p.feed(html)
    return p.tags


@pytest.fixture(scope="module")
def kws(tmp_path_factory) -> tuple[pipeline.Compiled, Path]:
    out = tmp_path_factory.mktemp("html") / "kws"
    compiled = api.build(EXAMPLES / "kws_dscnn.onnx", calib=EXAMPLES / "kws_dscnn_samples.npz",
                         board="nucleo-l4r5zi")
    pipeline.write(compiled, out)
    return compiled, out / "report.html"


def test_page_is_self_contained_with_a_box_per_planned_tensor(kws):
    compiled, page = kws
    html = page.read_text()
    tags = _elements(html)
    assert not [t for t, a in tags if t in ("script", "link", "img", "iframe")], "nothing loaded from elsewhere"
    boxes = [a for t, a in tags if t == "rect" and a.get("class") == "tensor"]
    owners = [b for b in compiled.plan.buffers if b.alias_of is None and b.size > 0]
    assert len(boxes) == len(owners) > 0
    frame = next(a for t, a in tags if t == "rect" and "class" not in a)
    top, bottom = float(frame["y"]), float(frame["y"]) + float(frame["height"])
    assert all(top - 0.1 <= float(a["y"]) and float(a["y"]) + float(a["height"]) <= bottom + 0.1 for a in boxes)
    assert sum(1 for t, a in tags if t == "rect" and a.get("class") == "peak") == 1
    rows = [a for t, a in tags if t == "td" and "title" in a]  # each layer row keeps the full ONNX name
    assert [a["title"] for a in rows] == [n.name for n in compiled.graph.nodes]


def test_pruned_model_page_carries_the_sensitivity_plot(tmp_path):
    api.compile(EXAMPLES / "digits_cnn.onnx", tmp_path / "out", calib=EXAMPLES / "digits_calib_cnn.npz", prune=0.5)
    tags = _elements((tmp_path / "out" / "report.html").read_text())
    assert any(t == "section" and a.get("id") == "sensitivity" for t, a in tags)
    assert sum(1 for t, _ in tags if t == "polyline") == 4  # one line per prunable layer


def test_chromium_renders_the_page(kws, tmp_path):
    need_tool("chromium")
    _, page = kws
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(["chromium", *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert re.search(r'<svg id="memory-plan"', dom) and dom.count('class="tensor"') > 10
    assert '<table id="layers">' in dom and dom.count("<tr>") >= 15
    shot = tmp_path / "page.png"
    subprocess.run(["chromium", *flags, "--window-size=1100,1400", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000  # a real picture
    shutil.rmtree(tmp_path / "profile", ignore_errors=True)
