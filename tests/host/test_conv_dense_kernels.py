"""conv2d, dense and matmul C kernels on the host: int8 equals ref_int8 bit for bit, float32 within 1e-5.

Built with -fsanitize=address,undefined, so a tap read outside the input fails the test too.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from tests.conftest import need_tool
from tests.helpers import graph_of, quantize_graph, random_samples, run_c_host, run_ref
from tests.models import model_path
from tinyc.ir import Graph

pytestmark = pytest.mark.host


@pytest.fixture(autouse=True)
def _compiler():
    need_tool("gcc")


def conv(strides=(1, 1), pads=(0, 0, 0, 0), dilations=(1, 1), group=1, act=None) -> dict:
    return {"strides": strides, "pads": pads, "dilations": dilations, "group": group, "act": act}


# (id, x shape, w shape (4-D), canonical attrs, bias?)
CONV_CASES = [
    ("3x3_pad1_relu", (1, 3, 9, 8), (5, 3, 3, 3), conv(pads=(1, 1, 1, 1), act=(0.0, None)), True),
    ("no_bias_relu6", (1, 3, 6, 7), (7, 3, 3, 3), conv(pads=(1, 1, 1, 1), act=(0.0, 6.0)), False),
    ("groups2", (1, 6, 7, 7), (10, 3, 3, 3), conv(group=2, pads=(1, 0, 1, 2)), True),
    ("depthwise", (1, 7, 8, 9), (7, 1, 3, 3), conv(group=7, pads=(1, 1, 1, 1)), True),
    ("depthwise_mult2", (1, 5, 6, 7), (10, 1, 3, 3), conv(group=5, pads=(1, 1, 1, 1)), True),
    ("depthwise_stride2_same", (1, 3, 9, 10), (3, 1, 3, 3), conv(group=3, strides=(2, 2), pads=(0, 0, 1, 1)), True),
    ("depthwise_dilated_asym", (1, 3, 8, 9), (6, 1, 3, 2),
     conv(group=3, strides=(1, 2), dilations=(2, 3), pads=(2, 0, 1, 3)), True),
    ("stride2_asym", (1, 3, 9, 9), (7, 3, 3, 3), conv(strides=(2, 2), pads=(0, 0, 1, 1)), True),
    ("dilation2", (1, 3, 11, 10), (5, 3, 3, 3), conv(dilations=(2, 2), pads=(2, 2, 2, 2)), True),
    ("kws_first_like", (1, 1, 49, 10), (5, 1, 10, 4), conv(strides=(2, 2), pads=(4, 1, 5, 1)), True),
    ("mixed_stride_dilation", (1, 2, 13, 10), (3, 2, 4, 3),
     conv(strides=(2, 1), dilations=(1, 2), pads=(2, 1, 1, 2)), True),
    ("1x1_stride2", (1, 5, 8, 8), (3, 5, 1, 1), conv(strides=(2, 2)), True),
    ("1x1_single_channel", (1, 1, 5, 3), (1, 1, 1, 1), conv(), True),
    ("5x5_no_pad", (1, 3, 12, 11), (5, 3, 5, 5), conv(), True),
    ("pads_wider_than_kernel", (1, 2, 4, 4), (3, 2, 2, 2), conv(pads=(3, 3, 3, 2)), True),
    ("depthwise_pads_wider_than_kernel", (1, 3, 3, 4), (3, 1, 2, 2), conv(group=3, pads=(3, 2, 3, 3)), True),
    ("conv1d", (1, 3, 20), (5, 3, 1, 4), conv(strides=(1, 2), dilations=(1, 2), pads=(0, 1, 0, 2)), True),
    ("conv1d_depthwise", (1, 5, 15), (5, 1, 1, 3), conv(group=5, pads=(0, 1, 0, 1)), True),
]


def conv_graph(case, seed: int = 0) -> Graph:
    _, xs, ws, attrs, has_bias = case
    rng = np.random.default_rng(seed)
    w = rng.normal(0, 0.5, ws).astype(np.float32)
    b = rng.normal(0, 0.5, ws[0]).astype(np.float32)
    return graph_of("conv2d", [("x", xs), ("w", w), ("b", b) if has_bias else ("", None)], attrs)


def assert_float_c_matches_ref(g: Graph, samples: dict) -> None:
    want = run_ref(g, samples)["y0"]
    got = run_c_host(g, samples, sanitize=True)["y0"]
    assert got.shape == want.shape
    err = float(np.max(np.abs(got.astype(np.float64) - want)))
    assert err <= 1e-5 * float(np.max(np.abs(want))), f"float C error {err}"


def assert_int8_c_equals_ref(g: Graph, samples: dict) -> Graph:
    """Quantize g on the samples, check C == ref_int8 on them, return the int8 graph."""
    h = quantize_graph(g, samples)
    want = run_ref(h, samples)["y0"]
    got = run_c_host(h, samples, sanitize=True)["y0"]
    assert got.dtype == np.int8 and got.shape == want.shape
    mismatch = np.argwhere(got != want)
    if mismatch.size:
        at = tuple(mismatch[0])
        raise AssertionError(f"{len(mismatch)} int8 mismatches, first at {at}: C {got[at]}, ref {want[at]}")
    assert len(np.unique(want)) > 8, "degenerate test: the output barely varies"
    return h


@pytest.mark.parametrize("case", CONV_CASES, ids=[c[0] for c in CONV_CASES])
def test_conv2d_f32_kernel_matches_ref(case):
    g = conv_graph(case)
    assert_float_c_matches_ref(g, random_samples(g, 3, seed=1))


@pytest.mark.parametrize("case", CONV_CASES, ids=[c[0] for c in CONV_CASES])
def test_conv2d_s8_kernel_equals_ref_int8(case):
    g = conv_graph(case)
    assert_int8_c_equals_ref(g, random_samples(g, 4, seed=2))


DENSE_CASES = [("bias_relu", (1, 13), 7, True, (0.0, None)), ("rows_no_bias", (5, 9), 3, False, None),
               ("one_feature", (1, 1), 5, True, None), ("rank3_relu6", (1, 3, 33), 11, True, (0.0, 6.0))]


def dense_graph(case) -> Graph:
    _, xs, m, has_bias, act = case
    rng = np.random.default_rng(3)
    w = rng.normal(0, 0.5, (m, xs[-1])).astype(np.float32)
    b = rng.normal(0, 0.5, m).astype(np.float32)
    return graph_of("dense", [("x", xs), ("w", w), ("b", b) if has_bias else ("", None)], {"act": act})


@pytest.mark.parametrize("case", DENSE_CASES, ids=[c[0] for c in DENSE_CASES])
def test_dense_f32_kernel_matches_ref(case):
    g = dense_graph(case)
    assert_float_c_matches_ref(g, random_samples(g, 3, seed=4))


@pytest.mark.parametrize("case", DENSE_CASES, ids=[c[0] for c in DENSE_CASES])
def test_dense_s8_kernel_equals_ref_int8(case):
    g = dense_graph(case)
    assert_int8_c_equals_ref(g, random_samples(g, 16, seed=5))


MATMUL_CASES = [((3, 5), (5, 4)), ((2, 3, 5), (5, 4)), ((2, 1, 3, 5), (3, 5, 7)),
                ((4, 5), (2, 3, 5, 3)), ((1, 3, 4, 5), (2, 1, 5, 3)), ((7, 1), (1, 3))]


@pytest.mark.parametrize("shapes", MATMUL_CASES, ids=[f"{a}@{b}" for a, b in MATMUL_CASES])
def test_matmul_f32_kernel_matches_ref(shapes):
    g = graph_of("matmul", [("a", shapes[0]), ("b", shapes[1])], {"act": None})
    assert_float_c_matches_ref(g, random_samples(g, 3, seed=6))


@pytest.mark.parametrize("shapes", MATMUL_CASES, ids=[f"{a}@{b}" for a, b in MATMUL_CASES])
def test_matmul_s8_kernel_equals_ref_int8(shapes):
    g = graph_of("matmul", [("a", shapes[0]), ("b", shapes[1])], {"act": None})
    assert_int8_c_equals_ref(g, random_samples(g, 8, seed=7))


def test_s8_kernels_saturate_a_clipped_bias_as_ref_does():
    """A channel with tiny weights and a real bias gets bias INT32_MAX; adding to it must not wrap. (Tiny, not
    negligible: a channel whose requantization multiplier rounds to 0 is dead and stored as zeros.)"""
    rng = np.random.default_rng(9)
    w = rng.normal(0, 0.5, (3, 2, 3, 3)).astype(np.float32)
    w[1] *= 1e-6
    b = np.array([0.1, 1.0, -0.2], np.float32)
    graphs = [graph_of("conv2d", [("x", (1, 2, 5, 5)), ("w", w), ("b", b)], conv(pads=(1, 1, 1, 1))),
              graph_of("dense", [("x", (1, 18)), ("w", w.reshape(3, 18)), ("b", b)], {"act": None})]
    for g in graphs:
        h = assert_int8_c_equals_ref(g, random_samples(g, 4, seed=10))
        bias = next(t.data for t in h.tensors.values() if t.dtype == "int32")
        assert bias[1] == np.iinfo(np.int32).max


def real_conv_layers(model: str) -> list[tuple[str, tuple, np.ndarray, np.ndarray, dict]]:
    """(name, x shape, w, b, canonical attrs) of the first Conv of each kind (depthwise?, strides) in a model."""
    m = onnx.shape_inference.infer_shapes(onnx.load(str(model_path(model))))
    inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    shapes = {v.name: tuple(d.dim_value for d in v.type.tensor_type.shape.dim)
              for v in list(m.graph.value_info) + list(m.graph.input)}
    layers, kinds = [], set()
    for n in (n for n in m.graph.node if n.op_type == "Conv"):
        a = {x.name: helper.get_attribute_value(x) for x in n.attribute}
        kind = (a.get("group", 1) > 1, tuple(a["strides"]), tuple(a["kernel_shape"]))
        if kind not in kinds:
            kinds.add(kind)
            attrs = conv(tuple(a["strides"]), tuple(a["pads"]), tuple(a["dilations"]), a.get("group", 1), (0.0, None))
            layers.append((f"{model}:{n.name}", shapes[n.input[0]], inits[n.input[1]], inits[n.input[2]], attrs))
    return layers


# Read in the test, not at collection: without the shared models a collection error would stop the whole
# suite; model_path fails this test under CI and skips it elsewhere.
@pytest.mark.parametrize("model", ["kws_dscnn", "vww_mobilenetv1", "ic_resnet8"])
def test_conv2d_kernels_on_real_model_layers(model):
    for _, xs, w, b, attrs in real_conv_layers(model):
        g = graph_of("conv2d", [("x", xs), ("w", w), ("b", b)], attrs)
        samples = random_samples(g, 2, seed=8, lo=0.0, hi=2.0)  # post-ReLU-like inputs
        assert_float_c_matches_ref(g, samples)
        assert_int8_c_equals_ref(g, samples)
