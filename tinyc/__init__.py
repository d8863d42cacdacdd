"""tinyc: an ONNX to C99 compiler for Cortex-M microcontrollers.

The Python API (tinyc/api.py): tinyc.compile(model, out, **options) -> report dict,
tinyc.run(model, inputs, target=..., **options) -> outputs, tinyc.measure(model, inputs, board=...).
"""

__version__ = "0.1.0"


def compile(model, out=None, **options) -> dict:  # noqa: A001 - the command's name
    """Compile an ONNX file (and write the C folder to `out`); report.json as a dict. See tinyc.api."""
    from tinyc import api  # imported on first use: `import tinyc` stays cheap

    return api.compile(model, out, **options)


def run(model, inputs, *, target: str = "ref", **options) -> dict:
    """Run samples through the model on ref, host or a QEMU board; outputs by name. See tinyc.api."""
    from tinyc import api

    return api.run(model, inputs, target=target, **options)


def measure(model, inputs, *, board: str, **options) -> dict:
    """report.json with `measured` filled by the firmware under QEMU. See tinyc.api."""
    from tinyc import api

    return api.measure(model, inputs, board=board, **options)
