"""Fine-tuning (`--finetune`): trains the float weights of a compressed graph with its structure kept.

PyTorch is an optional extra: importing this package without it is a one-line BadInput that says what
to install. Nothing else in tinyc imports torch. Every module of this package is imported here, so a file
that adds ops (`@module.register("op")`, and `module.TRAINABLE` / `module.MASKED` for its weights) only
has to exist.
"""

from __future__ import annotations

import importlib
import pkgutil

from tinyc.errors import BadInput

try:
    import torch  # noqa: F401
except ImportError:
    raise BadInput("--finetune needs PyTorch: pip install 'tinyc[train]'") from None

from tinyc.train.finetune import FineTuned, GradualPruning, finetune  # noqa: E402

for _info in pkgutil.iter_modules(__path__):  # op files of other features register themselves on import
    importlib.import_module(f"{__name__}.{_info.name}")

__all__ = ["FineTuned", "GradualPruning", "finetune"]
