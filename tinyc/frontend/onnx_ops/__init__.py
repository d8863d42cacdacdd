"""The ONNX lowerings, one module per family; LOWERINGS maps each ONNX op type to its function."""

from tinyc.frontend.onnx_ops import dense, elementwise, normalization, quantization, recurrent, spatial, tensor
from tinyc.frontend.onnx_ops import arg, qoperator, reduce, resize

FAMILIES = (spatial, dense, elementwise, normalization, tensor, resize, quantization, recurrent, reduce, arg,
            qoperator)

LOWERINGS = {}
for _family in FAMILIES:
    assert not set(_family.LOWERINGS) & set(LOWERINGS), f"{_family.__name__} lowers an op twice"
    LOWERINGS.update(_family.LOWERINGS)
