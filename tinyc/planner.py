"""Static memory planner: offsets in one arena for buffers with known lifetimes.

Graph-free, like TFLM's greedy memory planner: it sees only (name, size, first, last,
alias_of) records. It never reads the IR; tinyc/passes/plan.py builds the records.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Buffer:
    """A block of `size` bytes alive from schedule step `first` to `last`, both inclusive.

    With alias_of set the buffer owns no bytes: it is a view of that buffer (a reshape),
    at the same offset, and the base stays alive as long as any of its views.
    """

    name: str
    size: int
    first: int
    last: int
    alias_of: str | None = None


@dataclass
class Plan:
    offsets: dict[str, int]  # byte offset of every buffer (a view gets its base's offset)
    arena: int  # bytes
    lower_bound: int  # bytes: the largest sum of (rounded) sizes alive at one step


def _round_up(n: int, alignment: int) -> int:
    return -(-n // alignment) * alignment


def resolve(buffers: list[Buffer], alignment: int = 4) -> tuple[list[Buffer], dict[str, str]]:
    """The bases (non-alias buffers) with lifetimes extended over their views and sizes
    rounded up to `alignment`, sorted by name; and each buffer's base name."""
    by_name = {b.name: b for b in buffers}
    assert len(by_name) == len(buffers), "buffer names must be unique"
    base_of: dict[str, str] = {}
    for b in buffers:
        root, seen = b, {b.name}
        while root.alias_of is not None:  # a view of a view shares the first base's bytes
            assert root.alias_of in by_name, f"buffer {root.name!r} aliases unknown {root.alias_of!r}"
            root = by_name[root.alias_of]
            assert root.name not in seen, f"alias cycle through {root.name!r}"
            seen.add(root.name)
        assert b.size <= root.size, f"view {b.name!r} ({b.size} B) is larger than its base {root.name!r}"
        assert 0 <= b.first <= b.last, f"buffer {b.name!r}: bad lifetime [{b.first}, {b.last}]"
        base_of[b.name] = root.name
    span: dict[str, tuple[int, int]] = {}
    for b in buffers:
        lo, hi = span.get(base_of[b.name], (b.first, b.last))
        span[base_of[b.name]] = (min(lo, b.first), max(hi, b.last))
    bases = [Buffer(n, _round_up(by_name[n].size, alignment), *span[n]) for n in sorted(span)]
    return bases, base_of


def lower_bound(bases: list[Buffer]) -> int:
    """max over steps of the bytes alive at that step: no plan of these lifetimes can do better."""
    # The sum only changes where a buffer starts, so checking those steps is enough.
    return max((sum(b.size for b in bases if b.first <= s <= b.last) for s in {b.first for b in bases}), default=0)


def _first_fit(bases: list[Buffer]) -> dict[str, int]:
    """Place each buffer, in the given order, at the lowest offset clear of every placed
    buffer whose lifetime intersects its own (TFLM's GreedyMemoryPlanner, step by step)."""
    placed: list[tuple[Buffer, int]] = []
    offsets: dict[str, int] = {}
    for b in bases:
        busy = sorted((o, o + p.size) for p, o in placed if p.first <= b.last and b.first <= p.last)
        offset = 0
        for start, end in busy:  # sorted by start: the first gap wide enough wins
            if start - offset >= b.size:
                break
            offset = max(offset, end)
        offsets[b.name] = offset
        placed.append((b, offset))
    return offsets


# Orders the greedy tries; each key is total (the name breaks ties), so plans are deterministic.
# Largest first is TFLM's choice; the others win on schedules where a long-lived small buffer
# would otherwise end up in the middle of the arena.
ORDERS = {
    "size": lambda b: (-b.size, b.first, b.name),
    "first_use": lambda b: (b.first, -b.size, b.name),
    "area": lambda b: (-b.size * (b.last - b.first + 1), b.first, b.name),
    "lifetime": lambda b: (-(b.last - b.first), -b.size, b.name),
}


def _finish(buffers: list[Buffer], bases: list[Buffer], base_of: dict[str, str], offsets: dict[str, int]) -> Plan:
    arena = max((offsets[b.name] + b.size for b in bases), default=0)
    return Plan({b.name: offsets[base_of[b.name]] for b in buffers}, arena, lower_bound(bases))


def plan(buffers: list[Buffer], alignment: int = 4) -> Plan:
    """Offsets (multiples of `alignment`) so that no two buffers alive at one step overlap.

    Sizes are rounded up to `alignment` before placement, and the lower bound is computed
    on the same rounded sizes, so `lower_bound <= arena` compares like with like.
    Greedy first fit over a few orders (ORDERS); the smallest arena wins, the first order
    on a tie. Not optimal in general (the problem is NP-hard), but on the MLPerf Tiny
    schedules it reaches the lower bound.
    """
    bases, base_of = resolve(buffers, alignment)
    best: dict[str, int] | None = None
    best_arena = 0
    for key in ORDERS.values():
        offsets = _first_fit(sorted(bases, key=key))
        arena = max((offsets[b.name] + b.size for b in bases), default=0)
        if best is None or arena < best_arena:
            best, best_arena = offsets, arena
    assert best is not None
    return _finish(buffers, bases, base_of, best)


def linear_plan(buffers: list[Buffer], alignment: int = 4) -> Plan:
    """The baseline: every base buffer at its own offset, in order of first use (no reuse)."""
    bases, base_of = resolve(buffers, alignment)
    offsets, end = {}, 0
    for b in sorted(bases, key=ORDERS["first_use"]):
        offsets[b.name], end = end, end + b.size
    return _finish(buffers, bases, base_of, offsets)


def overlaps(buffers: list[Buffer], p: Plan, alignment: int = 4) -> list[tuple[str, str]]:
    """Pairs of base buffers that are alive at one step and share bytes under plan p (should be [])."""
    bases, _ = resolve(buffers, alignment)
    bad = []
    for i, a in enumerate(bases):
        for b in bases[i + 1:]:
            live_together = a.first <= b.last and b.first <= a.last
            oa, ob = p.offsets[a.name], p.offsets[b.name]
            if live_together and oa < ob + b.size and ob < oa + a.size:
                bad.append((a.name, b.name))
    return bad
