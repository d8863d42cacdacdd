"""Memory planning pass: lifetimes of the activations and kernel scratch of a graph, and
their offsets in the one static arena. It reads the graph and never changes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinyc import ops, planner
from tinyc.ir import Graph

ALIGNMENT = 4  # bytes: every offset suits int32/float loads on Cortex-M


@dataclass
class MemoryPlan:
    """Where each activation tensor and each kernel scratch block lives in the arena.

    offsets: tensor name, or f"{node.name}#scratch", -> byte offset (a view gets its
    base tensor's offset). arena and lower_bound are bytes, as planner.Plan.
    """

    offsets: dict[str, int]
    arena: int
    lower_bound: int
    buffers: list[planner.Buffer]  # what was planned, for checks and printing


def scratch_name(node_name: str) -> str:
    return f"{node_name}#scratch"


def buffers_of(g: Graph) -> list[planner.Buffer]:
    """The planner's records for g: step i is g.nodes[i]; sizes in bytes (Tensor.nbytes).

    Graph inputs are alive from step 0 and graph outputs to the last step, so both sit in
    the arena where the caller writes and reads them. A view (reshape) aliases its input.
    Scratch lives only during its node's step.
    """
    last_step = max(len(g.nodes) - 1, 0)
    first: dict[str, int] = {name: 0 for name in g.inputs}
    last: dict[str, int] = {}
    alias: dict[str, str] = {}
    scratch: list[planner.Buffer] = []
    for step, node in enumerate(g.nodes):
        op = ops.get(node.op)
        acts = [i for i in node.inputs if i and not g.tensors[i].is_const]
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
        planner.Buffer(name, g.tensors[name].nbytes, start, last.get(name, start), alias.get(name))
        for name, start in first.items()
    ]
    return tensors + scratch


def plan_memory(g: Graph) -> tuple[Graph, MemoryPlan]:
    """Plan the arena for g (after quantize: sizes follow the tensors' dtypes).

    Returns (g, plan): g itself, unchanged (planning is an analysis; the pair keeps the
    pass shape of the pipeline and hands codegen the graph the offsets belong to).
    """
    buffers = buffers_of(g)
    p = planner.plan(buffers, ALIGNMENT)
    assert not planner.overlaps(buffers, p, ALIGNMENT), "planner placed live buffers on shared bytes"
    return g, MemoryPlan(p.offsets, p.arena, p.lower_bound, buffers)
