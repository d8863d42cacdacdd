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
    in_place_of names buffers whose bytes this one may take (an elementwise kernel that reads
    element i before it writes element i): the planner uses the first permission that holds,
    where both bases have one size and that base's last step is this one's first.
    """

    name: str
    size: int
    first: int
    last: int
    alias_of: str | None = None
    in_place_of: tuple[str, ...] = ()


@dataclass
class Plan:
    """offsets: byte offset of every buffer (a view gets its base's offset); arena, bytes.

    lower_bound: the largest sum of (rounded) sizes alive at one step, an in-place pair counted
    once: no plan of these lifetimes and permissions can do better. classic_lower_bound: the
    same without in-place sharing (the plain liveness bound). in_place: bytes the in-place
    sharing saved, the arena planned without it minus this arena.
    """

    offsets: dict[str, int]
    arena: int
    lower_bound: int
    classic_lower_bound: int = 0
    in_place: int = 0


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


def in_place_pairs(buffers: list[Buffer], bases: list[Buffer], base_of: dict[str, str]) -> dict[str, str]:
    """Base of an output -> base of the input whose bytes it may take: the permissions of
    `buffers` that hold on the resolved bases (one size, the input's life ends where the
    output's begins). Each base gives its bytes to at most one output."""
    span = {b.name: b for b in bases}
    pairs: dict[str, str] = {}
    taken: set[str] = set()
    for b in sorted(buffers, key=lambda b: b.name):
        for name in b.in_place_of:
            assert name in base_of, f"buffer {b.name!r} may take the bytes of unknown {name!r}"
            out, src = span[base_of[b.name]], span[base_of[name]]
            if src.first < out.first == src.last and out.size == src.size and src.name not in taken \
                    and out.name not in pairs:
                pairs[out.name] = src.name
                taken.add(src.name)
    return pairs


def merge_in_place(bases: list[Buffer], pairs: dict[str, str]) -> tuple[list[Buffer], dict[str, str]]:
    """Each chain of in-place pairs as one block (the chain's first base names it, one size, the
    union of the lifetimes), and each base's block. Members of a chain meet only where one
    ends and the next begins, so the block's bytes are what the chain needs at every step."""
    head = {}
    for b in bases:
        root = b.name
        while root in pairs:
            root = pairs[root]
        head[b.name] = root
    spans: dict[str, tuple[int, int, int]] = {}
    for b in bases:
        size, lo, hi = spans.get(head[b.name], (b.size, b.first, b.last))
        spans[head[b.name]] = (size, min(lo, b.first), max(hi, b.last))
    return [Buffer(n, size, lo, hi) for n, (size, lo, hi) in sorted(spans.items())], head


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
    bound = lower_bound(bases)
    return Plan({b.name: offsets[base_of[b.name]] for b in buffers}, arena, bound, bound)


def _best_fit(bases: list[Buffer]) -> tuple[dict[str, int], int]:
    """First fit over every order of ORDERS: the smallest arena, the first order on a tie."""
    best: dict[str, int] | None = None
    best_arena = 0
    for key in ORDERS.values():
        offsets = _first_fit(sorted(bases, key=key))
        arena = max((offsets[b.name] + b.size for b in bases), default=0)
        if best is None or arena < best_arena:
            best, best_arena = offsets, arena
    assert best is not None or not bases
    return best or {}, best_arena


def plan(buffers: list[Buffer], alignment: int = 4, in_place: bool = True) -> Plan:
    """Offsets (multiples of `alignment`) so that no two buffers alive at one step overlap,
    except in-place pairs (Buffer.in_place_of), which may start at one offset.

    Sizes are rounded up to `alignment` before placement, and the lower bound is computed
    on the same rounded sizes, so `lower_bound <= arena` compares like with like.
    Greedy first fit over a few orders (ORDERS); the smallest arena wins, the first order
    on a tie. Not optimal in general (the problem is NP-hard), but on the MLPerf Tiny
    schedules it reaches the lower bound. With in_place, each chain of in-place pairs is
    placed as one block, unless the plan without sharing is smaller.
    """
    bases, base_of = resolve(buffers, alignment)
    offsets, arena = _best_fit(bases)
    classic = lower_bound(bases)
    pairs = in_place_pairs(buffers, bases, base_of) if in_place else {}
    if not pairs:
        return Plan({b.name: offsets[base_of[b.name]] for b in buffers}, arena, classic, classic)
    blocks, head = merge_in_place(bases, pairs)
    merged, merged_arena = _best_fit(blocks)
    bound = lower_bound(blocks)
    if merged_arena <= arena:  # as small: share anyway, the kernels are written for it
        offsets = {b.name: merged[head[b.name]] for b in bases}
    return Plan({b.name: offsets[base_of[b.name]] for b in buffers}, min(arena, merged_arena), bound, classic,
                max(arena - merged_arena, 0))


def linear_plan(buffers: list[Buffer], alignment: int = 4) -> Plan:
    """The baseline: every base buffer at its own offset, in order of first use (no reuse)."""
    bases, base_of = resolve(buffers, alignment)
    offsets, end = {}, 0
    for b in sorted(bases, key=ORDERS["first_use"]):
        offsets[b.name], end = end, end + b.size
    return _finish(buffers, bases, base_of, offsets)


def overlaps(buffers: list[Buffer], p: Plan, alignment: int = 4) -> list[tuple[str, str]]:
    """Pairs of base buffers that are alive at one step and share bytes under plan p (should be []).

    An in-place pair (in_place_pairs) at one offset is allowed; the same pair shifted is not."""
    bases, base_of = resolve(buffers, alignment)
    pairs = in_place_pairs(buffers, bases, base_of)
    bad = []
    for i, a in enumerate(bases):
        for b in bases[i + 1:]:
            live_together = a.first <= b.last and b.first <= a.last
            oa, ob = p.offsets[a.name], p.offsets[b.name]
            shared = oa == ob and (pairs.get(a.name) == b.name or pairs.get(b.name) == a.name)
            if live_together and oa < ob + b.size and ob < oa + a.size and not shared:
                bad.append((a.name, b.name))
    return bad
