"""tinyc: an ONNX to C99 compiler for Cortex-M microcontrollers."""

__version__ = "0.1.0"
