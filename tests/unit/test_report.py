"""The report (tinyc.report): report.json keys and numbers, and the text table."""

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import onnx
import pytest

from tests.helpers import graph_of, quantize_graph, random_samples
from tests.models import MODELS, model_path
from tinyc import fit, ops, pipeline, report
from tinyc.board import load_board
from tinyc.ir import Graph, Node, Tensor
from tinyc.ops import KernelCall, Op
from tinyc.passes.plan import plan_memory
from tinyc.report import build_report, format_table, measured, params_bytes

# Nested params: 4 int16 (8 B) + 3 int32 (12 B) + 3 int8 (3 B) = 23 B of arrays; ints are not counted.
PARAMS = {"n": 6, "lut": np.zeros(4, np.int16), "requant": {"multiplier": np.zeros(3, np.int32),
                                                             "shift": np.zeros(3, np.int8), "zp": 1}}
PARAMS_BYTES = 23


class FakeWeighted(Op):
    """y = x (elementwise, 1 MAC per element) with constant inputs and PARAMS arrays."""

    name = "fake_weighted"

    def infer_shape(self, node, in_shapes):
        return [in_shapes[0]]

    def macs(self, node, in_shapes, out_shapes):
        return int(np.prod(out_shapes[0]))

    def kernel(self, node, g):
        return KernelCall("tinyc_fake_f32", "tinyc_fake", "tinyc_fake_params", PARAMS, node.inputs + node.outputs,
                          node.attrs.get("scratch", 0))


@pytest.fixture
def fake_op():
    assert FakeWeighted.name not in ops.REGISTRY
    ops.REGISTRY[FakeWeighted.name] = FakeWeighted()
    yield FakeWeighted.name
    del ops.REGISTRY[FakeWeighted.name]


def small_graph(op: str) -> Graph:
    """x -n0(w)-> a -reshape-> r -n2(v, w)-> y; w (float32, 24 B, "csr") is shared, v is int8 (6 B),
    z is a constant no node reads."""
    tensors = [Tensor("x", (1, 6)), Tensor("a", (1, 6)), Tensor("r", (6,)), Tensor("y", (6,)),
               Tensor("w", (6,), data=np.ones(6, np.float32), format="csr"),
               Tensor("v", (6,), "int8", data=np.ones(6, np.int8)),
               Tensor("z", (100,), data=np.ones(100, np.float32))]
    nodes = [Node("n0", op, ["x", "w"], ["a"], {"scratch": 10}),
             Node("n1", "reshape", ["a"], ["r"], {"shape": (6,)}),
             Node("n2", op, ["r", "v", "w"], ["y"])]
    return Graph("small", {t.name: t for t in tensors}, nodes, ["x"], ["y"])


def report_of(g: Graph, **kwargs) -> dict:
    _, mem = plan_memory(g)
    return build_report(g, mem, "small", **kwargs)


def test_report_has_exactly_the_contract_keys(fake_op):
    r = report_of(small_graph(fake_op))
    assert list(r) == ["name", "board", "dtype", "macs", "ram", "flash", "fits", "layers", "measured", "accuracy",
                       "inputs", "outputs"]
    assert all(list(t) == ["name", "shape", "dtype", "scale", "zero_point"] for t in r["inputs"] + r["outputs"])
    assert list(r["ram"]) == ["arena", "lower_bound", "total", "classic_lower_bound", "savings"]
    assert list(r["ram"]["savings"]) == ["in_place", "op_order"]
    assert list(r["flash"]) == ["weights", "code", "total"]
    assert list(r["fits"]) == ["flash", "ram"]
    assert all(list(layer) == ["name", "op", "dtype", "format", "macs", "weights", "output", "offset"]
               for layer in r["layers"])
    assert json.loads(json.dumps(r)) == r  # plain JSON types only (no numpy ints)


def test_without_a_board_the_board_fields_are_null(fake_op):
    r = report_of(small_graph(fake_op))
    assert (r["board"], r["measured"], r["accuracy"]) == (None, None, None)
    assert r["flash"]["code"] is None and r["flash"]["total"] is None
    assert r["fits"] == {"flash": None, "ram": None}


def test_flash_counts_used_constants_once_plus_params_arrays(fake_op):
    r = report_of(small_graph(fake_op))
    # w 24 B once, v 6 B, z unused; two kernel calls with 23 B of params arrays each
    assert r["flash"]["weights"] == 24 + 6 + 2 * PARAMS_BYTES
    assert [layer["weights"] for layer in r["layers"]] == [24 + PARAMS_BYTES, 0, 6 + 24 + PARAMS_BYTES]


def test_layers_give_op_format_macs_output_and_offset(fake_op):
    g = small_graph(fake_op)
    _, mem = plan_memory(g)
    r = build_report(g, mem, "small")
    rows = [(x["name"], x["op"], x["format"], x["macs"], x["output"]) for x in r["layers"]]
    assert rows == [("n0", fake_op, "csr", 6, 24), ("n1", "reshape", "-", 0, 24), ("n2", fake_op, "dense", 6, 24)]
    assert [x["offset"] for x in r["layers"]] == [mem.offsets["a"], mem.offsets["a"], mem.offsets["y"]]
    assert r["macs"] == 12


def test_ram_total_is_the_arena_which_holds_the_scratch(fake_op):
    r = report_of(small_graph(fake_op))
    # step 0: x, a and n0's 10 B of scratch (rounded to 12)
    assert r["ram"] == {"arena": 24 + 24 + 12, "lower_bound": 24 + 24 + 12, "total": 24 + 24 + 12,
                        "classic_lower_bound": 24 + 24 + 12, "savings": {"in_place": 0, "op_order": 0}}


def test_with_a_board_the_report_names_it_and_fills_fits_without_raising(fake_op):
    g = small_graph(fake_op)
    weights = 24 + 6 + 2 * PARAMS_BYTES
    big = dataclasses.replace(load_board("mps2-an386"), name="tiny")
    r = report_of(g, board=big)
    assert r["board"] == "tiny" and r["fits"] == {"flash": True, "ram": True}
    assert r["flash"]["code"] is None and r["flash"]["total"] is None  # code unknown until built
    small = dataclasses.replace(big, flash_size=weights, ram_size=60)
    assert report_of(g, board=small)["fits"] == {"flash": False, "ram": False}  # no DoesNotFit here


def test_fits_uses_the_built_code_and_the_stack_allowance(fake_op):
    g = small_graph(fake_op)
    weights = 24 + 6 + 2 * PARAMS_BYTES
    exact = dataclasses.replace(load_board("mps2-an386"), flash_size=weights + 100, ram_size=60 + fit.STACK_BYTES)
    r = report_of(g, board=exact, code=100)
    assert r["flash"] == {"weights": weights, "code": 100, "total": weights + 100}
    assert r["fits"] == {"flash": True, "ram": True}
    short = dataclasses.replace(exact, flash_size=weights + 99, ram_size=59 + fit.STACK_BYTES)
    assert report_of(g, board=short, code=100)["fits"] == {"flash": False, "ram": False}


SIZES = {"text": 3000, "rodata": 500, "data": 8, "bss": 64, "stack": 700}


def test_measured_fills_the_contract_keys_from_elf_sizes(fake_op):
    r = report_of(small_graph(fake_op))
    m = measured(r, SIZES, 12_345)
    assert r["measured"] is None  # a copy: the report given is unchanged
    assert list(m) == list(r) and m["ram"] == r["ram"]
    assert m["measured"] == {"text": 3000, "rodata": 500, "data": 8, "bss": 64, "flash": 3000 + 500 + 8,
                             "ram": 8 + 64 + 700, "instructions": 12_345}
    assert measured(r, SIZES, None)["measured"]["instructions"] is None
    assert json.loads(json.dumps(m)) == m
    with pytest.raises(AssertionError, match="stack"):
        measured(r, {k: v for k, v in SIZES.items() if k != "stack"}, None)


def test_table_shows_planned_vs_measured_per_part_and_the_instruction_count(fake_op):
    g = small_graph(fake_op)
    b = load_board("mps2-an386")
    r = measured(report_of(g, board=b, code=2000), SIZES, 1_234_567)
    text = format_table(r)
    rows = {" ".join(line.split()[:2]): line.split()[2:] for line in text.splitlines()}
    stack = fit.STACK_BYTES
    assert rows["flash weights"] == ["76", "rodata", "500", "+424"]
    assert rows["code 2,000"] == ["text", "+", "data", "3,008", "+1,008"]
    assert rows["total 2,076"] == ["flash", "3,508", "+1,432"]
    assert rows["RAM arena"] == ["60", "data", "+", "bss", "72", "+12"]
    assert rows[f"stack {stack:,}"] == ["stack", "used", "700", f"{700 - stack:+,}"]
    assert rows[f"total {60 + stack:,}"] == ["ram", "772", f"{772 - 60 - stack:+,}"]
    assert "instructions (QEMU -icount, not cycles)  1,234,567 per inference" in text
    assert format_table(r) == text


def test_table_estimates_code_only_with_the_board(fake_op):
    b = load_board("mps2-an386")
    r = measured(report_of(small_graph(fake_op), board=b), SIZES, None)
    code = fit.estimated_code_bytes(r, b)
    with_board = format_table(r, b)
    assert [line.split()[:2] for line in with_board.splitlines() if line.lstrip().startswith("code")] == \
        [["code", f"~{code:,}"]]
    assert f"plan       flash {76 + code:,} of 4,194,304 B (weights 76 B + code ~{code:,} B estimated)" in with_board
    without = format_table(r)
    assert "plan " not in without
    assert [line.split()[:3] for line in without.splitlines() if line.lstrip().startswith("code")] == \
        [["code", "-", "text"]]
    assert "instructions (QEMU -icount, not cycles)  -" in without


def test_int8_dense_counts_int8_weights_int32_bias_and_requant_arrays():
    g = graph_of("dense", [("x", (1, 7)), ("w", np.ones((5, 7), np.float32)), ("b", np.ones(5, np.float32))])
    q = quantize_graph(g, random_samples(g, 4))
    r = report_of(q)
    assert r["dtype"] == "int8" and report_of(g)["dtype"] == "float32"
    # w 5x7 int8 + multiplier, shift and the bias with the zero-point term folded in, 5 int32 each
    # (the bias array itself is not emitted: the kernel reads bias_folded)
    assert r["flash"]["weights"] == 35 + 20 + 20 + 20
    assert r["layers"][0]["macs"] == r["macs"] == 35
    assert r["ram"]["arena"] == 8 + 8  # x (7 B) and y (5 B), each rounded to 4 bytes


def test_params_bytes_walks_nested_structs():
    assert params_bytes(PARAMS) == PARAMS_BYTES
    assert params_bytes({"a": 1, "b": 2.0}) == 0


def test_table_lists_header_layers_and_totals(fake_op):
    g = small_graph(fake_op)
    g.nodes[0].name = "a_very_long_node_name_that_goes_on_and_on_and_on"
    text = format_table(report_of(g))
    lines = text.splitlines()
    assert lines[0].split() == ["model", "small"]
    assert "arena 60 B (lower bound 60 B), total 60 B" in text
    assert "weights 76 B, code - B, total - B" in text
    assert "fits       flash unknown, RAM unknown" in text
    rows = [line.split() for line in lines if line.startswith(("0 ", "1 ", "2 ", "total"))]
    assert rows == [["0", "a_very_long_node_name_that_...", fake_op, "csr", "6", "47", "24", "0"],
                    ["1", "n1", "reshape", "-", "0", "0", "24", "0"],
                    ["2", "n2", fake_op, "dense", "6", "53", "24", rows[2][-1]],
                    ["total", "12", "76"]]
    assert format_table(report_of(g)) == text


def test_layer_labels_are_the_index_and_the_distinctive_tail_of_the_name():
    kws = ("functional_1/activation_3/Relu;functional_1/depthwise_conv2d_1/BiasAdd;"
           "functional_1/depthwise_conv2d_1/depthwise")
    assert report.layer_label(4, kws) == "4 depthwise_conv2d_1"
    assert report.layer_label(0, "/features/features.0/features.0.0/Conv") == "0 features.0.0"
    assert report.layer_label(7, "fc1") == "7 fc1"
    assert len(report.layer_label(1, "a/" + "x" * 80 + "/Conv")) <= 32


@pytest.mark.parametrize("name", MODELS)
def test_table_labels_of_the_shared_models_are_unique_and_short(name):
    compiled = pipeline.build(model_path(name), pipeline.Options(dtype="float32"))
    doc = pipeline.report_of(compiled)
    assert [layer["name"] for layer in doc["layers"]] == [n.name for n in compiled.graph.nodes]  # full names kept
    table = report.format_table(doc).splitlines()
    start = next(i for i, line in enumerate(table) if line.startswith("layer")) + 2
    labels = [line.split("  ")[0].strip() for line in table[start:start + len(doc["layers"])]]
    assert len(set(labels)) == len(labels) == len(doc["layers"])
    assert all(len(label) <= 32 and ";" not in label for label in labels)


DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits_cnn.onnx"


def header_macros(path: Path) -> dict[str, str]:
    """Every `#define NAME VALUE` of a C header, read as text."""
    return dict(re.findall(r"^#define (\w+) (.+)$", path.read_text(), re.MULTILINE))


def onnx_io(path: Path) -> tuple[list, list]:
    """(name, shape) of the ONNX file's graph inputs and outputs, as onnx reads them."""
    graph = onnx.load(str(path)).graph
    inits = {i.name for i in graph.initializer}

    def shape(v):
        return [d.dim_value for d in v.type.tensor_type.shape.dim]

    return ([(v.name, shape(v)) for v in graph.input if v.name not in inits],
            [(v.name, shape(v)) for v in graph.output])


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_report_names_the_io_as_the_header_defines_it(tmp_path, dtype):
    g = pipeline.frontend(DIGITS)
    with np.load(DIGITS.with_name("digits_calib_cnn.npz")) as data:
        calib = {g.inputs[0]: data["input"]}
    doc = pipeline.write(pipeline.build(DIGITS, pipeline.Options(dtype=dtype, calib=calib, name="digits")),
                         tmp_path / "out")
    assert json.loads((tmp_path / "out" / "report.json").read_text())["inputs"] == doc["inputs"]
    macros = header_macros(tmp_path / "out" / "digits.h")
    inputs, outputs = onnx_io(DIGITS)
    for kind, want in (("INPUT", inputs), ("OUTPUT", outputs)):
        got = doc[kind.lower() + "s"]
        assert [(t["name"], t["shape"]) for t in got] == want
        for i, t in enumerate(got):
            assert t["dtype"] == dtype
            assert int(macros[f"DIGITS_{kind}{i}_SIZE"]) == int(np.prod(t["shape"]))
            if dtype == "int8":
                scale = np.float32(macros[f"DIGITS_{kind}{i}_SCALE"].rstrip("f"))  # the literal, as cc reads it
                assert t["scale"] == float(scale) > 0
                assert t["zero_point"] == int(macros[f"DIGITS_{kind}{i}_ZERO_POINT"])
            else:
                assert t["scale"] is None and t["zero_point"] is None
                assert f"DIGITS_{kind}{i}_SCALE" not in macros
