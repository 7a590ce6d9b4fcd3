"""drl_core: models, losses, adversaries, DRL algorithms, metrics and one engine, in pure PyTorch.

This package never imports ray, mlflow or yaml: the pipelines wrap it. Submodules load lazily,
so light users (clip sampling in a decode worker) do not pay for importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["create_model", "list_models"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("drl_core.models"), name)
    raise AttributeError(f"module 'drl_core' has no attribute {name!r}")
