"""Memory planning pass: lifetimes of the activations and kernel scratch of a graph, and
their offsets in the one static arena. It reads the graph and never changes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from tinyc import ops, planner
from tinyc.ir import Graph, Node

ALIGNMENT = 4  # bytes: every offset suits int32/float loads on Cortex-M


@dataclass
class MemoryPlan:
    """Where each activation tensor and each kernel scratch block lives in the arena.

    offsets: tensor name, or f"{node.name}#scratch", -> byte offset (a view gets its
    base tensor's offset). arena and lower_bound are bytes, as planner.Plan: lower_bound holds
    for the chosen schedule with its in-place pairs sharing bytes; classic_lower_bound is the
    plain liveness bound of the schedule as given, without sharing. savings: bytes each trick
    took off the arena, in_place (given schedule) then op_order (same sharing, best schedule).
    """

    offsets: dict[str, int]
    arena: int
    lower_bound: int
    buffers: list[planner.Buffer]  # what was planned, for checks and printing
    classic_lower_bound: int = 0
    savings: dict[str, int] = field(default_factory=lambda: {"in_place": 0, "op_order": 0})


def scratch_name(node_name: str) -> str:
    return f"{node_name}#scratch"


def buffers_of(g: Graph) -> list[planner.Buffer]:
    """The planner's records for g: step i is g.nodes[i]; sizes in bytes (Tensor.nbytes).

    Graph inputs are alive from step 0 and graph outputs to the last step, so both sit in
    the arena where the caller writes and reads them. A view (reshape) aliases its input.
    Scratch lives only during its node's step. An output may take the bytes of the inputs
    its op allows (Op.in_place_inputs) unless that input is a graph input or output, which
    the caller reads or writes.
    """
    last_step = max(len(g.nodes) - 1, 0)
    first: dict[str, int] = {name: 0 for name in g.inputs}
    last: dict[str, int] = {}
    alias: dict[str, str] = {}
    scratch: list[planner.Buffer] = []
    in_place: dict[str, tuple[str, ...]] = {}
    for step, node in enumerate(g.nodes):
        op = ops.get(node.op)
        acts = [i for i in node.inputs if i and not g.tensors[i].is_const]
        if not op.is_view:  # never over the caller's input or output, nor over a view of them
            in_place[node.outputs[0]] = tuple(node.inputs[k] for k in op.in_place_inputs(node, g)
                                              if not _is_io(node.inputs[k], alias, g))
        for name in acts:
            last[name] = step
        for name in node.outputs:
            if name:
                first[name] = step
        if op.is_view:
            assert acts, f"view node {node.name!r} reads a constant: fold constants before planning"
            alias[node.outputs[0]] = acts[0]
            continue
        size = op.kernel(node, g).scratch_bytes
        if size > 0:
            scratch.append(planner.Buffer(scratch_name(node.name), size, step, step))
    for name in g.outputs:
        last[name] = last_step
    tensors = [
        planner.Buffer(name, g.tensors[name].nbytes, start, last.get(name, start), alias.get(name),
                       in_place.get(name, ()))
        for name, start in first.items()
    ]
    return tensors + scratch


def _is_io(name: str, alias: dict[str, str], g: Graph) -> bool:
    """Whether `name`, or the tensor it is a view of, is a graph input or output."""
    while True:
        if name in g.inputs or name in g.outputs:
            return True
        if name not in alias:
            return False
        name = alias[name]


def _growth(node: Node, g: Graph, readers: dict[str, int]) -> int:
    """Bytes running node adds: its outputs minus the activations it is the last reader of."""
    if ops.get(node.op).is_view:
        return 0
    freed = sum(g.tensors[i].nbytes for i in set(node.inputs)
                if i and readers[i] == 1 and not g.tensors[i].is_const and i not in g.outputs)
    return sum(g.tensors[o].nbytes for o in node.outputs if o) - freed


def _greedy_order(g: Graph) -> list[Node]:
    """A schedule that runs, among the ready nodes, the one that adds the fewest bytes, the
    earliest in g on a tie."""
    readers: dict[str, int] = {}
    for node in g.nodes:
        for name in set(node.inputs):
            readers[name] = readers.get(name, 0) + 1
    produced = set(g.inputs) | {n for n, t in g.tensors.items() if t.is_const}
    pending, order = list(g.nodes), []
    while pending:
        ready = [k for k, n in enumerate(pending) if all(not i or i in produced for i in n.inputs)]
        node = pending.pop(min(ready, key=lambda k: (_growth(pending[k], g, readers), k)))
        order.append(node)
        produced.update(o for o in node.outputs if o)
        for name in set(node.inputs):
            readers[name] -= 1
    return order


def _depth_first_order(g: Graph, reverse: bool) -> list[Node]:
    """A schedule that finishes each branch before the next: post-order from the graph outputs
    (then any node no output needs, as in g), a node's inputs in their order or reversed."""
    producer = {o: n for n in g.nodes for o in n.outputs if o}
    order: list[Node] = []
    seen: set[str] = set()
    roots = [producer[o] for o in g.outputs if o in producer] + list(g.nodes)
    for root in roots:
        stack = [(root, False)]
        while stack:  # explicit stack: long chains would pass Python's recursion limit
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if node.name in seen:
                continue
            seen.add(node.name)
            stack.append((node, True))
            inputs = [i for i in node.inputs if i in producer]
            for name in (inputs if reverse else reversed(inputs)):  # the stack pops the last first
                stack.append((producer[name], False))
    return order


def schedules(g: Graph) -> list[list[Node]]:
    """Candidate topological orders of g's nodes, the given one first, without repeats."""
    found: list[list[Node]] = []
    for order in (list(g.nodes), _greedy_order(g), _depth_first_order(g, False), _depth_first_order(g, True)):
        if [n.name for n in order] not in [[n.name for n in f] for f in found]:
            found.append(order)
    return found


def plan_memory(g: Graph) -> tuple[Graph, MemoryPlan]:
    """Plan the arena for g (after quantize: sizes follow the tensors' dtypes).

    Tries the schedules of `schedules` with in-place sharing and keeps the smallest arena (the
    given schedule on a tie). Returns (graph, plan): g itself when its schedule won, else a
    copy of g with its nodes in the winning order; planning changes nothing else, and the
    pair hands codegen the graph the offsets belong to.
    """
    given = buffers_of(g)
    plain, shared = planner.plan(given, ALIGNMENT, in_place=False), planner.plan(given, ALIGNMENT)
    best_g, best_buffers, best = g, given, shared
    for order in schedules(g)[1:]:
        h = replace(g, nodes=order)
        buffers = buffers_of(h)
        p = planner.plan(buffers, ALIGNMENT)
        if p.arena < best.arena:
            best_g, best_buffers, best = h, buffers, p
    assert not planner.overlaps(best_buffers, best, ALIGNMENT), "planner placed live buffers on shared bytes"
    savings = {"in_place": plain.arena - shared.arena, "op_order": shared.arena - best.arena}
    return best_g, MemoryPlan(best.offsets, best.arena, best.lower_bound, best_buffers, plain.lower_bound, savings)
