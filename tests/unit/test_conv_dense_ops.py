"""conv2d, dense and matmul reference semantics: float vs onnxruntime, int8 vs float, int8 details."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.helpers import SHARED_MODELS, graph_of, quantize_graph, random_samples, run_ref
from tinyc import ops, quant
from tinyc.errors import UnsupportedOp
from tinyc.ir import Graph, Node, QParams

ort = pytest.importorskip("onnxruntime")


def run_onnx(op_type: str, feeds: dict, consts: dict, attrs: dict) -> np.ndarray:
    """Run a one-node ONNX model (inputs: feeds then consts, in dict order) with onnxruntime."""
    names = list(feeds) + list(consts)
    node = helper.make_node(op_type, names, ["y"], **attrs)
    graph = helper.make_graph(
        [node], "one", [helper.make_tensor_value_info(n, TensorProto.FLOAT, v.shape) for n, v in feeds.items()],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=[numpy_helper.from_array(v.astype(np.float32), n) for n, v in consts.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {n: v.astype(np.float32) for n, v in feeds.items()})[0]


def assert_rel_close(got: np.ndarray, want: np.ndarray, rel: float) -> None:
    """Largest error relative to the largest magnitude (elementwise relative fails near zero)."""
    assert got.shape == want.shape, (got.shape, want.shape)
    err = float(np.max(np.abs(got.astype(np.float64) - want))) if got.size else 0.0
    assert err <= rel * max(float(np.max(np.abs(want))), 1e-30), f"max error {err}, max |want| {np.max(np.abs(want))}"


def conv_attrs(rank: int, kernel: tuple, onnx_attrs: dict) -> dict:
    """ONNX Conv attrs -> canonical conv2d attrs (the frontend's job; repeated here to test against ORT)."""
    n = len(kernel)
    strides = list(onnx_attrs.get("strides", [1] * n))
    dilations = list(onnx_attrs.get("dilations", [1] * n))
    pads = list(onnx_attrs.get("pads", [0] * 2 * n))
    if rank == 3:  # 1-D: the height part is trivial
        strides, dilations, pads = [1] + strides, [1] + dilations, [0, pads[0], 0, pads[1]]
    return {"strides": tuple(strides), "pads": tuple(pads), "dilations": tuple(dilations),
            "group": onnx_attrs.get("group", 1), "act": None}


# (id, x shape, w shape, ONNX attrs, bias?)
CONV_CASES = [
    ("3x3_pad1", (1, 3, 9, 8), (5, 3, 3, 3), {"pads": [1, 1, 1, 1]}, True),
    ("no_bias", (1, 3, 6, 7), (7, 3, 3, 3), {"pads": [1, 1, 1, 1]}, False),
    ("groups2", (1, 6, 7, 7), (10, 3, 3, 3), {"group": 2, "pads": [1, 0, 1, 2]}, True),
    ("depthwise", (1, 7, 8, 9), (7, 1, 3, 3), {"group": 7, "pads": [1, 1, 1, 1]}, True),
    ("depthwise_mult2", (1, 5, 6, 7), (10, 1, 3, 3), {"group": 5, "pads": [1, 1, 1, 1]}, True),
    ("depthwise_stride2_same", (1, 3, 9, 10), (3, 1, 3, 3),
     {"group": 3, "strides": [2, 2], "pads": [0, 0, 1, 1]}, True),
    ("stride2_asym", (1, 3, 9, 9), (7, 3, 3, 3), {"strides": [2, 2], "pads": [0, 0, 1, 1]}, True),
    ("dilation2", (1, 3, 11, 10), (5, 3, 3, 3), {"dilations": [2, 2], "pads": [2, 2, 2, 2]}, True),
    ("mixed_stride_dilation", (1, 1, 49, 10), (7, 1, 10, 4),
     {"strides": [2, 1], "dilations": [1, 2], "pads": [4, 1, 5, 1]}, True),
    ("kws_first", (1, 1, 49, 10), (5, 1, 10, 4), {"strides": [2, 2], "pads": [4, 1, 5, 1]}, True),
    ("1x1_stride2", (1, 5, 8, 8), (3, 5, 1, 1), {"strides": [2, 2]}, True),
    ("1x1_single_channel", (1, 1, 5, 3), (1, 1, 1, 1), {}, True),
    ("5x5_no_pad", (1, 3, 12, 11), (5, 3, 5, 5), {}, True),
    ("pads_wider_than_kernel", (1, 2, 4, 4), (3, 2, 2, 2), {"pads": [3, 3, 3, 2]}, True),
    ("conv1d", (1, 3, 20), (5, 3, 4), {"strides": [2], "pads": [1, 2], "dilations": [2]}, True),
    ("conv1d_depthwise", (1, 5, 15), (5, 1, 3), {"group": 5, "pads": [1, 1]}, True),
]


def make_conv(case, seed: int = 0):
    """(float graph, onnx output on one random input, that input)."""
    _, xs, ws, onnx_attrs, has_bias = case
    rng = np.random.default_rng(seed)
    w = rng.normal(0, 0.5, ws).astype(np.float32)
    b = rng.normal(0, 0.5, ws[0]).astype(np.float32)
    w4 = w.reshape(ws[0], ws[1], 1, ws[2]) if len(xs) == 3 else w
    attrs = conv_attrs(len(xs), ws[2:], onnx_attrs)
    g = graph_of("conv2d", [("x", xs), ("w", w4), ("b", b) if has_bias else ("", None)], attrs)
    x = rng.uniform(-1, 1, xs).astype(np.float32)
    consts = {"w": w, "b": b} if has_bias else {"w": w}
    want = run_onnx("Conv", {"x": x}, consts, dict(onnx_attrs, kernel_shape=list(ws[2:])))
    return g, want, x


@pytest.mark.parametrize("case", CONV_CASES, ids=[c[0] for c in CONV_CASES])
def test_conv2d_float_ref_matches_onnxruntime(case):
    g, want, x = make_conv(case)
    got = run_ref(g, {"x": x[None]})["y0"][0]
    assert g.tensors["y0"].shape == want.shape
    assert_rel_close(got, want, 1e-5)


def test_conv2d_fused_relu6_clamps_float_output():
    g, _, x = make_conv(CONV_CASES[0])
    plain = run_ref(g, {"x": 4 * x[None]})["y0"]
    g.nodes[0].attrs["act"] = (0.0, 6.0)
    clamped = run_ref(g, {"x": 4 * x[None]})["y0"]
    assert plain.min() < 0.0 and plain.max() > 6.0  # both bounds bite
    np.testing.assert_array_equal(clamped, np.clip(plain, 0.0, 6.0))


def test_conv2d_macs_count_every_output_times_kernel_depth():
    g, _, _ = make_conv(CONV_CASES[2])  # groups 2: Ci/g = 3, 3x3, output (1, 10, 7, 7)
    node = g.nodes[0]
    shapes = [g.tensors[i].shape if i else None for i in node.inputs]
    out = g.tensors["y0"].shape
    assert out == (1, 10, 7, 7)
    assert ops.get("conv2d").macs(node, shapes, [out]) == 10 * 7 * 7 * 3 * 9


DENSE_CASES = [("bias", (1, 13), 7, True), ("rows_no_bias", (5, 9), 3, False), ("one_feature", (1, 1), 5, True)]


@pytest.mark.parametrize("case", DENSE_CASES, ids=[c[0] for c in DENSE_CASES])
def test_dense_float_ref_matches_onnxruntime_gemm(case):
    _, xs, m, has_bias = case
    rng = np.random.default_rng(1)
    w = rng.normal(0, 0.5, (m, xs[-1])).astype(np.float32)
    b = rng.normal(0, 0.5, m).astype(np.float32)
    x = rng.uniform(-1, 1, xs).astype(np.float32)
    g = graph_of("dense", [("x", xs), ("w", w), ("b", b) if has_bias else ("", None)], {"act": None})
    want = run_onnx("Gemm", {"x": x}, {"w": w, "b": b} if has_bias else {"w": w}, {"transB": 1})
    assert_rel_close(run_ref(g, {"x": x[None]})["y0"][0], want, 1e-5)


def test_dense_rank3_input_matches_onnxruntime_matmul():
    rng = np.random.default_rng(2)
    w = rng.normal(0, 0.5, (6, 11)).astype(np.float32)
    x = rng.uniform(-1, 1, (1, 4, 11)).astype(np.float32)
    g = graph_of("dense", [("x", x.shape), ("w", w), ("", None)], {"act": None})
    want = run_onnx("MatMul", {"x": x}, {"wt": w.T.copy()}, {})
    assert g.tensors["y0"].shape == (1, 4, 6)
    assert ops.get("dense").macs(g.nodes[0], [(1, 4, 11), (6, 11), None], [(1, 4, 6)]) == 4 * 6 * 11
    assert_rel_close(run_ref(g, {"x": x[None]})["y0"][0], want, 1e-5)


MATMUL_CASES = [((3, 5), (5, 4)), ((2, 3, 5), (5, 4)), ((2, 1, 3, 5), (3, 5, 7)),
                ((4, 5), (2, 3, 5, 1)), ((1, 3, 4, 5), (2, 1, 5, 3)), ((7, 1), (1, 3))]


@pytest.mark.parametrize("shapes", MATMUL_CASES, ids=[f"{a}@{b}" for a, b in MATMUL_CASES])
def test_matmul_float_ref_broadcasts_like_onnxruntime(shapes):
    rng = np.random.default_rng(3)
    a, b = (rng.uniform(-1, 1, s).astype(np.float32) for s in shapes)
    g = graph_of("matmul", [("a", a.shape), ("b", b.shape)], {"act": None})
    want = run_onnx("MatMul", {"a": a, "b": b}, {}, {})
    got = run_ref(g, {"a": a[None], "b": b[None]})["y0"][0]
    assert_rel_close(got, want, 1e-5)
    assert ops.get("matmul").macs(g.nodes[0], list(shapes), [want.shape]) == want.size * shapes[0][-1]


def assert_int8_close_to_float(g: Graph, samples: dict, scales: float) -> None:
    """The int8 graph's dequantized output is within `scales` output steps of the float reference."""
    h = quantize_graph(g, samples)
    want = run_ref(g, samples)["y0"]
    got = quant.dequantize_array(run_ref(h, samples)["y0"], h.tensors["y0"].q)
    step = float(h.tensors["y0"].q.scale[0])
    err = float(np.max(np.abs(got - want)))
    assert err <= scales * step, f"int8 error {err / step:.2f} output steps"


@pytest.mark.parametrize("case", CONV_CASES, ids=[c[0] for c in CONV_CASES])
def test_conv2d_int8_ref_stays_within_few_steps_of_float(case):
    g, _, _ = make_conv(case)
    assert_int8_close_to_float(g, random_samples(g, 8, seed=4), 3.0)


def test_dense_int8_ref_stays_within_few_steps_of_float():
    w = np.random.default_rng(5).normal(0, 0.3, (7, 33)).astype(np.float32)
    b = np.linspace(-1, 1, 7).astype(np.float32)
    g = graph_of("dense", [("x", (3, 33)), ("w", w), ("b", b)], {"act": (0.0, None)})
    assert_int8_close_to_float(g, random_samples(g, 8, seed=6), 3.0)


@pytest.mark.parametrize("shapes", MATMUL_CASES, ids=[f"{a}@{b}" for a, b in MATMUL_CASES])
def test_matmul_int8_ref_stays_within_few_steps_of_float(shapes):
    g = graph_of("matmul", [("a", shapes[0]), ("b", shapes[1])], {"act": None})
    assert_int8_close_to_float(g, random_samples(g, 8, seed=7), 3.0)


def int8_conv_node(x_zp: int, w: np.ndarray, pads: tuple) -> tuple[Node, Graph]:
    g = graph_of("conv2d", [("x", (1, w.shape[1], 4, 5)), ("w", w), ("", None)],
                 {"strides": (1, 1), "pads": pads, "dilations": (1, 1), "group": 1, "act": None})
    for name, q in (("x", QParams.per_tensor(0.1, x_zp)), ("y0", QParams.per_tensor(0.2, -3))):
        g.tensors[name].q, g.tensors[name].dtype = q, "int8"
    return ops.get("conv2d").quantize(g.nodes[0], g), g


def test_conv2d_int8_padding_contributes_input_zero_point():
    w = np.ones((3, 2, 3, 3), np.float32)
    node, _ = int8_conv_node(17, w, (1, 2, 1, 0))
    x = np.full((1, 2, 4, 5), 17, np.int8)  # every real input is 0, so is every output
    y = ops.get("conv2d").ref_int8(node, [x, np.ones((3, 2, 3, 3), np.int8), np.zeros(3, np.int32)])[0]
    assert y.shape == (1, 3, 4, 5) and np.all(y == -3)


def test_conv2d_int8_requant_multiplier_is_per_output_channel():
    w = np.stack([np.full((2, 3, 3), v, np.float32) for v in (0.5, 1.0, 2.0)])
    node, g = int8_conv_node(0, w, (0, 0, 0, 0))
    p = node.attrs["int8"]
    real = p["multiplier"].astype(np.float64) * 2.0 ** (p["shift"].astype(np.float64) - 31)
    s_w = np.array([0.5, 1.0, 2.0]) / 127
    np.testing.assert_allclose(real, 0.1 * s_w / 0.2, rtol=1e-9)
    assert g.tensors[node.inputs[1]].dtype == "int8" and g.tensors[node.inputs[2]].dtype == "int32"
    assert np.all(g.tensors[node.inputs[1]].data == 127)


def test_matmul_int8_with_constant_operand_is_unsupported():
    g = graph_of("matmul", [("a", (2, 3)), ("b", np.ones((3, 4), np.float32))], {"act": None})
    for name, q in (("a", QParams.per_tensor(0.1, 0)), ("y0", QParams.per_tensor(0.2, 0))):
        g.tensors[name].q, g.tensors[name].dtype = q, "int8"
    with pytest.raises(UnsupportedOp, match="constant operand"):
        ops.get("matmul").quantize(g.nodes[0], g)


def test_kernel_choice_depthwise_only_when_groups_equal_input_channels():
    names = {}
    for case in (CONV_CASES[2], CONV_CASES[3], CONV_CASES[4], CONV_CASES[0]):
        g, _, _ = make_conv(case)
        names[case[0]] = ops.get("conv2d").kernel(g.nodes[0], g).kernel
    assert names == {"groups2": "tinyc_conv2d_f32", "depthwise": "tinyc_depthwise_conv2d_f32",
                     "depthwise_mult2": "tinyc_depthwise_conv2d_f32", "3x3_pad1": "tinyc_conv2d_f32"}


def real_conv_nodes(model: str):
    """(x shape, w, b, ONNX attrs) of the model's first Conv of each kind (depthwise?, strides, kernel)."""
    m = onnx.shape_inference.infer_shapes(onnx.load(f"{SHARED_MODELS}/{model}.onnx"))
    inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    shapes = {v.name: tuple(d.dim_value for d in v.type.tensor_type.shape.dim)
              for v in list(m.graph.value_info) + list(m.graph.input)}
    found, kinds = [], set()
    for n in m.graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        kind = (attrs.get("group", 1) > 1, tuple(attrs.get("strides", [1, 1])), tuple(attrs.get("kernel_shape", [])))
        if n.op_type == "Conv" and kind not in kinds:
            kinds.add(kind)
            found.append((shapes[n.input[0]], inits[n.input[1]], inits[n.input[2]], attrs))
    return found


@pytest.mark.parametrize("model", ["kws_dscnn", "vww_mobilenetv1", "ic_resnet8"])
def test_conv2d_float_ref_matches_onnxruntime_on_real_layers(model):
    for xs, w, b, attrs in real_conv_nodes(model):
        g = graph_of("conv2d", [("x", xs), ("w", w), ("b", b)], conv_attrs(4, w.shape[2:], attrs))
        x = np.random.default_rng(8).uniform(0, 2, xs).astype(np.float32)
        want = run_onnx("Conv", {"x": x}, {"w": w, "b": b}, attrs)
        assert_rel_close(run_ref(g, {"x": x[None]})["y0"][0], want, 1e-5)
