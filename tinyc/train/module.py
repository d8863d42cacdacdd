"""A float ir.Graph as a torch.nn.Module, so its weights can be trained.

The weights and biases of trainable layers (TRAINABLE ops) become nn.Parameters, every other constant a
buffer; forward runs the graph's nodes in schedule order through TORCH_OPS, the torch twin of each op's
ref_float (tinyc/ops/*.py). Another file of tinyc/train adds an op with `@register("op")` (and its
trained and masked inputs in TRAINABLE and MASKED); tinyc/train/__init__.py imports every file. The graph
keeps its batch-1 shapes: forward maps one sample's run over the batch (torch.func.vmap), so every op is
written exactly as its ref_float, for one sample.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tinyc.errors import BadInput
from tinyc.ir import Graph, Node
from tinyc.ops.pool import tap_count, window

TorchOp = Callable[[Node, list, "GraphModule"], list]
TORCH_OPS: dict[str, TorchOp] = {}
TRAINABLE = {"dense": (1, 2), "conv2d": (1, 2), "conv_transpose2d": (1, 2)}  # op -> inputs trained when constant
MASKED = {"dense": (1,), "conv2d": (1,)}  # op -> trained inputs whose zeros are structure (pruning), kept zero
# op -> {trained input: "row" | "tensor"}: QAT fake-quantizes these as tinyc's int8 stores them (per row or per
# tensor, symmetric), besides input 1 of the MASKED ops
QUANTIZED_WEIGHTS: dict[str, dict[int, str]] = {}


def register(*names: str) -> Callable[[TorchOp], TorchOp]:
    """Add fn(node, inputs, module) -> outputs as the torch form of ops `names`."""
    def add(fn: TorchOp) -> TorchOp:
        for name in names:
            TORCH_OPS[name] = fn
        return fn
    return add


def trainable_tensors(g: Graph) -> list[str]:
    """Names of the constants that become parameters, in schedule order."""
    names = []
    for node in g.nodes:
        for k in TRAINABLE.get(node.op, ()):
            name = node.inputs[k] if k < len(node.inputs) else ""
            if name and g.tensors[name].is_const and name not in names:
                names.append(name)
    return names


class GraphModule(nn.Module):
    """forward({input: (B, *model shape)}) -> {tensor: (B, *shape)} for the graph outputs and `also`."""

    def __init__(self, g: Graph):
        super().__init__()
        missing = sorted({n.op for n in g.nodes if n.op not in TORCH_OPS})
        if missing:
            raise BadInput(f"--finetune: op {missing[0]!r} has no training form yet (node "
                           f"{next(n.name for n in g.nodes if n.op == missing[0])!r})")
        self.graph = g
        self.param_names = trainable_tensors(g)
        self.weights = nn.ParameterList(
            [nn.Parameter(torch.from_numpy(np.array(g.tensors[n].data, np.float32))) for n in self.param_names])
        self.slot = {n: k for k, n in enumerate(self.param_names)}
        self.consts: dict[str, torch.Tensor] = {}
        for name, t in g.tensors.items():
            if t.is_const and name not in self.slot:
                data = np.asarray(t.data)
                self.consts[name] = torch.from_numpy(np.array(data, np.float32 if data.dtype.kind == "f" else data))
        # QAT's fake quantization: on an activation as it is made, on a parameter as it is read
        self.hooks: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {}
        self.weight_hooks: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {}

    def const(self, name: str) -> torch.Tensor | None:
        if not name:
            return None
        if name not in self.slot:
            return self.consts[name]
        w = self.weights[self.slot[name]]
        hook = self.weight_hooks.get(name)
        return w if hook is None else hook(w)

    def run_one(self, feeds: dict[str, torch.Tensor], want: list[str]) -> list[torch.Tensor]:
        """One sample, model shapes; the tensors named in `want`."""
        env = {}
        for name in self.graph.inputs:
            env[name] = self._hooked(name, feeds[name].reshape(self.graph.tensors[name].shape))
        for node in self.graph.nodes:
            xs = [None if not i else env[i] if i in env else self.const(i) for i in node.inputs]
            for name, y in zip(node.outputs, TORCH_OPS[node.op](node, xs, self)):
                if name:
                    env[name] = self._hooked(name, y)
        return [env[n] for n in want]

    def _hooked(self, name: str, y: torch.Tensor) -> torch.Tensor:
        hook = self.hooks.get(name)
        return y if hook is None else hook(y)

    def forward(self, feeds: dict[str, torch.Tensor], want: list[str] | None = None) -> dict[str, torch.Tensor]:
        want = list(self.graph.outputs if want is None else want)
        names = list(self.graph.inputs)
        batched = torch.func.vmap(lambda *xs: tuple(self.run_one(dict(zip(names, xs)), want)))
        return dict(zip(want, batched(*(feeds[n] for n in names))))

    def weight_arrays(self) -> dict[str, np.ndarray]:
        """The trained parameters as float32 arrays, by tensor name."""
        return {n: self.weights[k].detach().numpy().astype(np.float32).copy() for n, k in self.slot.items()}


def _act(node: Node, y: torch.Tensor) -> torch.Tensor:
    """The fused activation attrs["act"] = (lo, hi): a clamp (either end may be None)."""
    lo, hi = node.attrs.get("act") or (None, None)
    if lo is None and hi is None:
        return y
    return torch.clamp(y, min=lo, max=hi)


# ---- weighted layers --------------------------------------------------------------------------------

@register("dense")
def _dense(node, xs, m):
    x, w, b = xs
    return [_act(node, F.linear(x, w, b))]


@register("matmul")
def _matmul(node, xs, m):
    return [_act(node, torch.matmul(xs[0], xs[1]))]


@register("conv2d")
def _conv2d(node, xs, m):
    x, w, b = xs
    a = node.attrs
    top, left, bottom, right = a["pads"]
    x4 = x.unsqueeze(2) if x.dim() == 3 else x  # NCL as NC1L, as the reference
    y = F.conv2d(F.pad(x4, (left, right, top, bottom)), w, b, stride=tuple(a["strides"]),
                 dilation=tuple(a["dilations"]), groups=int(a["group"]))
    return [_act(node, y[:, :, 0, :] if x.dim() == 3 else y)]


@register("conv_transpose2d")
def _conv_transpose2d(node, xs, m):
    """tinyc.ops.conv_transpose: the full transposed convolution, then the window pads_begin / output_size
    cut from it (a negative begin pad or a larger output reads zeros)."""
    x, w, b = xs
    a = node.attrs
    x4 = x.unsqueeze(2) if x.dim() == 3 else x
    strides, dilations = tuple(a["strides"]), tuple(a["dilations"])
    (pt, pl), (oh, ow) = a["pads_begin"], a["output_size"]  # 2-D always (NCL: a unit height)
    full = F.conv_transpose2d(x4, w, None, stride=strides, groups=int(a["group"]), dilation=dilations)
    top, left = max(0, -pt), max(0, -pl)
    bottom, right = max(0, pt + oh - full.shape[2]), max(0, pl + ow - full.shape[3])
    y = F.pad(full, (left, right, top, bottom))[:, :, top + pt:top + pt + oh, left + pl:left + pl + ow]
    if b is not None:
        y = y + b.reshape(1, -1, 1, 1)
    return [_act(node, y[:, :, 0, :] if x.dim() == 3 else y)]


# ---- pools ------------------------------------------------------------------------------------------

def _taps(x4: torch.Tensor, win, fill: float) -> list[torch.Tensor]:
    """tinyc.ops.pool.taps in torch: the kh * kw strided views of x4 on a canvas padded with `fill`."""
    h, w = x4.shape[2], x4.shape[3]
    reach_h, reach_w = (win.oh - 1) * win.sh + 1, (win.ow - 1) * win.sw + 1
    span_h, span_w = reach_h + (win.kh - 1) * win.dh, reach_w + (win.kw - 1) * win.dw
    bottom, right = max(span_h, win.pt + h) - win.pt - h, max(span_w, win.pl + w) - win.pl - w
    canvas = F.pad(x4, (win.pl, right, win.pt, bottom), value=fill)
    return [canvas[:, :, i * win.dh:i * win.dh + reach_h:win.sh, j * win.dw:j * win.dw + reach_w:win.sw]
            for i in range(win.kh) for j in range(win.kw)]


def _shaped(x: torch.Tensor, y4: torch.Tensor) -> torch.Tensor:
    return y4[:, :, 0, :] if x.dim() == 3 else y4


@register("maxpool")
def _maxpool(node, xs, m):
    x = xs[0]
    x4 = x.unsqueeze(2) if x.dim() == 3 else x
    return [_shaped(x, torch.stack(_taps(x4, window(node, tuple(x.shape)), -math.inf)).amax(dim=0))]


@register("avgpool")
def _avgpool(node, xs, m):
    x = xs[0]
    x4 = x.unsqueeze(2) if x.dim() == 3 else x
    win = window(node, tuple(x.shape))
    count = tap_count(win, x4.shape[2], x4.shape[3], bool(node.attrs.get("count_include_pad", False)))
    total = torch.stack(_taps(x4, win, 0.0)).sum(dim=0)
    return [_shaped(x, total / torch.from_numpy(count.astype(np.float32)))]


@register("reduce")
def _reduce(node, xs, m):
    x, axes, kind = xs[0], tuple(node.attrs["axes"]), node.attrs["kind"]
    fns = {"mean": torch.mean, "sum": torch.sum, "max": torch.amax, "min": torch.amin}
    if kind not in fns:
        raise BadInput(f"--finetune: reduce {kind!r} (node {node.name!r}) has no training form yet")
    y = fns[kind](x, dim=axes, keepdim=True)
    shape = [d for k, d in enumerate(y.shape) if node.attrs["keepdims"] or k not in axes]
    return [y.reshape(shape)]


# ---- elementwise ------------------------------------------------------------------------------------

_BINARY = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div, "max": torch.maximum,
           "min": torch.minimum, "pow": torch.pow}


@register(*_BINARY)
def _binary(node, xs, m):
    return [_act(node, _BINARY[node.op](xs[0], xs[1]))]


def _unary_attr(node: Node, key: str, default: float) -> float:
    value = node.attrs.get(key)
    return default if value is None else float(value)


_UNARY = {
    "relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "exp": torch.exp, "sqrt": torch.sqrt,
    "erf": torch.erf, "abs": torch.abs, "neg": torch.neg, "reciprocal": torch.reciprocal, "log": torch.log,
    "gelu": F.gelu, "softsign": F.softsign, "mish": F.mish,
    "softplus": F.softplus,
    "clip": lambda x, n: torch.clamp(x, n.attrs.get("min"), n.attrs.get("max")),
    "leaky_relu": lambda x, n: F.leaky_relu(x, _unary_attr(n, "alpha", 0.01)),
    "hard_sigmoid": lambda x, n: torch.clamp(_unary_attr(n, "alpha", 0.2) * x + _unary_attr(n, "beta", 0.5), 0, 1),
    "hard_swish": lambda x, n: x * torch.clamp(_unary_attr(n, "alpha", 1 / 6) * x + _unary_attr(n, "beta", 0.5), 0, 1),
}
_WITH_NODE = ("clip", "leaky_relu", "hard_sigmoid", "hard_swish")


@register("unary")
def _unary(node, xs, m):
    fn = node.attrs["fn"]
    if fn not in _UNARY:
        raise BadInput(f"--finetune: unary {fn!r} (node {node.name!r}) has no training form yet")
    return [_UNARY[fn](xs[0], node) if fn in _WITH_NODE else _UNARY[fn](xs[0])]


@register("softmax")
def _softmax(node, xs, m):
    return [torch.softmax(xs[0] * node.attrs.get("beta", 1.0), dim=node.attrs["axis"])]


@register("log_softmax")
def _log_softmax(node, xs, m):
    return [torch.log_softmax(xs[0], dim=node.attrs["axis"])]


# ---- data movement ----------------------------------------------------------------------------------

@register("reshape")
def _reshape(node, xs, m):
    return [xs[0].reshape(tuple(node.attrs["shape"]))]


@register("transpose")
def _transpose(node, xs, m):
    return [xs[0].permute(tuple(node.attrs["perm"]))]


@register("concat")
def _concat(node, xs, m):
    return [torch.cat(list(xs), dim=node.attrs["axis"])]


@register("pad")
def _pad(node, xs, m):
    x, pads = xs[0], node.attrs["pads"]
    r = x.dim()
    widths = [w for k in reversed(range(r)) for w in (pads[k], pads[r + k])]  # F.pad: last axis first
    return [F.pad(x, widths, value=float(node.attrs.get("value", 0.0)))]


@register("strided_copy")
def _strided_copy(node, xs, m):
    shape, strides = node.attrs["shape"], node.attrs["strides"]
    index = np.full(shape, node.attrs["offset"], np.int64)
    for k, (n, s) in enumerate(zip(shape, strides)):
        index += (np.arange(n) * s).reshape([n if j == k else 1 for j in range(len(shape))])
    return [xs[0].reshape(-1)[torch.from_numpy(index)]]


@register("gather")
def _gather(node, xs, m):
    return [torch.index_select(xs[0], node.attrs["axis"], torch.tensor(node.attrs["indices"], dtype=torch.int64))]
