"""No silent damage: compile warns, in one line with the figures, when what it compiled lost too much
against float (--eval accuracy beyond --max-drop, default 2 points; or, without labels, agreement with
float on the calibration samples below 95 %), and stays quiet when a compression is harmless."""

from __future__ import annotations

from pathlib import Path

from tinyc import io, pipeline
from tinyc.accuracy import load_labelled
from tinyc.compress import Compression

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EVAL = 150  # held-out images: enough to see a collapse, few enough to keep the test quick


def _build(labelled: bool, **compression) -> pipeline.Compiled:
    path = EXAMPLES / "digits_mlp.onnx"
    g = pipeline.frontend(path)
    calib_file = EXAMPLES / "digits_calib_mlp.npz"
    opts = pipeline.Options(calib=io.load_samples(calib_file, g).arrays, compression=Compression(**compression))
    if labelled:
        samples, labels = load_labelled(EXAMPLES / "digits_test_mlp.npz", g)
        opts.labelled = ({k: v[:EVAL] for k, v in samples.items()}, labels[:EVAL])
    return pipeline.build(path, opts)


def _damage(c: pipeline.Compiled) -> list[str]:
    return [w for w in c.warnings if "--finetune" in w]


def test_kronecker_auto_on_the_digits_mlp_warns_with_the_figures():
    c = _build(True, kronecker="auto")
    assert c.accuracy["float"] - c.accuracy["compressed"] > 2.0  # the collapse (~10 %)
    (line,) = _damage(c)
    assert "\n" not in line and "--max-drop 2" in line
    assert f"{c.accuracy['compressed']:.2f} %" in line and f"{c.accuracy['float']:.2f} %" in line


def test_without_labels_the_warning_counts_agreement_with_float():
    (line,) = _damage(_build(False, prune_channels=0.7))  # 70 % of the hidden units gone: the class changes
    assert "same top class as float" in line and "calibration samples" in line


def test_a_harmless_compression_does_not_warn():
    for labelled in (True, False):
        c = _build(labelled, prune=0.3)
        assert _damage(c) == [], c.warnings
        if labelled:
            assert c.accuracy["float"] - c.accuracy["compressed"] <= 2.0


def test_max_drop_sets_the_threshold():
    c = _build(True, prune=0.5, max_drop=0.0)  # max_drop also bounds per-layer pruning: loss may be 0
    drop = c.accuracy["float"] - c.accuracy["compressed"]
    assert bool(_damage(c)) == (drop > 0.0)
