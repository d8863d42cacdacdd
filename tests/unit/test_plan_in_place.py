"""In-place sharing and schedule choice in the memory planner (tinyc.planner, tinyc.passes.plan):
bytes saved, computed by hand; the overlap check accepts exactly the in-place pairs; lower bounds."""

from __future__ import annotations

import random

import pytest

from tests.unit.test_planner import fake_op, graph, random_buffers  # noqa: F401  (fake_op is a fixture)
from tinyc import planner
from tinyc.ir import Graph, Node, Tensor
from tinyc.passes.plan import buffers_of, plan_memory, schedules
from tinyc.planner import Buffer

# ---- records ----


def test_in_place_output_takes_the_bytes_of_its_dying_input():
    # a (100 B) dies at step 1 where b (100 B) is born; c (40 B) meets only b.
    bufs = [Buffer("a", 100, 0, 1), Buffer("b", 100, 1, 2, in_place_of=("a",)), Buffer("c", 40, 2, 3)]
    p = planner.plan(bufs)
    assert p.offsets == {"a": 0, "b": 0, "c": 100}
    # without sharing, step 1 holds a and b: 200 B; with it the peak is b + c at step 2
    assert (p.arena, p.lower_bound, p.classic_lower_bound, p.in_place) == (140, 140, 200, 60)
    assert planner.plan(bufs, in_place=False).arena == 200
    assert planner.overlaps(bufs, p) == []


def test_permission_is_ignored_when_the_input_lives_on_or_sizes_differ():
    lives_on = [Buffer("a", 100, 0, 2), Buffer("b", 100, 1, 2, in_place_of=("a",))]
    other_size = [Buffer("a", 100, 0, 1), Buffer("b", 96, 1, 2, in_place_of=("a",))]
    for bufs in (lives_on, other_size):
        p = planner.plan(bufs)
        assert p.in_place == 0 and p.offsets["a"] != p.offsets["b"] and p.lower_bound == p.classic_lower_bound


def test_a_view_of_the_dying_input_counts_as_that_input():
    bufs = [Buffer("a", 64, 0, 0), Buffer("v", 64, 1, 1, alias_of="a"),
            Buffer("b", 64, 1, 2, in_place_of=("v",))]
    p = planner.plan(bufs)
    assert p.offsets == {"a": 0, "v": 0, "b": 0} and p.arena == 64 and p.in_place == 64


def test_a_chain_of_in_place_ops_shares_one_block():
    bufs = [Buffer("x", 8, 0, 0), Buffer("a", 32, 0, 1), Buffer("b", 32, 1, 2, in_place_of=("a",)),
            Buffer("c", 32, 2, 3, in_place_of=("b",)), Buffer("d", 8, 3, 3)]
    p = planner.plan(bufs)
    assert p.offsets["a"] == p.offsets["b"] == p.offsets["c"]
    assert (p.arena, p.lower_bound, p.classic_lower_bound) == (40, 40, 64)


def test_overlap_check_accepts_exactly_the_in_place_pairs():
    bufs = [Buffer("a", 16, 0, 1), Buffer("b", 16, 1, 2, in_place_of=("a",)), Buffer("c", 16, 1, 2)]
    assert planner.overlaps(bufs, planner.Plan({"a": 0, "b": 0, "c": 16}, 32, 32)) == []
    assert planner.overlaps(bufs, planner.Plan({"a": 0, "b": 4, "c": 20}, 36, 32)) == [("a", "b")]  # shifted
    assert planner.overlaps(bufs, planner.Plan({"a": 0, "b": 16, "c": 0}, 32, 32)) == [("a", "c")]  # no permission


def test_random_permissions_keep_plans_valid_and_bounds_below_the_arena():
    rng = random.Random(3)
    for _ in range(200):
        bufs = random_buffers(rng, 12, aliases=True)
        names = [b.name for b in bufs]
        bufs = [Buffer(b.name, b.size, b.first, b.last, b.alias_of,
                       tuple(rng.sample(names, 2)) if rng.random() < 0.5 else ()) for b in bufs]
        p, plain = planner.plan(bufs), planner.plan(bufs, in_place=False)
        assert planner.overlaps(bufs, p) == []
        assert p.lower_bound <= p.arena <= plain.arena and p.lower_bound <= p.classic_lower_bound
        assert p.in_place == plain.arena - p.arena and p.classic_lower_bound == plain.lower_bound


# ---- graphs ----


def test_relu_in_place_saves_its_input_bytes(fake_op):  # noqa: F811
    # x (4 B) -f-> a (100 B) -relu-> b (100 B) -f-> c (40 B): b may take a's bytes
    tensors = [Tensor("x", (1, 1)), Tensor("a", (1, 25)), Tensor("b", (1, 25)), Tensor("c", (1, 10))]
    nodes = [Node("f0", fake_op, ["x"], ["a"]), Node("relu", "unary", ["a"], ["b"], {"fn": "relu"}),
             Node("f1", fake_op, ["b"], ["c"])]
    g = graph(nodes, tensors, ["x"], ["c"])
    assert {b.name: b.in_place_of for b in buffers_of(g)} == {"x": (), "a": (), "b": ("a",), "c": ()}
    _, mem = plan_memory(g)
    assert mem.offsets["a"] == mem.offsets["b"]
    assert (mem.arena, mem.lower_bound, mem.classic_lower_bound) == (140, 140, 200)  # b + c; a + b
    assert mem.savings == {"in_place": 60, "op_order": 0}


def test_graph_inputs_and_outputs_are_never_overwritten(fake_op):  # noqa: F811
    tensors = [Tensor("x", (1, 8)), Tensor("a", (1, 8)), Tensor("y", (1, 8))]
    nodes = [Node("relu", "unary", ["x"], ["a"], {"fn": "relu"}), Node("add", "add", ["a", "a"], ["y"])]
    g = graph(nodes, tensors, ["x"], ["y", "a"])
    assert all(b.in_place_of == () for b in buffers_of(g))


def test_a_view_of_a_graph_input_is_never_overwritten():
    # GroupNormalization reshapes the input, then normalizes the view: that write must not land on x
    tensors = [Tensor("x", (1, 8)), Tensor("v", (2, 4)), Tensor("y", (2, 4))]
    nodes = [Node("view", "reshape", ["x"], ["v"], {"shape": (2, 4)}),
             Node("relu", "unary", ["v"], ["y"], {"fn": "relu"})]
    g = graph(nodes, tensors, ["x"], ["y"])
    assert all(b.in_place_of == () for b in buffers_of(g))


def branchy(op: str, order: list[str]) -> Graph:
    """x splits into two branches, each a 100 B tensor then a 4 B one, joined by an add."""
    tensors = [Tensor(n, (1, 25) if n.endswith("1") else (1, 1)) for n in ("x", "a1", "a2", "b1", "b2", "y")]
    nodes = {"na1": Node("na1", op, ["x"], ["a1"]), "na2": Node("na2", op, ["a1"], ["a2"]),
             "nb1": Node("nb1", op, ["x"], ["b1"]), "nb2": Node("nb2", op, ["b1"], ["b2"]),
             "join": Node("join", "add", ["a2", "b2"], ["y"], {"act": None})}
    return graph([nodes[n] for n in order], tensors, ["x"], ["y"])


def test_running_one_branch_to_its_end_first_lowers_the_peak(fake_op):  # noqa: F811
    g = branchy(fake_op, ["na1", "nb1", "na2", "nb2", "join"])
    planned, mem = plan_memory(g)
    # as given, steps 1 and 2 hold 204 B (x, a1, b1; a1, b1, a2); a branch at a time peaks at
    # x + a1 + a2 = x + a2 + b1 = a2 + b1 + b2 = 108 B
    assert [n.name for n in planned.nodes] == ["na1", "na2", "nb1", "nb2", "join"]
    assert (mem.arena, mem.lower_bound, mem.classic_lower_bound) == (108, 108, 204)
    assert mem.savings == {"in_place": 0, "op_order": 96}
    assert planner.overlaps(mem.buffers, planner.Plan(mem.offsets, mem.arena, mem.lower_bound)) == []


def test_schedules_are_topological_and_the_given_one_wins_ties(fake_op):  # noqa: F811
    g = branchy(fake_op, ["na1", "na2", "nb1", "nb2", "join"])
    for order in schedules(g):
        seen = set(g.inputs)
        for node in order:
            assert all(i in seen for i in node.inputs)
            seen.update(node.outputs)
    planned, mem = plan_memory(g)
    assert planned is g and mem.savings == {"in_place": 0, "op_order": 0}


@pytest.mark.parametrize("seed", range(3))
def test_plans_do_not_depend_on_anything_but_the_graph(fake_op, seed):  # noqa: F811
    g = branchy(fake_op, ["nb1", "na1", "nb2", "na2", "join"])
    assert plan_memory(g)[1] == plan_memory(g)[1]
