"""lstm / gru: float semantics against onnxruntime, the int8 scheme's pieces, int8 accuracy on the KWS models."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.helpers import SHARED_MODELS, graph_of, quantize_graph, run_ref
from tinyc import ops, quant
from tinyc.errors import UnsupportedOp
from tinyc.ir import Node
from tinyc.ops import rnn

GATES = {"lstm": 4, "gru": 3}
REAL = {"gru": "kws_arm_gru_s", "lstm": "kws_arm_basic_lstm_s"}


def rnn_case(op: str, t: int, i: int, h: int, seed: int, *, bias=True, h0=True, c0=True, lbr=0, scale=0.5):
    """Random float arrays and the normalised IR inputs/attrs of one lstm/gru node."""
    rng = np.random.default_rng(seed)
    g = GATES[op]
    vals = {
        "X": rng.uniform(-1, 1, (t, 1, i)).astype(np.float32),
        "W": rng.uniform(-scale, scale, (1, g * h, i)).astype(np.float32),
        "R": rng.uniform(-scale, scale, (1, g * h, h)).astype(np.float32),
        "B": rng.uniform(-scale, scale, (1, 2 * g * h)).astype(np.float32),
        "h0": rng.uniform(-1, 1, (1, 1, h)).astype(np.float32),
        "c0": rng.uniform(-1, 1, (1, 1, h)).astype(np.float32),
    }
    names = ["X", "W", "R", "B" if bias else "", "", "h0" if h0 else ""]
    if op == "lstm":
        names.append("c0" if c0 else "")
    attrs = {"hidden_size": h}
    if op == "gru":
        attrs["linear_before_reset"] = lbr
    return vals, names, attrs


def ort_run(op: str, vals: dict, names: list[str], attrs: dict, n_out: int) -> list[np.ndarray]:
    """Run a one-node ONNX LSTM/GRU with X as the graph input and the rest as initializers."""
    outs = ["Y", "Y_h", "Y_c"][:n_out]
    node = helper.make_node(op.upper(), names, outs, **attrs)
    inits = [numpy_helper.from_array(vals[n], n) for n in names[1:] if n]
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, vals["X"].shape)],
                              [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outs], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"X": vals["X"]})


def real_rnn(op: str):
    """(float one-node IR graph of the model's RNN node, samples {"X": [S, T, 1, I]}, ONNX initializers)."""
    model = onnx.load(SHARED_MODELS / f"{REAL[op]}.onnx")
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    node = next(n for n in model.graph.node if n.op_type == op.upper())
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    x = np.load(SHARED_MODELS / "samples" / f"{REAL[op]}_samples.npz")["input"]
    s, t, i = x.shape
    samples = {"X": x.reshape(s, t, 1, i)}  # the Transpose output: [T, 1, I] per sample
    inputs = [("X", (t, 1, i)), ("W", inits["W"]), ("R", inits["R"]), ("B", inits["B"]), ("", None), ("", None)]
    if op == "lstm":
        inputs.append(("", None))
    g = graph_of(op, inputs, attrs, n_outputs=3 if op == "lstm" else 2)
    return g, samples, inits


def ref_node(op: str, names: list[str], attrs: dict, n_out: int = 3) -> Node:
    return Node("n", op, names, ["Y", "Y_h", "Y_c"][:n_out], attrs)


@pytest.mark.parametrize("op,lbr", [("lstm", 0), ("gru", 0), ("gru", 1)])
@pytest.mark.parametrize("t,i,h", [(1, 1, 1), (5, 3, 7), (3, 7, 5)])
def test_float_matches_onnxruntime(op, lbr, t, i, h):
    vals, names, attrs = rnn_case(op, t, i, h, seed=t * 100 + h, lbr=lbr, scale=2.0)
    n_out = 3 if op == "lstm" else 2
    want = ort_run(op, vals, names, attrs, n_out)
    got = ops.get(op).ref_float(ref_node(op, names, attrs, n_out), [vals[n] if n else None for n in names])
    for w, y in zip(want, got):
        assert y.shape == w.shape and y.dtype == np.float32
        np.testing.assert_allclose(y, w, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op", ["lstm", "gru"])
def test_float_without_bias_and_initial_state_matches_onnxruntime(op):
    vals, names, attrs = rnn_case(op, 4, 3, 5, seed=7, bias=False, h0=False, c0=False)
    n_out = 3 if op == "lstm" else 2
    want = ort_run(op, vals, names, attrs, n_out)
    got = ops.get(op).ref_float(ref_node(op, names, attrs, n_out), [vals[n] if n else None for n in names])
    for w, y in zip(want, got):
        np.testing.assert_allclose(y, w, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op", ["lstm", "gru"])
def test_float_matches_onnxruntime_on_kws_model_node(op):
    g, samples, inits = real_rnn(op)
    node = g.nodes[0]
    vals = {"W": inits["W"], "R": inits["R"], "B": inits["B"]}
    for x in samples["X"]:
        want = ort_run(op, {**vals, "X": x}, ["X", "W", "R", "B"], dict(node.attrs), 2)
        got = ops.get(op).ref_float(node, [x, inits["W"], inits["R"], inits["B"], None, None, None])
        # h is in [-1, 1]; measured max difference 1.4e-6 (float32 sums over 164 terms, 25 steps)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("op,g", [("lstm", 4), ("gru", 3)])
def test_shapes_and_macs(op, g):
    node = ref_node(op, ["X", "W", "R", "B", "", ""], {"hidden_size": 7}, 3 if op == "lstm" else 2)
    in_shapes = [(5, 1, 3), (1, g * 7, 3), (1, g * 7, 7), (1, 2 * g * 7), None, None]
    shapes = ops.get(op).infer_shape(node, in_shapes)
    assert shapes[:2] == [(5, 1, 1, 7), (1, 1, 7)]
    assert len(shapes) == len(node.outputs)
    assert ops.get(op).macs(node, in_shapes, shapes) == 5 * g * 7 * (3 + 7)


def test_activation_tables_have_257_q15_entries_over_minus8_to_8():
    for table, fn in ((rnn.SIGMOID_TABLE, lambda x: 1 / (1 + np.exp(-x))), (rnn.TANH_TABLE, np.tanh)):
        assert table.shape == (257,) and table.dtype == np.int16
        assert np.all(np.diff(table.astype(np.int64)) >= 0)
        x = -8.0 + np.arange(257) / 16
        # rounded to 1/32768; tanh(8) * 32768 rounds to 32768 and saturates to 32767
        assert np.max(np.abs(table / 32768 - fn(x))) <= 1 / 32768


def test_table_activation_is_close_to_float_over_the_whole_q3_12_range():
    x = np.arange(-32768, 32768, dtype=np.int64)
    real = x / 4096
    sig = rnn.act_q15(rnn.SIGMOID_TABLE, x) / 32768
    tanh = rnn.act_q15(rnn.TANH_TABLE, x) / 32768
    # linear interpolation with step 1/16: error <= step^2/8 * max|f''| plus rounding
    assert np.max(np.abs(sig - 1 / (1 + np.exp(-real)))) < 2e-4
    assert np.max(np.abs(tanh - np.tanh(real))) < 5e-4
    assert rnn.act_q15(rnn.TANH_TABLE, np.array([32767]))[0] == 32767
    assert rnn.act_q15(rnn.TANH_TABLE, np.array([-32768]))[0] == -32768


def test_table_interpolation_rounds_half_up_with_arithmetic_shift():
    table = np.zeros(257, np.int16)
    table[129] = -3  # entries 128 -> 129 fall by 3 over 256 steps of the input
    x = np.array([0, 1, 42, 43, 128, 255]) + (128 << 8) - 32768
    # (-3 * frac + 128) >> 8 floors: frac 42 -> 2 >> 8 = 0, 43 -> -1 >> 8 = -1 (truncation would give 0),
    # 128 -> -256 >> 8 = -1, 255 -> -637 >> 8 = -3
    assert rnn.act_q15(table, x).tolist() == [0, 0, 0, -1, -1, -3]


def one_node(op: str, lbr: int, t: int, i: int, h: int, seed: int, *, bias=True, states="input", scale=0.5):
    """A one-node float graph with initial states as graph inputs ("input"), constants or absent ("none")."""
    vals, names, attrs = rnn_case(op, t, i, h, seed, bias=bias, h0=states != "none", c0=states != "none",
                                  lbr=lbr, scale=scale)
    inputs = []
    for n in names:
        if n == "X" or (n in ("h0", "c0") and states == "input"):
            inputs.append((n, vals[n].shape))
        else:
            inputs.append((n, vals[n] if n else None))
    return graph_of(op, inputs, attrs, n_outputs=3 if op == "lstm" else 2)


def quantized_case(op: str, lbr: int = 0, states: str = "input", seed: int = 0):
    """(float graph, its int8 form, the float calibration samples) for a 6-step, I=3, H=5 node."""
    g = one_node(op, lbr, 6, 3, 5, seed, states=states)
    rng = np.random.default_rng(seed + 1)
    samples = {n: rng.uniform(-1, 1, (4, *g.tensors[n].shape)).astype(np.float32) for n in g.inputs}
    return g, quantize_graph(g, samples), samples


@pytest.mark.parametrize("op,lbr", [("lstm", 0), ("gru", 0), ("gru", 1)])
@pytest.mark.parametrize("states", ["input", "const", "none"])
def test_int8_tracks_float(op, lbr, states):
    g, q, samples = quantized_case(op, lbr, states)
    want, got = run_ref(g, samples), run_ref(q, samples)
    for name in g.outputs:
        real = quant.dequantize_array(got[name], q.tensors[name].q)
        tol = 0.05 * max(1.0, float(np.abs(want[name]).max()))  # Y_c is not bounded by 1
        assert np.max(np.abs(real - want[name])) < tol, name


@pytest.mark.parametrize("op", ["lstm", "gru"])
def test_int8_node_has_fixed_output_scale_and_int8_per_row_weights(op):
    _, q, _ = quantized_case(op)
    node = q.nodes[0]
    hidden = node.attrs["hidden_size"]
    for name in node.outputs[:2]:
        assert float(q.tensors[name].q.scale[0]) == 1 / 128 and int(q.tensors[name].q.zero_point[0]) == 0
    w, r, b = (q.tensors[n] for n in node.inputs[1:4])
    assert w.dtype == r.dtype == "int8" and w.q.axis == 1 and w.q.scale.shape == (GATES[op] * hidden,)
    assert b.dtype == "int32" and b.shape == (4 * hidden,)  # GRU: 3H gate biases, then Rb_h
    if op == "lstm":
        assert q.tensors[node.outputs[2]].q.scale[0] != 1 / 128  # Y_c keeps its calibrated range


@pytest.mark.parametrize("op,dtype_bytes,per_unit", [("lstm", 4, 12), ("lstm", 2, 8), ("gru", 4, 12), ("gru", 2, 6)])
def test_kernel_scratch_is_a_few_values_per_hidden_unit(op, dtype_bytes, per_unit):
    g, q, _ = quantized_case(op)
    call = ops.get(op).kernel(g.nodes[0] if dtype_bytes == 4 else q.nodes[0], g if dtype_bytes == 4 else q)
    # H = 5: int8 pads its int16 vectors to whole words (+4 bytes when H is odd: LDRD on the DSP path)
    assert call.scratch_bytes == per_unit * 5 + (4 if dtype_bytes == 2 else 0)
    assert call.kernel == f"tinyc_{op}_{'f32' if dtype_bytes == 4 else 's8'}"


def test_kernel_passes_absent_tensors_as_empty_names():
    g = one_node("gru", 0, 3, 2, 3, seed=1, bias=False, states="none")
    g.nodes[0].outputs[0] = ""  # Y unused, as in the KWS models
    call = ops.get("gru").kernel(g.nodes[0], g)
    assert call.args == ["X", "W", "R", "", "", "", "y1"]


def test_sequence_lens_is_unsupported_in_int8():
    g, _, _ = quantized_case("gru")
    node = g.nodes[0]
    bad = Node(node.name, node.op, node.inputs[:4] + ["lens"] + node.inputs[5:], node.outputs, node.attrs)
    with pytest.raises(UnsupportedOp, match="sequence_lens"):
        ops.get("gru").quantize(bad, quantize_graph(g, {n: np.zeros((1, *g.tensors[n].shape), np.float32)
                                                       for n in g.inputs}))


@pytest.mark.parametrize("op", ["lstm", "gru"])
def test_int8_y_h_close_to_float_on_kws_samples(op):
    g, samples, inits = real_rnn(op)
    q = quantize_graph(g, samples)
    want, got = run_ref(g, samples)["y1"], run_ref(q, samples)["y1"]
    real = quant.dequantize_array(got, q.tensors["y1"].q)
    err = np.abs(real - want).reshape(len(want), -1).max(axis=1)
    # Measured: speech sample 0.037 (gru) / 0.030 (lstm); silence sample 0.120 / 0.192, nearly all of it
    # from int8 W on its large inputs (MFCC c0 near -65); the fixed-point recurrence adds < 0.01.
    assert err[0] < 0.05, err
    assert err.max() < 0.25 and np.abs(real - want).mean() < 0.02, err
    # The classifier after the RNN (Gemm on Y_h) picks the same class.
    classes = [(h.reshape(len(h), -1) @ inits["W_o"] + inits["b_o"]).argmax(1) for h in (real, want)]
    assert np.array_equal(*classes)
