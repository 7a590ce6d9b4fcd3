"""The model file every training stage writes (``model.pt``) and later stages read."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
from torch import nn

from drl_core.config import ModelConfig
from drl_core.models import build_model


def save_model(path: str | Path, model: nn.Module, cfg: ModelConfig, classes: tuple[str, ...]) -> None:
    """Write ``model``'s weights with what rebuilds it: its config and class names."""
    payload = {"model_config": dataclasses.asdict(cfg), "classes": list(classes),
               "model": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    tmp = Path(path).with_suffix(".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def load_model(path: str | Path, payload: dict | None = None) -> tuple[nn.Module, ModelConfig, tuple[str, ...]]:
    """Rebuild a saved model (on CPU) from ``path`` (or its contents ``payload``, already read);
    returns it, its config and the class names it knows."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True) if payload is None else payload
        cfg = ModelConfig(**{**payload["model_config"], "checkpoint": ""})
        classes = tuple(payload["classes"])
        model = build_model(cfg, len(classes))
        model.load_state_dict(payload["model"])
    except (OSError, KeyError, RuntimeError, TypeError, ValueError) as err:
        raise ValueError(f"{path}: not a model file of this project ({str(err).splitlines()[0]})") from None
    return model, cfg, classes


def reset_head(model: nn.Module, num_classes: int) -> nn.Module:
    """Replace the classifier of a VideoClassifier with a fresh ``num_classes``-way one."""
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model
