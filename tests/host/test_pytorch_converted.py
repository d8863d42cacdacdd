"""The onnx package's pytorch-converted backend cases (onnx/backend/test/data/pytorch-converted: model.onnx and
test_data_set_*/input_*.pb, output_*.pb) whose ops are all in the coverage set (tests/conformance.OPS),
float32 C on the host under ASan/UBSan: initializers stay initializers, the graph inputs stay inputs. Each
passes within 1e-4 x max(1, max |expected|), or is listed in CANNOT_PASS with the reason and fails with a
one-line TinycError."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from tests.conftest import need_tool
from tests.conformance import OPS, TOLERANCE, max_error
from tinyc import pipeline, runners
from tinyc.errors import TinycError

pytestmark = pytest.mark.host
DATA = Path(onnx.__file__).parent / "backend" / "test" / "data" / "pytorch-converted"

_3D = "3-D convolution and pooling are unsupported"
CANNOT_PASS = {
    "test_AvgPool3d": _3D, "test_AvgPool3d_stride": _3D, "test_AvgPool3d_stride1_pad0_gpu_input": _3D,
    "test_Conv3d": _3D, "test_Conv3d_dilated": _3D, "test_Conv3d_dilated_strided": _3D, "test_Conv3d_groups": _3D,
    "test_Conv3d_no_bias": _3D, "test_Conv3d_stride": _3D, "test_Conv3d_stride_padding": _3D,
    "test_MaxPool3d": _3D, "test_MaxPool3d_stride": _3D, "test_MaxPool3d_stride_padding": _3D,
}


def _in_scope() -> list[str]:
    if not DATA.is_dir():
        return []
    names = []
    for d in sorted(DATA.iterdir()):
        model = onnx.load(str(d / "model.onnx"), load_external_data=False)
        if {n.op_type for n in model.graph.node} <= set(OPS):
            names.append(d.name)
    return names


CASES = _in_scope()


def _run(name: str) -> float:
    d = DATA / name
    compiled = pipeline.build(d / "model.onnx", pipeline.Options(dtype="float32", name="model"))
    worst = 0.0
    for ds in sorted(d.glob("test_data_set_*")):
        ins = [numpy_helper.to_array(onnx.load_tensor(str(p))) for p in sorted(ds.glob("input_*.pb"))]
        outs = [numpy_helper.to_array(onnx.load_tensor(str(p))) for p in sorted(ds.glob("output_*.pb"))]
        samples = {n: np.asarray(a)[None] for n, a in zip(compiled.graph.inputs, ins)}
        got = runners.run_host(compiled, runners.feeds_for(compiled.graph, samples), sanitize=True)
        for out, exp in zip(compiled.graph.outputs, outs):
            worst = max(worst, max_error(np.asarray(got[out][0]), exp))
    return worst


def test_cases_are_found():
    assert len(CASES) > 40, f"pytorch-converted cases not found under {DATA}"
    assert set(CANNOT_PASS) <= set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_pytorch_converted_case(name):
    need_tool("cc")
    if name in CANNOT_PASS:
        with pytest.raises(TinycError) as e:
            _run(name)
        assert "\n" not in str(e.value), "a user error is one line"
        return
    assert _run(name) <= TOLERANCE
