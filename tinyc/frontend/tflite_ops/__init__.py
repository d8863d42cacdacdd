"""The TFLite lowerings, one module per family; LOWERINGS maps each builtin name to its function."""

from tinyc.frontend.tflite_ops import dense, elementwise, quantization, recurrent, spatial, tensor

FAMILIES = (spatial, dense, elementwise, tensor, quantization, recurrent)

LOWERINGS = {}
for _family in FAMILIES:
    assert not set(_family.LOWERINGS) & set(LOWERINGS), f"{_family.__name__} lowers a builtin twice"
    LOWERINGS.update(_family.LOWERINGS)
