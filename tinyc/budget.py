"""Budgets: the least-loss compression that brings a model under a flash or RAM budget.

Flash: prune harder along the sensitivity order (the layers that lose least go first) until the
planned flash (weights, indices and parameters, plus the code estimate) fits. RAM: only smaller
activations help, so channel pruning, step by step. An impossible budget is DoesNotFit stating
the smallest size reached.
"""

from __future__ import annotations

import re

from tinyc.errors import BadInput

FLASH_TARGETS = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95)  # share of prunable weights pruned
LATENCY_PRUNE_TARGETS = (0.0, 0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.825, 0.85, 0.875, 0.9, 0.91, 0.92, 0.93, 0.94, 0.95)
LATENCY_MARGIN = 0.02  # the search aims 2 % under --latency-budget: the cost model is within ~1-2 % on whole models
LATENCY_CHANNEL_RATIOS = (None, 0.1, 0.2, 0.3, 0.4, 0.45, 0.5, 0.6, 0.7)  # channels removed (--latency-budget)
RAM_CHANNEL_RATIOS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)[bB]?\s*$")


def parse_bytes(text: str, option: str) -> int:
    """'65536', '64K' or '1.5M' -> bytes (K = 1024, M = 1024 * 1024)."""
    m = _SIZE.match(str(text))
    if not m:
        raise BadInput(f"{option} {text!r}: give bytes, optionally with K or M (64K, 1M)")
    value = float(m.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[m.group(2).lower()]
    if value <= 0:
        raise BadInput(f"{option} {text!r}: must be more than 0 bytes")
    return int(value)


_COUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$")


def parse_count(text: str, option: str) -> int:
    """'2600000', '2600k' or '2.6M' -> a count (k = 1000, M = 1000000)."""
    m = _COUNT.match(str(text))
    if not m:
        raise BadInput(f"{option} {text!r}: give a number of instructions, optionally with k or M (2600k, 2.6M)")
    value = int(float(m.group(1)) * {"": 1, "k": 1000, "m": 1000_000}[m.group(2).lower()])
    if value <= 0:
        raise BadInput(f"{option} {text!r}: must be more than 0")
    return value
