"""Host C kernels of the non-weight ops against the reference interpreter: int8 bit for bit,
float32 within 1e-5. Built with -Werror and, for int8, with address/UB sanitizers."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import need_tool
from tests.helpers import graph_of, quantize_graph, run_c_host, run_ref
from tinyc import ops

pytestmark = pytest.mark.host


def rand(shape, seed=0, lo=-3.0, hi=3.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(lo, hi, shape).astype(np.float32)


def samples_for(g, count: int, seed: int) -> dict[str, np.ndarray]:
    """Inputs with skewed ranges, so zero points are far from 0 and differ in sign per input."""
    ranges = [(-0.3, 4.0), (-5.0, 0.4), (-1.0, 1.0)]
    return {n: rand((count, *g.tensors[n].shape), seed + i, *ranges[i % 3]) for i, n in enumerate(g.inputs)}


def check_c_matches_reference(op: str, inputs: list, attrs: dict, seed: int = 0) -> None:
    need_tool("cc")
    g = graph_of(op, inputs, attrs)
    samples = samples_for(g, 5, seed)
    np.testing.assert_allclose(run_c_host(g, samples)["y0"], run_ref(g, samples)["y0"], rtol=1e-5, atol=1e-6)
    h = quantize_graph(g, samples_for(g, 8, seed + 10))  # calibrated apart: some inputs saturate
    expected, got = run_ref(h, samples)["y0"], run_c_host(h, samples, sanitize=True)["y0"]
    assert got.dtype == np.int8 and np.array_equal(got, expected), f"{np.sum(got != expected)} int8 values differ"


BINARY = [  # (a, b) as shapes (activations) or arrays (constants)
    ((1, 5, 4, 7), (1, 5, 1, 1)),
    ((3, 7), (7,)),
    ((1, 3, 5, 7), np.array(0.75, np.float32)),
    (rand((1, 3, 1, 1), 9), (1, 3, 5, 7)),
    ((1, 3, 5, 7), (1, 3, 5, 7)),
    ((5, 1, 3), (1, 4, 1)),
    ((1, 7), rand((7,), 8, -2, 0.5)),
]


@pytest.mark.parametrize("op", ["add", "sub", "mul"])
@pytest.mark.parametrize("a,b", BINARY, ids=range(len(BINARY)))
def test_binary_kernels_match_reference(op, a, b):
    check_c_matches_reference(op, [("a", a), ("b", b)], {"act": None})


@pytest.mark.parametrize("op", ["add", "mul"])
@pytest.mark.parametrize("act", [(0.0, None), (0.0, 6.0), (None, 0.5)])
def test_binary_fused_activation_kernels_match_reference(op, act):
    check_c_matches_reference(op, [("a", (1, 3, 5, 7)), ("b", (1, 3, 1, 1))], {"act": act})


UNARY = [{"fn": "relu"}, {"fn": "clip", "min": -0.5, "max": 1.5}, {"fn": "clip", "min": 0.0, "max": None},
         {"fn": "leaky_relu"}, {"fn": "leaky_relu", "alpha": 0.3}, {"fn": "sigmoid"}, {"fn": "tanh"},
         {"fn": "hard_sigmoid"}, {"fn": "hard_swish"}, {"fn": "gelu"}, {"fn": "softplus"},
         {"fn": "shrink", "lambd": 1.0, "bias": 0.2}, {"fn": "selu"}]


@pytest.mark.parametrize("attrs", UNARY, ids=[f"{a['fn']}{i}" for i, a in enumerate(UNARY)])
def test_unary_kernels_match_reference(attrs):
    check_c_matches_reference("unary", [("x", (1, 5, 3, 7))], attrs)


CHANNEL_SLOPES = np.array([0.25, -0.5, 0.0, 1.5, -2.0], np.float32).reshape(5, 1, 1)


@pytest.mark.parametrize("x,slope", [((1, 5, 3, 7), CHANNEL_SLOPES), ((1, 3, 7), np.array([0.2], np.float32)),
                                     ((1, 3, 7), rand((7,), 4, -1, 1))])
def test_prelu_kernels_match_reference(x, slope):
    check_c_matches_reference("prelu", [("x", x), ("s", slope)], {})


@pytest.mark.parametrize("shape,axis", [((1, 12), 1), ((1, 5, 3), 1), ((2, 3, 7), 2), ((1, 3, 4, 5), 2), ((1, 1), 1)])
def test_softmax_kernels_match_reference(shape, axis):
    check_c_matches_reference("softmax", [("x", shape)], {"axis": axis})


POOLS = [  # (input shape, kernel, strides, pads t l b r, ceil_mode, count_include_pad)
    ((1, 3, 7, 7), (3, 3), (2, 2), (1, 1, 1, 1), False, False),
    ((1, 3, 7, 7), (3, 3), (2, 2), (1, 1, 1, 1), False, True),
    ((1, 5, 6, 6), (3, 3), (2, 2), (0, 0, 1, 1), True, True),
    ((1, 5, 5, 5), (2, 2), (2, 2), (1, 1, 1, 1), True, False),
    ((1, 3, 7, 9), (2, 3), (1, 2), (0, 1, 1, 0), True, True),
    ((1, 7, 25, 5), (25, 5), (1, 1), (0, 0, 0, 0), False, False),
    ((1, 3, 11), (1, 3), (1, 2), (0, 1, 0, 1), True, True),
]


@pytest.mark.parametrize("op", ["maxpool", "avgpool"])
@pytest.mark.parametrize("shape,kernel,strides,pads,ceil,include", POOLS)
def test_pool_kernels_match_reference(op, shape, kernel, strides, pads, ceil, include):
    attrs = {"kernel": kernel, "strides": strides, "pads": pads, "ceil_mode": ceil, "count_include_pad": include}
    check_c_matches_reference(op, [("x", shape)], attrs)


@pytest.mark.parametrize("inputs,axis", [
    ([("a", (1, 3, 5)), ("b", (1, 2, 5)), ("c", (1, 1, 5))], 1),
    ([("a", (1, 2, 3, 3)), ("b", rand((1, 2, 3, 1), 5))], 3),
    ([("a", (2, 5)), ("b", (1, 5))], 0),
])
def test_concat_kernels_match_reference(inputs, axis):
    check_c_matches_reference("concat", inputs, {"axis": axis})


def test_concat_int8_kernel_copies_inputs_that_share_the_output_q():
    need_tool("cc")
    g = graph_of("concat", [("a", (1, 3, 5)), ("b", (1, 2, 5))], {"axis": 1})
    samples = {"a": rand((3, 1, 3, 5), 1), "b": rand((3, 1, 2, 5), 2)}
    h = quantize_graph(g, samples)
    h.tensors["a"].q = h.tensors["y0"].q  # one copied input, one rescaled
    h.nodes = [ops.get("concat").quantize(g.nodes[0], h)]
    assert h.nodes[0].attrs["int8"]["table_offset"].tolist() == [-1, 0]
    assert np.array_equal(run_c_host(h, samples)["y0"], run_ref(h, samples)["y0"])


@pytest.mark.parametrize("shape,pads,value", [((1, 3, 5, 7), [0, 0, 1, 2, 0, 0, 3, 1], 0.0),
                                              ((1, 3, 5), [0, 1, 2, 0, 0, 0], -1.5),
                                              ((2, 3, 4, 5), [1, 0, 0, 1, 0, 2, 1, 0], 0.25)])
def test_pad_kernels_match_reference(shape, pads, value):
    check_c_matches_reference("pad", [("x", shape)], {"pads": pads, "mode": "constant", "value": value})


@pytest.mark.parametrize("shape,perm", [((1, 3, 5, 7), [0, 2, 3, 1]), ((1, 25, 10), [1, 0, 2]),
                                        ((2, 3, 4, 5, 6), [4, 2, 0, 3, 1]), ((3, 5), [1, 0]),
                                        ((1, 3, 5, 7), [0, 1, 2, 3]), ((7,), [0]),
                                        ((2, 3, 2, 3, 2, 3), [5, 3, 1, 4, 2, 0])])
def test_transpose_kernels_match_reference(shape, perm):
    check_c_matches_reference("transpose", [("x", shape)], {"perm": perm})


@pytest.mark.parametrize("attrs", [{"shape": (2, 3, 2), "strides": (12, -4, 2), "offset": 8},
                                   {"shape": (3, 4, 2), "strides": (0, 6, -1), "offset": 1},
                                   {"shape": (), "strides": (), "offset": 17}])
def test_strided_copy_kernels_match_reference(attrs):
    check_c_matches_reference("strided_copy", [("x", (2, 3, 4))], attrs)


def test_gather_kernels_match_reference():
    check_c_matches_reference("gather", [("x", (2, 5, 3))], {"axis": 1, "indices": (4, 0, 0, 2)})


def test_div_by_constant_kernels_match_reference():
    """float32 tinyc_div_f32; int8 becomes tinyc_mul_s8 by the reciprocal."""
    check_c_matches_reference("div", [("a", (1, 3, 5, 7)), ("b", rand((3, 1, 7), 5, 0.5, 2))], {"act": None})
