"""--latency-budget without QEMU: its one-line errors, an impossible budget, and the predicted instructions
in the report (the QEMU checks are in tests/qemu/test_latency_budget_qemu.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinyc import api, cost_model
from tinyc.errors import BadInput, DoesNotFit

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MLP = EXAMPLES / "digits_mlp.onnx"


def _calib() -> np.ndarray:
    return np.load(EXAMPLES / "digits_calib_mlp.npz")["input"][:32].astype(np.float32)


def test_needs_a_board():
    with pytest.raises(BadInput, match="--latency-budget counts instructions on a board: give --board"):
        api.build(MLP, latency_budget=1000)


def test_a_board_without_coefficients_is_a_one_line_error():
    assert "mps2-an386" in cost_model.boards()
    with pytest.raises(BadInput, match="no cost model for board 'mps2-an385'.*bench/cost_model.py --board"):
        api.build(MLP, board="mps2-an385", latency_budget=1000)


def test_a_bad_count_is_a_one_line_error():
    with pytest.raises(BadInput, match="--latency-budget 'fast'"):
        api.build(MLP, board="mps2-an386", latency_budget="fast")


def test_an_impossible_budget_gives_the_fewest_reached():
    with pytest.raises(DoesNotFit, match=r"--latency-budget 100 instructions cannot be met .* fewest predicted are"):
        api.build(MLP, calib=_calib(), board="mps2-an386", latency_budget=100)


def test_report_has_predicted_instructions_per_layer_and_total():
    doc = api.compile(MLP, calib=_calib(), board="mps2-an386")
    layers = [layer["instructions_predicted"] for layer in doc["layers"]]
    assert all(n >= 0 for n in layers) and sum(layers) > 0
    assert doc["instructions"]["predicted"] == sum(layers)
    assert doc["instructions"]["unfitted_kernels"] == []


def test_a_met_budget_is_recorded_with_its_choice():
    dense = api.compile(MLP, calib=_calib(), board="mps2-an386")["instructions"]["predicted"]
    doc = api.compile(MLP, calib=_calib(), board="mps2-an386", latency_budget=dense // 2)
    assert doc["instructions"]["predicted"] <= dense // 2
    assert doc["latency_budget"]["predicted"] == doc["instructions"]["predicted"]
    assert doc["latency_budget"]["dense_predicted"] == dense
