"""Compression options, sensitivity-driven ratios and budgets, without building C."""

from __future__ import annotations

from xml.etree import ElementTree

import numpy as np
import pytest

from tests.models import model_path, sample_inputs
from tinyc import pipeline
from tinyc.budget import parse_bytes
from tinyc.compress import Compression
from tinyc.errors import BadInput, DoesNotFit
from tinyc.passes import sensitivity
from tinyc.passes.sensitivity import Sensitivity


def _build(name: str, **kw) -> pipeline.Compiled:
    g = pipeline.frontend(model_path(name))
    calib = sample_inputs(name, g.inputs[0], g.tensors[g.inputs[0]].shape)
    return pipeline.build(model_path(name), pipeline.Options(calib=calib, **kw))


@pytest.mark.parametrize("compression,fragment", [
    (Compression(prune=1.5), "--prune 1.5"),
    (Compression(prune=-0.1), "--prune -0.1"),
    (Compression(prune_channels=1.0), "--prune-channels 1"),
    (Compression(sparsity="4:2"), "--sparsity 4:2: N must be"),
    (Compression(sparsity="0:4"), "--sparsity 0:4"),
    (Compression(sparsity="2:32"), "M up to 16"),
    (Compression(sparsity="two:four"), "write N:M"),
    (Compression(kronecker="no_such_layer"), "no layer 'no_such_layer'"),
])
def test_bad_compression_options_are_one_line_errors(compression, fragment):
    with pytest.raises(BadInput) as e:
        _build("sine_mlp", compression=compression)
    assert fragment in str(e.value) and "\n" not in str(e.value)


def test_m_not_dividing_a_named_layer_is_an_error():
    from tinyc.passes.prune import prune_nm

    g = pipeline.frontend(model_path("sine_mlp"))  # dense 1 -> 16 -> 16 -> 1: reduction 1 does not divide by 4
    first = g.nodes[0].name
    with pytest.raises(BadInput, match="not a multiple of M=4"):
        prune_nm(g, 2, 4, layers=[first])


@pytest.mark.parametrize("text,expected", [("65536", 65536), ("64K", 65536), ("1M", 1 << 20), ("1.5k", 1536),
                                           ("2048B", 2048)])
def test_budget_sizes_take_k_and_m(text, expected):
    assert parse_bytes(text, "--flash-budget") == expected


@pytest.mark.parametrize("text", ["", "lots", "-5", "0", "3G"])
def test_bad_budget_sizes_are_errors(text):
    with pytest.raises(BadInput, match="--flash-budget"):
        parse_bytes(text, "--flash-budget")


def _sensitivity() -> Sensitivity:
    # layer b loses nothing, layer a a lot: b must be pruned first and furthest
    return Sensitivity("output error (%)", (0.5, 0.9), {"a": [5.0, 40.0], "b": [0.1, 0.2]}, {"a": 100, "b": 300})


def test_target_ratio_prunes_the_least_sensitive_layers_first():
    chosen = sensitivity.ratios_for_target(_sensitivity(), 0.6)
    assert chosen == {"a": 0.0, "b": 0.9}
    assert (chosen["a"] * 100 + chosen["b"] * 300) / 400 >= 0.6


def test_ratios_under_a_maximum_loss():
    assert sensitivity.ratios_under(_sensitivity(), 1.0) == {"a": 0.0, "b": 0.9}
    assert sensitivity.ratios_under(_sensitivity(), 10.0) == {"a": 0.5, "b": 0.9}


def test_sensitivity_plot_is_svg_with_one_line_per_layer_inside_the_frame():
    root = ElementTree.fromstring(sensitivity.plot_svg(_sensitivity()))
    ns = {"s": "http://www.w3.org/2000/svg"}
    frame = root.find("s:rect", ns).attrib
    x0, y0 = float(frame["x"]), float(frame["y"])
    x1, y1 = x0 + float(frame["width"]), y0 + float(frame["height"])
    lines = root.findall("s:g/s:polyline", ns)
    assert [g.find("s:title", ns).text for g in root.findall("s:g", ns)] == ["a", "b"]
    for line in lines:
        points = [tuple(map(float, p.split(","))) for p in line.attrib["points"].split()]
        assert len(points) == 2 and all(x0 <= x <= x1 and y0 <= y <= y1 for x, y in points)
    assert sensitivity.plot_svg(_sensitivity()) == sensitivity.plot_svg(_sensitivity())  # byte-identical


def test_sensitivity_of_a_real_model_covers_every_layer_and_starts_at_zero():
    g = pipeline.frontend(model_path("kws_arm_dnn_s"))
    x = sample_inputs("kws_arm_dnn_s", g.inputs[0], g.tensors[g.inputs[0]].shape)
    s = sensitivity.analyse(g, x, ratios=(0.0, 0.9))
    assert set(s.loss) == {n.name for n in g.nodes if n.op == "dense"}
    for losses in s.loss.values():
        assert losses[0] == 0.0 and losses[1] > 0.0  # nothing pruned loses nothing; 90 % loses something


def test_an_impossible_flash_budget_states_the_smallest_size_reached():
    with pytest.raises(DoesNotFit, match=r"--flash-budget 100 B cannot be met: the smallest size reached is [\d,]+ B"):
        _build("kws_arm_dnn_s", flash_budget=100)


def test_a_flash_budget_is_met_by_pruning():
    plain = pipeline.report_of(_build("kws_arm_dnn_s"))["flash"]["weights"]
    c = _build("kws_arm_dnn_s", flash_budget=plain // 2)
    assert pipeline.report_of(c)["flash"]["weights"] <= plain // 2
    assert c.sensitivity is not None and any(v > 0 for v in c.sensitivity.chosen.values())


def test_prune_spreads_ratios_by_sensitivity_and_reaches_the_target():
    c = _build("kws_arm_dnn_s", compression=Compression(prune=0.8))
    weights = [t for t in c.float_graph.tensors.values() if t.is_const and t.data.ndim == 2]
    total = sum(t.size for t in weights)
    zeros = sum(int(np.sum(c.graph.tensors[n.inputs[1]].data == 0)) for n in c.graph.nodes if n.op == "dense")
    assert zeros >= 0.8 * total
    assert len(set(c.sensitivity.chosen.values())) > 1  # not one uniform ratio


def test_weights_already_sparse_in_the_file_are_stored_compressed_without_options(tmp_path):
    import onnx

    from tests.onnx_cases import one_node_model

    rng = np.random.default_rng(3)
    w = rng.standard_normal((64, 32)).astype(np.float32)
    w[rng.random(w.shape) < 0.9] = 0.0  # pruned during training
    path = tmp_path / "sparse.onnx"
    onnx.save(one_node_model("MatMul", [("x", (1, 64)), ("w", w)]), path)
    calib = {"x": rng.standard_normal((8, 1, 64)).astype(np.float32)}
    c = pipeline.build(path, pipeline.Options(calib=calib))
    doc = pipeline.report_of(c)
    assert doc["layers"][0]["format"] == "csr"
    dense_int8 = w.size + 12 * w.shape[1]  # int8 weights, and int32 bias, multiplier and shift per output
    assert doc["flash"]["weights"] < 0.4 * dense_int8  # values and indices of ~10 % of the weights
