"""Kronecker-product compression: replace dense (and 1x1 conv) weights W by A (x) B, optionally plus a
sparse residual ("doped" KP), as dense_kp nodes; and a GRU's input and recurrent matrices W and R by
A (x) B each, as gru_kp nodes. Pure numpy on the float graph; it never quantizes.

Sizes here are int8 flash bytes as tinyc.report counts the int8 layer (weights, bias, requantization
arrays, CSR indices), so "10x smaller" means the report's layer bytes, not only the weight matrix.
"""

from __future__ import annotations

import numpy as np

from tinyc import sparse
from tinyc.errors import BadInput
from tinyc.ir import Graph, Node

MIN_RATIO = 10.0  # dense int8 layer bytes / KP layer bytes the pass aims for
AUTO_MIN_ENTRIES = 4096  # layers="auto" skips dense layers with M*K below this
ERROR_SLACK = (1.1, 0.02)  # shape rule: error <= best * 1.1 + 0.02 counts as "as good as the best"
AUTO_DOPE_ERROR = 0.1  # doped="auto" dopes a layer whose plain KP relative error exceeds this...
AUTO_DOPE_MIN_FRACTION = 0.01  # ...when the byte budget leaves room for at least 1 % of entries
GRU_MIN_RATIO = 16.0  # a GRU's W and R: matrix entries / factor entries (float32 bytes vs float32 bytes)
GRU_GATES = 3  # rows of a GRU's A split into z, r, h (gru_kp computes one gate's rows alone)


def nearest_kronecker(w: np.ndarray, shape_a: tuple[int, int], shape_b: tuple[int, int]
                      ) -> tuple[np.ndarray, np.ndarray]:
    """A (m1 x k1), B (m2 x k2) minimising ||W - kron(A, B)||_F for W (m1*m2 x k1*k2), float64.

    Van Loan and Pitsianis (1993): ||W - A (x) B||_F = ||R(W) - vec(A) vec(B)^T||_F where row
    i1*k1 + j1 of R(W) is the (i1, j1) block W[i1*m2:(i1+1)*m2, j1*k2:(j1+1)*k2], row-major. So the
    best pair is the rank-1 SVD of R(W): vec(A) = sqrt(s) u, vec(B) = sqrt(s) v.
    """
    (m1, k1), (m2, k2) = shape_a, shape_b
    assert w.shape == (m1 * m2, k1 * k2), f"W {w.shape} vs A {shape_a} (x) B {shape_b}"
    r = np.asarray(w, np.float64).reshape(m1, m2, k1, k2).transpose(0, 2, 1, 3).reshape(m1 * k1, m2 * k2)
    u, s, vt = np.linalg.svd(r, full_matrices=False)
    root = np.sqrt(s[0])
    sign = -1.0 if np.sum(u[:, 0]) < 0 else 1.0  # SVD signs are arbitrary: fix them, deterministically
    return (sign * root * u[:, 0]).reshape(m1, k1), (sign * root * vt[0]).reshape(m2, k2)


def relative_error(w: np.ndarray, approx: np.ndarray) -> float:
    """||W - approx||_F / ||W||_F (0 for an all-zero W approximated exactly)."""
    norm = float(np.linalg.norm(w))
    diff = float(np.linalg.norm(np.asarray(w, np.float64) - approx))
    return diff / norm if norm > 0 else diff


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def factor_shapes(m: int, k: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Every (shape_a, shape_b) with m1*m2 = m and k1*k2 = k, except A or B being 1x1 (that is W itself)."""
    pairs = [((m1, k1), (m // m1, k // k1)) for m1 in _divisors(m) for k1 in _divisors(k)]
    return [(a, b) for a, b in pairs if a != (1, 1) and b != (1, 1)]


def csr_bytes(m: int, k: int, nnz: int) -> int:
    """Flash bytes of an int8 CSR matrix (m x k) with nnz nonzeros, as tinyc.sparse.encode_csr stores it."""
    return nnz * (1 + sparse.index_dtype(max(k - 1, 0)).itemsize) + (m + 1) * sparse.index_dtype(nnz).itemsize


def dense_layer_bytes(m: int, k: int) -> int:
    """int8 dense layer: weights, int32 bias, int32 multiplier and shift per output channel."""
    return m * k + 4 * m + 8 * m


def kp_layer_bytes(shape_a: tuple[int, int], shape_b: tuple[int, int], has_bias: bool, nnz: int | None = None) -> int:
    """int8 dense_kp layer: A and B, the bias, a multiplier and shift per row of A; doped (nnz not None):
    the residual CSR and its multiplier and shift per row of A (tinyc.ops.kronecker's int8 scheme)."""
    (m1, k1), (m2, k2) = shape_a, shape_b
    total = m1 * k1 + m2 * k2 + (4 * m1 * m2 if has_bias else 0) + 8 * m1
    if nnz is not None:
        total += csr_bytes(m1 * m2, k1 * k2, nnz) + 8 * m1
    return total


def choose_shape(w: np.ndarray, has_bias: bool, min_ratio: float = MIN_RATIO
                 ) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The factor shapes for W (M x K), or None when no shape reaches min_ratio.

    Rule: among shapes whose plain KP layer is >= min_ratio smaller than the dense int8 layer, let
    e* be the smallest relative Frobenius error; take the smallest layer with error <= e* * 1.1 + 0.02
    (ties: smaller error, then the shapes in order). Size wins only where accuracy is about the same.
    """
    m, k = w.shape
    budget = dense_layer_bytes(m, k) / min_ratio
    scored = []
    for a, b in factor_shapes(m, k):
        size = kp_layer_bytes(a, b, has_bias)
        if size <= budget:
            fa, fb = nearest_kronecker(w, a, b)
            scored.append((size, relative_error(w, np.kron(fa, fb)), a, b))
    if not scored:
        return None
    best = min(s[1] for s in scored)
    slack, floor = ERROR_SLACK
    size, err, a, b = min(s for s in scored if s[1] <= best * slack + floor)
    return a, b


def most_capable_shape(m: int, k: int, fits) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Among the factor shapes of an M x K matrix with fits(shape_a, shape_b) true, the one a trained
    A (x) B can do most with, or None when none fits.

    Training moves the factors away from the nearest KP, so the post-training error says little; what
    limits the trained layer is its structure. rank(A (x) B) = rank(A) rank(B), so first the highest
    possible rank min(m1, k1) * min(m2, k2) (balanced shapes reach full rank with few entries), then
    the most factor entries m1*k1 + m2*k2 (spend the budget on parameters), then the shapes in order.
    """
    fitting = [(-min(a) * min(b), -(a[0] * a[1] + b[0] * b[1]), i, a, b)
               for i, (a, b) in enumerate(factor_shapes(m, k)) if fits(a, b)]
    if not fitting:
        return None
    *_, a, b = min(fitting)
    return a, b


def shape_for_ratio(m: int, k: int, has_bias: bool, min_ratio: float = MIN_RATIO
                    ) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The factor shapes for a dense M x K layer whose factors will be trained (--finetune): the most
    capable shape (most_capable_shape) whose int8 KP layer is >= min_ratio smaller than dense int8."""
    budget = dense_layer_bytes(m, k) / min_ratio
    return most_capable_shape(m, k, lambda a, b: kp_layer_bytes(a, b, has_bias) <= budget)


def gru_shape(m: int, k: int, min_ratio: float = GRU_MIN_RATIO
              ) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Factor shapes for a GRU matrix (M = 3H rows, K columns): the most capable shape (most_capable_shape)
    whose A has a multiple of 3 rows and whose factors hold at most M*K / min_ratio entries.
    The same rule with or without fine-tuning: the recurrence compounds a factor's error at every
    step, so a post-training GRU KP is rarely usable whatever its shape, and training fixes the shape's
    capacity, not its starting error."""
    return most_capable_shape(m, k, lambda a, b: a[0] % GRU_GATES == 0
                              and (a[0] * a[1] + b[0] * b[1]) * min_ratio <= m * k)


def _gru_matrices(node: Node, g: Graph) -> tuple[np.ndarray, np.ndarray] | None:
    """(W, R) of a GRU that gru_kp can compute: constant W and R, one direction, default activations,
    no clip, no sequence_lens or initial_h, at most Y and Y_h; None for anything else."""
    if node.op != "gru":
        return None
    ins = list(node.inputs) + [""] * (6 - len(node.inputs))
    w, r = (g.tensors.get(ins[i]) for i in (1, 2))
    if w is None or r is None or not (w.is_const and r.is_const) or w.shape[0] != 1 or any(ins[4:]):
        return None
    if ins[3] and not g.tensors[ins[3]].is_const:
        return None
    a = node.attrs
    if a.get("direction", "forward") not in ("forward", "reverse") or a.get("clip") is not None:
        return None
    if len(node.outputs) > 2:
        return None
    if a.get("acts") and [x[0] for x in a["acts"]] != ["Sigmoid", "Tanh"]:
        return None
    return w.data[0], r.data[0]


def _replace_gru(node: Node, g: Graph, w: np.ndarray, r: np.ndarray, shapes) -> Node:
    """The gru_kp node for GRU node: W ~ WA (x) WB and R ~ RA (x) RB, nearest Kronecker factors."""
    names, attrs = [node.inputs[0]], {k: v for k, v in node.attrs.items() if k != "acts"}
    for mat, m, (shape_a, shape_b) in (("w", w, shapes[0]), ("r", r, shapes[1])):
        fa, fb = nearest_kronecker(m, shape_a, shape_b)
        for part, f, shape in (("a", fa, shape_a), ("b", fb, shape_b)):
            names.append(g.add_const(f"{node.name}_kp_{mat}{part}", f.astype(np.float32), "float32"))
            attrs[f"shape_{mat}{part}"] = tuple(shape)
        g.tensors[names[-2]].format = "kp"
    names.append(node.inputs[3] if len(node.inputs) > 3 else "")
    return Node(node.name, "gru_kp", names, list(node.outputs), attrs)


def budget_nnz(m: int, k: int, shape_a, shape_b, has_bias: bool, min_ratio: float = MIN_RATIO) -> int:
    """The most residual nonzeros a doped layer can keep and stay min_ratio smaller than dense int8."""
    budget = dense_layer_bytes(m, k) / min_ratio
    lo, hi = 0, m * k  # the doped size grows with nnz: bisect for the last nnz that fits
    if kp_layer_bytes(shape_a, shape_b, has_bias, 0) > budget:
        return 0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if kp_layer_bytes(shape_a, shape_b, has_bias, mid) <= budget else (lo, mid - 1)
    return lo


def dope_residual(residual: np.ndarray, nnz: int) -> np.ndarray:
    """residual with all but its nnz largest-magnitude entries set to 0 (ties: lower flat index kept)."""
    flat = np.asarray(residual, np.float64).reshape(-1)
    keep = np.argsort(-np.abs(flat), kind="stable")[:nnz]
    kept = np.zeros_like(flat)
    kept[keep] = flat[keep]
    return kept.reshape(residual.shape)


def _weight_matrix(node: Node, g: Graph) -> np.ndarray | None:
    """W (M x K) of a dense node, or of a conv2d that is a dense layer over channels
    (1x1 kernel, stride 1, no pads, group 1, batch 1); None for anything else."""
    if node.op == "dense" and g.tensors[node.inputs[1]].is_const:
        return g.tensors[node.inputs[1]].data
    if node.op == "conv2d" and g.tensors[node.inputs[1]].is_const:
        w, a = g.tensors[node.inputs[1]].data, node.attrs
        simple = (w.shape[2:] == (1, 1) and tuple(a["strides"]) == (1, 1) and not any(a["pads"])
                  and int(a["group"]) == 1 and g.tensors[node.inputs[0]].shape[0] == 1)
        return w.reshape(w.shape[0], -1) if simple else None
    return None


def _replace(node: Node, g: Graph, w: np.ndarray, shapes, residual: np.ndarray | None) -> Node:
    """The dense_kp node for node with weight w (M x K): nearest factors of the given shapes, and
    residual (M x K, zeros off the kept entries) or None."""
    shape_a, shape_b = shapes
    a, b = nearest_kronecker(w, shape_a, shape_b)
    residual_name, nnz = "", 0
    if residual is not None:
        nnz = int(np.count_nonzero(residual))
        residual_name = g.add_const(node.name + "_kp_residual", residual.astype(np.float32), "float32")
        g.tensors[residual_name].format = "csr"
    a_name = g.add_const(node.name + "_kp_a", a.astype(np.float32), "float32")
    g.tensors[a_name].format = "dkp" if residual_name else "kp"
    b_name = g.add_const(node.name + "_kp_b", b.astype(np.float32), "float32")
    attrs = {"act": node.attrs.get("act"), "shape_a": tuple(shape_a), "shape_b": tuple(shape_b),
             "layout": "dense" if node.op == "dense" else "nchw", "residual_nnz": nnz}
    bias = node.inputs[2] if len(node.inputs) > 2 else ""
    return Node(node.name, "dense_kp", [node.inputs[0], a_name, b_name, bias, residual_name],
                list(node.outputs), attrs)


def _plan_layer(w: np.ndarray, has_bias: bool, doped: bool | str, dope: float | None, min_ratio: float,
                trained: bool = False):
    """(shapes, residual or None) for one layer, or None when no shape reaches min_ratio.
    trained: fine-tuning follows, shapes by shape_for_ratio, else by choose_shape (post-training error).

    A doped layer keeps the plain rule's shapes and spends the rest of the budget on the residual.
    (Choosing shapes by the doped Frobenius error instead was tried: the errors differ by < 1 % and
    the digits models lost accuracy, so the simpler rule stays.)
    """
    shapes = shape_for_ratio(*w.shape, has_bias, min_ratio) if trained else choose_shape(w, has_bias, min_ratio)
    if shapes is None:
        return None
    a, b = nearest_kronecker(w, *shapes)
    m, k = w.shape
    nnz = budget_nnz(m, k, *shapes, has_bias, min_ratio) if dope is None else round(dope * m * k)
    # "auto" dopes only where plain KP loses accuracy and the budget buys enough entries
    worth_it = relative_error(w, np.kron(a, b)) > AUTO_DOPE_ERROR and nnz >= AUTO_DOPE_MIN_FRACTION * m * k
    if nnz == 0 or not (doped is True or (doped == "auto" and worth_it)):
        return shapes, None
    return shapes, dope_residual(w - np.kron(a, b), nnz)


def kronecker(g: Graph, layers: str | list[str] = "auto", doped: bool | str = False, *,
              dope: float | None = None, min_ratio: float = MIN_RATIO, trained: bool = False) -> Graph:
    """Replace the chosen layers of float graph g by dense_kp nodes (W ~ A (x) B [+ residual]).

    layers: "auto" (every dense layer with M*K >= 4096 that some factor shape makes min_ratio
    smaller, and every GRU gru_kp can compute) or node names (dense, 1x1 conv2d with stride 1, no
    pads, group 1, or GRU). A GRU's W and R get shapes by gru_shape (GRU_MIN_RATIO), never doped.
    doped: True adds the largest entries of W - A (x) B as a CSR residual, "auto" only where plain
    KP's relative error exceeds 0.1 and the budget holds >= 1 % of entries. dope: the fraction of
    entries kept; None = as many as keep the layer min_ratio smaller than dense int8.
    trained: the factors will be fine-tuned, so shapes are chosen for the ratio (shape_for_ratio).
    """
    if doped not in (True, False, "auto"):
        raise BadInput(f"kronecker doped={doped!r}: choose True, False or 'auto'")
    if dope is not None and not 0.0 <= dope <= 1.0:
        raise BadInput(f"kronecker dope={dope}: a fraction of the entries, in [0, 1]")
    g = g.copy()
    eligible = {n.name: w for n in g.nodes if (w := _weight_matrix(n, g)) is not None}
    grus = {n.name: wr for n in g.nodes if (wr := _gru_matrices(n, g)) is not None}
    if layers == "auto":
        chosen = [n for n in g.nodes if (n.op == "dense" and n.name in eligible
                                         and eligible[n.name].size >= AUTO_MIN_ENTRIES) or n.name in grus]
    else:
        layers = [layers] if isinstance(layers, str) else list(layers)
        unknown = [name for name in layers if name not in eligible and name not in grus]
        if unknown:
            raise BadInput(f"kronecker layers {unknown}: not dense, 1x1 conv or GRU (one direction, default "
                           f"activations) layers; valid: {sorted(eligible) + sorted(grus)}")
        chosen = [n for n in g.nodes if n.name in layers]
    replaced: dict[str, Node] = {}
    for node in chosen:
        if node.name in grus:  # W and R each A (x) B; never doped
            w, r = grus[node.name]
            shapes = [gru_shape(*w.shape), gru_shape(*r.shape)]
            if None in shapes:
                if layers == "auto":
                    continue
                raise BadInput(f"kronecker layer {node.name!r} (gru, W {w.shape[0]}x{w.shape[1]}, R "
                               f"{r.shape[0]}x{r.shape[1]}): no factor shape with 3 gates of rows in A has "
                               f"{GRU_MIN_RATIO:g}x fewer entries")
            replaced[node.name] = _replace_gru(node, g, w, r, shapes)
            continue
        w = eligible[node.name]
        has_bias = len(node.inputs) > 2 and bool(node.inputs[2])
        plan = _plan_layer(w, has_bias, doped, dope, min_ratio, trained)
        if plan is None:
            if layers == "auto":
                continue
            ratios = [dense_layer_bytes(*w.shape) / kp_layer_bytes(a, b, has_bias) for a, b in factor_shapes(*w.shape)]
            best = max(ratios, default=1.0)
            raise BadInput(f"kronecker layer {node.name!r} ({w.shape[0]}x{w.shape[1]}): no factor shape is "
                           f"{min_ratio:g}x smaller than dense int8 (best {best:.1f}x)")
        replaced[node.name] = _replace(node, g, w, *plan)
    old_weights = {n.inputs[i] for n in g.nodes if n.name in replaced for i in ((1, 2) if n.op == "gru" else (1,))}
    g.nodes = [replaced.get(n.name, n) for n in g.nodes]
    still_used = {i for n in g.nodes for i in n.inputs}
    for name in old_weights - still_used:
        del g.tensors[name]
    return g
