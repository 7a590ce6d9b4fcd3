"""The model registry: explicit names, one factory, errors that list the valid names."""

from __future__ import annotations

import logging
from typing import Callable

from torch import nn

from drl_core.names import MODEL_NAMES
from drl_core.models.blocks import BasicBlock, Bottleneck
from drl_core.models.checkpoints import load_checkpoint
from drl_core.models.resnet2d import ResNet2dVideo
from drl_core.models.resnet3d import ResNet3d
from drl_core.models.video_net import VideoClassifier

_R10, _R18, _R50 = (1, 1, 1, 1), (2, 2, 2, 2), (3, 4, 6, 3)

MODELS: dict[str, Callable[..., nn.Module]] = {
    "r2d10": lambda width, stem_pool: ResNet2dVideo(BasicBlock, _R10, width, stem_pool=stem_pool),
    "r2d18": lambda width, stem_pool: ResNet2dVideo(BasicBlock, _R18, width, stem_pool=stem_pool),
    "r2d50": lambda width, stem_pool: ResNet2dVideo(Bottleneck, _R50, width, stem_pool=stem_pool),
    "r3d10": lambda width, stem_pool: ResNet3d(BasicBlock, _R10, width, stem_pool),
    "r3d18": lambda width, stem_pool: ResNet3d(BasicBlock, _R18, width, stem_pool),
    "r3d50": lambda width, stem_pool: ResNet3d(Bottleneck, _R50, width, stem_pool),
    "tsm_r10": lambda width, stem_pool: ResNet2dVideo(BasicBlock, _R10, width, True, stem_pool),
    "tsm_r18": lambda width, stem_pool: ResNet2dVideo(BasicBlock, _R18, width, True, stem_pool),
    "tsm_r50": lambda width, stem_pool: ResNet2dVideo(Bottleneck, _R50, width, True, stem_pool),
}

assert tuple(sorted(MODELS)) == MODEL_NAMES, "drl_core.names.MODEL_NAMES is out of date"


def list_models() -> list[str]:
    """The registered backbone names, sorted."""
    return sorted(MODELS)


def create_model(name: str, num_classes: int, width: int = 64, stem_pool: bool = True, dropout: float = 0.0,
                 **kwargs) -> VideoClassifier:
    """Build a registered backbone with a ``num_classes``-way linear head.

    Args:
        name: one of :func:`list_models`.
        num_classes: classifier width.
        width: first-stage channels; 64 is the published model, smaller is cheaper.
        stem_pool: keep the stem's max-pool (the published model); False suits small inputs.
        dropout: dropout before the classifier, in training only.
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; valid models: {', '.join(list_models())}")
    if kwargs:
        raise TypeError(f"create_model({name!r}) got unexpected arguments: {', '.join(sorted(kwargs))}")
    return VideoClassifier(MODELS[name](width, stem_pool), num_classes, dropout)


def build_model(cfg, num_classes: int) -> VideoClassifier:
    """The model a ``ModelConfig`` describes; loads ``cfg.checkpoint`` if set.

    The checkpoint is this project's state dict or a torchvision ImageNet ResNet (R2D and TSM;
    :mod:`drl_core.models.checkpoints`). A head of another shape is skipped; every other
    mismatch is an error naming the file. What was loaded is logged, and kept as
    ``model.checkpoint_report``.
    """
    model = create_model(cfg.name, num_classes, width=cfg.width, stem_pool=cfg.stem_pool, dropout=cfg.dropout)
    if cfg.checkpoint:
        model.checkpoint_report = load_checkpoint(model, cfg.checkpoint, cfg.name, cfg.width)
        logging.getLogger(__name__).info(model.checkpoint_report)
    return model
