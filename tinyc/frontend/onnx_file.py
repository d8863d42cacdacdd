"""Reading and checking an ONNX file: every failure is one BadInput line, and large weights are never
copied by the checker or shape inference. Nothing here lowers anything (tinyc/frontend/onnx_import.py does).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import helper

from tinyc.errors import BadInput, DoesNotFit

# An activation larger than this is no microcontroller model (and would exhaust the host's memory
# during calibration): it is refused at import.
MAX_ACTIVATION_BYTES = 1 << 28

# Initializers at least this large skip the checker and shape inference (both copy the whole model): they
# become numpy arrays over the file's bytes at once, and the checked model holds them as typed inputs.
HELD_BYTES = 1 << 16
HELD_TYPES = (onnx.TensorProto.FLOAT, onnx.TensorProto.INT8, onnx.TensorProto.UINT8, onnx.TensorProto.INT32,
              onnx.TensorProto.INT64, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16)


def load(path: str | Path, held: dict[str, np.ndarray] | None = None) -> onnx.ModelProto:
    """Read and check an ONNX file; every failure is a one-line BadInput.

    held: when given, large initializers move out of the model into it as arrays (peak memory ~ 2x the file).
    """
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path}: no such file")
    try:
        model = onnx.load(str(path))
    except Exception as e:  # protobuf raises several unrelated types on bad bytes
        raise BadInput(f"{path}: not a readable ONNX model ({type(e).__name__})") from None
    if not model.graph.node and not model.graph.output:
        raise BadInput(f"{path}: not an ONNX model (no graph)")
    newest = onnx.defs.onnx_opset_version()
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx") and o.version > newest:
            raise BadInput(f"{path}: opset {o.version} is newer than the installed onnx package knows ({newest}): "
                           f"upgrade onnx or export the model at opset {newest} or lower")
    _check_text(model.graph)
    check_names(model.graph)
    check_inputs(model.graph)
    if held is not None:
        _hold_initializers(model.graph, held)
    try:
        _check(model)
        _spell_out_defaults(model)
        model = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as e:
        for vi in model.graph.input:  # an empty or integer input is the likely cause: say so
            if vi.type.tensor_type.elem_type == onnx.TensorProto.INT64:
                raise BadInput(f"input {vi.name!r} is int64, which tinyc takes only as Gather indices; the model "
                               f"does not check: {first_line(e, with_type=False)}") from None
            shape = static_shape(vi)
            if shape is not None and 0 in shape:
                raise BadInput(f"input {vi.name!r} has an empty shape {list(shape)} that the model's ops do not "
                               f"accept: {first_line(e, with_type=False)}") from None
        raise BadInput(f"{path}: invalid ONNX model: {first_line(e, with_type=False)}") from None
    return model


def _check(model: onnx.ModelProto) -> None:
    """onnx's model checker, except that GroupNormalization-18 passes: onnx deprecated it (its scale and
    bias are per group, which exporters misread) but onnxruntime runs it, and so does tinyc."""
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as e:
        if "registered for GroupNormalization is deprecated" not in str(e):
            raise


def _spell_out_defaults(model: onnx.ModelProto) -> None:
    """Write out attribute defaults that onnx's strict shape inference trips over when absent: a
    MeanVarianceNormalization without `axes` (its function body reads the attribute) is an error there."""
    for node in model.graph.node:
        if node.op_type == "MeanVarianceNormalization" and not any(a.name == "axes" for a in node.attribute):
            node.attribute.append(helper.make_attribute("axes", [0, 2, 3]))


def first_line(e: BaseException, with_type: bool = True) -> str:
    """The message of e on one line (the checker's run over several), at most 300 characters."""
    text = " ".join(str(e).split())
    text = text[:297] + "..." if len(text) > 300 else text
    if not with_type:
        return text or type(e).__name__
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _dims_text(vi: onnx.ValueInfoProto) -> list[str]:
    if not vi.type.HasField("tensor_type") or not vi.type.tensor_type.HasField("shape"):
        return ["?"]
    return [str(d.dim_value) if d.HasField("dim_value") else (d.dim_param or "?")
            for d in vi.type.tensor_type.shape.dim]


def check_inputs(g: onnx.GraphProto, skip=()) -> None:
    """Model inputs are float32 with fixed positive dimensions."""
    inits = {i.name for i in g.initializer}
    for vi in g.input:
        if vi.name in inits or vi.name in skip:
            continue
        if not vi.type.HasField("tensor_type"):
            raise BadInput(f"input {vi.name!r} has type {vi.type.WhichOneof('value')}; only tensors are supported")
        if static_shape(vi) is None:
            dims = _dims_text(vi)
            known = all(d.lstrip("-").isdigit() for d in dims)
            raise BadInput(f"input {vi.name!r} has {'' if known else 'unknown '}dimensions [{', '.join(dims)}]: "
                           "every dimension must be a positive integer (export the model with a fixed input shape)")
        size = int(np.prod(static_shape(vi), dtype=np.float64)) * 4
        if size > MAX_ACTIVATION_BYTES:
            raise DoesNotFit(f"input {vi.name!r} of shape {list(static_shape(vi))} needs {size:,} bytes; tinyc's "
                             f"limit for one activation is {MAX_ACTIVATION_BYTES:,}")
        elem = vi.type.tensor_type.elem_type
        if elem not in (onnx.TensorProto.FLOAT, onnx.TensorProto.INT64):
            kind = onnx.TensorProto.DataType.Name(elem) if elem in onnx.TensorProto.DataType.values() else elem
            raise BadInput(f"input {vi.name!r} has type {kind}: model inputs are float32 (or int64 indices that "
                           "feed a Gather)")


def _hold_initializers(g: onnx.GraphProto, held: dict[str, np.ndarray]) -> None:
    """Move each large raw initializer into `held` as a read-only array over its bytes (no copy), and
    list it as a graph input of the same type and shape, so that checking the model copies no weights."""
    keep = []
    for init in g.initializer:
        if init.data_type not in HELD_TYPES or len(init.raw_data) < HELD_BYTES \
                or init.data_location == onnx.TensorProto.EXTERNAL:
            keep.append(init)
            continue
        dtype = np.dtype(helper.tensor_dtype_to_np_dtype(init.data_type)).newbyteorder("<")
        shape = tuple(int(d) for d in init.dims)
        raw = init.raw_data
        if any(d < 0 for d in shape) or len(raw) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
            raise BadInput(f"initializer {init.name!r}: {len(raw):,} bytes of data for shape {list(shape)} of "
                           f"{dtype.name} ({int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:,} bytes)")
        held[init.name] = np.frombuffer(raw, dtype).reshape(shape)
        g.input.append(helper.make_tensor_value_info(init.name, init.data_type, shape))
        init.ClearField("raw_data")
    if len(keep) != len(g.initializer):
        kept = [onnx.TensorProto() for _ in keep]
        for new, old in zip(kept, keep):
            new.CopyFrom(old)
        del g.initializer[:]
        g.initializer.extend(kept)


def _check_text(g: onnx.GraphProto) -> None:
    """Names are text: protobuf hands invalid UTF-8 over as bytes, which would reach the generated C."""
    fields = [("node name", n.name) for n in g.node] + [("op type", n.op_type) for n in g.node]
    fields += [("domain", n.domain) for n in g.node]
    fields += [("tensor name", t) for n in g.node for t in list(n.input) + list(n.output)]
    fields += [("tensor name", v.name) for v in list(g.input) + list(g.output) + list(g.value_info)]
    fields += [("initializer name", i.name) for i in g.initializer]
    for what, text in fields:
        if not isinstance(text, str):
            raise BadInput(f"{what} {text[:60]!r} is not valid UTF-8")


def check_names(g: onnx.GraphProto) -> None:
    """Every tensor name is defined once: by a graph input, an initializer or one node output."""
    seen: dict[str, str] = {}
    inits = {i.name for i in g.initializer}
    defs = [(i.name, "an initializer") for i in g.initializer]
    defs += [(i.name, "a graph input") for i in g.input if i.name not in inits]
    defs += [(o, f"node {n.name or n.output[0]!r} ({n.op_type})") for n in g.node for o in n.output if o]
    for name, where in defs:
        if name in seen:
            raise BadInput(f"tensor name {name!r} is defined twice: by {seen[name]} and by {where}")
        seen[name] = where


def static_shape(vi: onnx.ValueInfoProto) -> tuple[int, ...] | None:
    if not vi.type.HasField("tensor_type") or not vi.type.tensor_type.HasField("shape"):
        return None
    dims = vi.type.tensor_type.shape.dim
    if any(not d.HasField("dim_value") or d.dim_value < 0 for d in dims):
        return None
    return tuple(int(d.dim_value) for d in dims)
