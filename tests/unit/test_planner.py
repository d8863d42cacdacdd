"""The graph-free planner (tinyc.planner) and the planning pass (tinyc.passes.plan)."""

import random
from pathlib import Path

import numpy as np
import onnx
import pytest

from tests.models import MODELS_DIR
from tinyc import ops, planner
from tinyc.ir import Graph, Node, Tensor
from tinyc.ops import KernelCall, Op
from tinyc.passes.plan import buffers_of, plan_memory
from tinyc.planner import Buffer

MODELS = MODELS_DIR


# ---- hand-written lifetimes ----

def test_chain_reuses_bytes_of_dead_buffers():
    bufs = [Buffer("a", 100, 0, 1), Buffer("b", 60, 1, 2), Buffer("c", 100, 2, 3)]
    p = planner.plan(bufs)
    assert p.offsets == {"a": 0, "b": 100, "c": 0}
    assert p.arena == p.lower_bound == 160


def test_sizes_round_up_to_alignment_and_so_does_the_lower_bound():
    p = planner.plan([Buffer("x", 5, 0, 0), Buffer("y", 3, 0, 0)])
    assert p.offsets == {"x": 0, "y": 8}
    assert p.arena == p.lower_bound == 12
    assert planner.plan([Buffer("x", 5, 0, 0), Buffer("y", 3, 0, 0)], alignment=1).arena == 8


def test_view_shares_its_base_offset_and_extends_its_lifetime():
    bufs = [Buffer("x", 64, 0, 1), Buffer("v", 64, 1, 3, alias_of="x"), Buffer("y", 32, 2, 2)]
    p = planner.plan(bufs)
    assert p.offsets == {"x": 0, "v": 0, "y": 64}  # x must outlive step 1: y cannot take its bytes
    assert p.arena == p.lower_bound == 96


def test_view_of_a_view_resolves_to_the_first_base():
    bufs = [Buffer("x", 16, 0, 0), Buffer("v", 16, 1, 1, "x"), Buffer("w", 8, 2, 4, "v"), Buffer("y", 16, 3, 3)]
    p = planner.plan(bufs)
    assert p.offsets["w"] == p.offsets["v"] == p.offsets["x"]
    assert p.lower_bound == 32 and not planner.overlaps(bufs, p)


def test_another_order_wins_where_largest_first_fragments():
    # The VWW pattern: a big input dies at step 0, the largest tensor comes later.
    bufs = [Buffer("in", 12, 0, 0), Buffer("a", 8, 0, 1), Buffer("b", 8, 1, 2), Buffer("c", 16, 2, 3),
            Buffer("d", 4, 3, 3)]
    bases, _ = planner.resolve(bufs)
    largest_first = planner._first_fit(sorted(bases, key=planner.ORDERS["size"]))
    assert max(largest_first[b.name] + b.size for b in bases) == 28
    p = planner.plan(bufs)
    assert p.arena == p.lower_bound == 24


def test_empty_plan_has_no_arena():
    assert planner.plan([]) == planner.Plan({}, 0, 0)


def test_bad_records_are_assertion_errors():
    with pytest.raises(AssertionError, match="unknown"):
        planner.plan([Buffer("v", 4, 0, 0, alias_of="nope")])
    with pytest.raises(AssertionError, match="larger than its base"):
        planner.plan([Buffer("x", 4, 0, 0), Buffer("v", 8, 1, 1, alias_of="x")])
    with pytest.raises(AssertionError, match="lifetime"):
        planner.plan([Buffer("x", 4, 2, 1)])


# ---- seeded random lifetimes ----

def random_buffers(rng: random.Random, n: int, aliases: bool) -> list[Buffer]:
    bufs: list[Buffer] = []
    for i in range(n):
        first = rng.randrange(0, 12)
        last = first + rng.randrange(0, 5)
        if aliases and bufs and rng.random() < 0.25:
            base = rng.choice(bufs)
            bufs.append(Buffer(f"v{i}", rng.randint(1, base.size), first, last, base.name))
        else:
            bufs.append(Buffer(f"b{i}", rng.randint(1, 300), first, last))
    return bufs


@pytest.mark.parametrize("aliases", [False, True])
def test_random_plans_never_overlap_and_sit_between_the_bounds(aliases):
    rng = random.Random(1234)
    for _ in range(300):
        bufs = random_buffers(rng, rng.randint(1, 25), aliases)
        p = planner.plan(bufs)
        assert planner.overlaps(bufs, p) == []
        assert all(o % 4 == 0 for o in p.offsets.values())
        assert set(p.offsets) == {b.name for b in bufs}
        assert p.lower_bound <= p.arena <= planner.linear_plan(bufs).arena


def test_plan_does_not_depend_on_record_order():
    rng = random.Random(7)
    for _ in range(50):
        bufs = random_buffers(rng, 15, aliases=True)
        shuffled = bufs[:]
        rng.shuffle(shuffled)
        assert planner.plan(shuffled) == planner.plan(bufs)


def test_overlap_checker_catches_a_bad_plan():
    bufs = [Buffer("a", 8, 0, 1), Buffer("b", 8, 1, 2), Buffer("c", 8, 2, 2)]
    bad = planner.Plan({"a": 0, "b": 4, "c": 12}, 20, 16)  # c clear of b; a and b share 4 bytes
    assert planner.overlaps(bufs, bad) == [("a", "b")]


def test_linear_plan_gives_every_buffer_its_own_bytes():
    p = planner.linear_plan([Buffer("a", 3, 0, 0), Buffer("b", 8, 5, 5), Buffer("v", 8, 6, 6, "b")])
    assert p.offsets == {"a": 0, "b": 4, "v": 4} and p.arena == 12


# ---- the MLPerf Tiny schedules ----

def onnx_buffers(path: Path, itemsize: int) -> list[Buffer]:
    """The activation lifetimes of a model after simplify, read straight from the ONNX:
    Relu/Clip and bias Add fuse into their producer, Reshape/Flatten are views, one step per
    remaining node, input alive from step 0 and output to the last step."""
    g = onnx.shape_inference.infer_shapes(onnx.load(path)).graph
    infos = [*g.value_info, *g.input, *g.output]
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in infos}
    consts = {i.name for i in g.initializer}
    fused_into: dict[str, str] = {}
    steps = []
    for n in g.node:
        acts = [fused_into.get(i, i) for i in n.input if i and i not in consts]
        if not acts:  # folded constant (mnist reshapes a weight)
            consts.update(n.output)
        elif n.op_type in ("Relu", "Clip") or (n.op_type == "Add" and len(acts) == 1):
            fused_into[n.output[0]] = acts[0]
        else:
            steps.append((n.op_type in ("Reshape", "Flatten"), acts, [o for o in n.output if o]))
    outputs = {fused_into.get(o.name, o.name) for o in g.output}
    first = {i.name: 0 for i in g.input if i.name not in consts}
    last: dict[str, int] = {}
    alias: dict[str, str] = {}
    for s, (view, acts, produced) in enumerate(steps):
        last.update({a: s for a in acts})
        for o in produced:
            first[o] = s
            if view:
                alias[o] = acts[0]
    end = len(steps) - 1
    return [Buffer(t, int(np.prod(shapes[t])) * itemsize, f, end if t in outputs else last.get(t, f), alias.get(t))
            for t, f in first.items()]


needs_models = pytest.mark.skipif(not MODELS.is_dir(), reason=f"models not found at {MODELS}")

# int8 arena = lower bound. TFLM's own greedy plan (models/README, "head"): ResNet-8 49,152,
# KWS 16,000, AD 768, VWW 73,728; on VWW this schedule's true peak is only 55,296 (the
# 48x48x8 -> 48x48x16 pointwise conv), and largest-first alone would give 64,512.
MLPERF_INT8_ARENA = {"ic_resnet8": 49_152, "kws_dscnn": 16_000, "ad_fc_autoencoder": 768, "vww_mobilenetv1": 55_296}


@needs_models
@pytest.mark.parametrize("model", sorted(MLPERF_INT8_ARENA))
def test_mlperf_tiny_int8_arena_equals_the_lower_bound(model):
    bufs = onnx_buffers(MODELS / f"{model}.onnx", itemsize=1)
    p = planner.plan(bufs)
    assert planner.overlaps(bufs, p) == []
    assert p.arena == p.lower_bound == MLPERF_INT8_ARENA[model]


@needs_models
@pytest.mark.parametrize("model", sorted(p.stem for p in MODELS.glob("*.onnx")))
@pytest.mark.parametrize("itemsize", [1, 4])
def test_every_shared_model_is_within_five_percent_of_the_lower_bound(model, itemsize):
    bufs = onnx_buffers(MODELS / f"{model}.onnx", itemsize)
    p = planner.plan(bufs)
    assert planner.overlaps(bufs, p) == []
    assert p.lower_bound <= p.arena <= 1.05 * p.lower_bound


# ---- the pass, on hand-built IR ----

class FakeScratchOp(Op):
    """y = x with an elementwise kernel asking for attrs["scratch"] bytes of scratch."""

    name = "fake_scratch"

    def infer_shape(self, node, in_shapes):
        return [in_shapes[0]]

    def kernel(self, node, g):
        return KernelCall("tinyc_fake_f32", "tinyc_fake", "tinyc_fake_params",
                          {"table": np.zeros(3, np.int32)}, node.inputs + node.outputs, node.attrs.get("scratch", 0))


@pytest.fixture
def fake_op():
    assert FakeScratchOp.name not in ops.REGISTRY
    ops.REGISTRY[FakeScratchOp.name] = FakeScratchOp()
    yield FakeScratchOp.name
    del ops.REGISTRY[FakeScratchOp.name]


def graph(nodes: list[Node], tensors: list[Tensor], inputs: list[str], outputs: list[str]) -> Graph:
    return Graph("g", {t.name: t for t in tensors}, nodes, inputs, outputs)


def test_pass_plans_io_views_and_scratch(fake_op):
    # x -f0-> a -reshape-> r -f1(+scratch)-> b -f2-> y ; w is a constant f1 also reads
    tensors = [Tensor("x", (1, 10)), Tensor("a", (1, 10)), Tensor("r", (10,)), Tensor("b", (10,)),
               Tensor("y", (10,), "int8"), Tensor("w", (10,), data=np.ones(10, np.float32))]
    nodes = [Node("f0", fake_op, ["x"], ["a"]),
             Node("view", "reshape", ["a"], ["r"], {"shape": (10,)}),
             Node("f1", fake_op, ["r", "w"], ["b"], {"scratch": 6}),
             Node("f2", fake_op, ["b"], ["y"])]
    g = graph(nodes, tensors, ["x"], ["y"])
    recs = {b.name: b for b in buffers_of(g)}
    assert recs == {
        "x": Buffer("x", 40, 0, 0), "a": Buffer("a", 40, 0, 1), "r": Buffer("r", 40, 1, 2, "a"),
        "b": Buffer("b", 40, 2, 3), "y": Buffer("y", 10, 3, 3), "f1#scratch": Buffer("f1#scratch", 6, 2, 2),
    }
    planned, mem = plan_memory(g)
    assert planned is g
    assert "w" not in mem.offsets  # constants live in flash
    assert mem.offsets["r"] == mem.offsets["a"]
    assert mem.lower_bound == 40 + 40 + 8  # a (through its view r), b and the rounded scratch at step 2
    assert mem.arena == mem.lower_bound
    assert planner.overlaps(mem.buffers, planner.Plan(mem.offsets, mem.arena, mem.lower_bound)) == []


def test_graph_input_and_output_stay_alive_for_the_whole_schedule(fake_op):
    # x is read only by the first node and a only by the third, yet x keeps its bytes until the
    # caller has written it (step 0) and y until the caller reads it (last step).
    tensors = [Tensor("x", (4,)), Tensor("a", (4,)), Tensor("b", (4,)), Tensor("y", (4,)), Tensor("c", (4,))]
    nodes = [Node("n0", fake_op, ["x"], ["a"]), Node("n1", fake_op, ["a"], ["y"]),
             Node("n2", fake_op, ["a"], ["b"]), Node("n3", fake_op, ["b"], ["c"])]
    g = graph(nodes, tensors, ["x"], ["y", "c"])
    recs = {b.name: (b.first, b.last) for b in buffers_of(g)}
    assert recs == {"x": (0, 0), "a": (0, 2), "y": (1, 3), "b": (2, 3), "c": (3, 3)}


def test_view_of_a_constant_is_refused(fake_op):
    tensors = [Tensor("w", (4,), data=np.zeros(4, np.float32)), Tensor("r", (2, 2))]
    g = graph([Node("view", "reshape", ["w"], ["r"], {"shape": (2, 2)})], tensors, [], ["r"])
    with pytest.raises(AssertionError, match="fold constants"):
        plan_memory(g)
