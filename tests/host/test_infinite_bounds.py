"""A Clip with an infinite bound (a legal ONNX model) compiles to C that agrees with the reference."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tinyc import cli


def test_clip_with_minus_infinity_verifies_on_the_host(tmp_path, capsys):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    bounds = [numpy_helper.from_array(np.array(v, np.float32), k) for k, v in (("lo", -np.inf), ("hi", 0.5))]
    graph = helper.make_graph([helper.make_node("Clip", ["x", "lo", "hi"], ["y"])], "g", [x], [y], bounds)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "m.onnx")
    assert cli.main(["verify", str(tmp_path / "m.onnx"), "--dtype", "float32"]) == 0, capsys.readouterr().err
