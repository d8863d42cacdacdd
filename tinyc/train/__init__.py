"""Fine-tuning (`--finetune`): trains the float weights of a compressed graph with its structure kept.

PyTorch is an optional extra: importing this package without it is a one-line BadInput that says what
to install. Nothing else in tinyc imports torch.
"""

from __future__ import annotations

from tinyc.errors import BadInput

try:
    import torch  # noqa: F401
except ImportError:
    raise BadInput("--finetune needs PyTorch: pip install 'tinyc[train]'") from None

from tinyc.train.finetune import FineTuned, GradualPruning, finetune  # noqa: E402

__all__ = ["FineTuned", "GradualPruning", "finetune"]
