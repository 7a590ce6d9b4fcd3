"""The weight files a study's models start from: checked before anything runs.

Every ``checkpoint`` a model block names must be a readable file: a missing one is a one-line
ConfigError naming the key and the file. When any of them is a torchvision ImageNet ResNet
(:mod:`drl_core.models.checkpoints`), the clips are normalised with ImageNet's mean and std, as
those weights expect: the study's ``pretrain.clip`` (and ``finetune.clip``, if set) is switched
(and says so).

Torch is imported only when a checkpoint is named: the study's driver checks its config with
this module and otherwise never needs torch (its import cost 2 s of every study's start).
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipelines.config.loader import ConfigError, with_values

MODEL_KEYS = ("pretrain.model", "algorithm.spatial", "dynamic_score.spatial")


def _block(cfg, dotted: str):
    for part in dotted.split("."):
        cfg = getattr(cfg, part)
    return cfg


def _is_imagenet(path: Path, key: str) -> bool:
    import torch

    from drl_core.models.checkpoints import is_torchvision_resnet

    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as err:  # noqa: BLE001 - any unreadable or unsafe file
        raise ConfigError(f"{key}.checkpoint: {path} is not a weights file ({type(err).__name__})") from None
    return isinstance(state, dict) and is_torchvision_resnet(state.get("model", state))


def check_weights(cfg):
    """``cfg`` (a StudyConfig) with its weight files checked, and ImageNet normalisation if any
    model starts from ImageNet weights."""
    imagenet = []
    for key in MODEL_KEYS:
        checkpoint = _block(cfg, key).checkpoint
        if not checkpoint:
            continue
        path = Path(checkpoint).expanduser()
        if not path.is_file():
            raise ConfigError(f"{key}.checkpoint: {path} not found (a model file of this project, or torchvision's "
                              f"ImageNet ResNet file as downloaded, e.g. resnet18-f37072fd.pth)")
        if _is_imagenet(path, key):
            imagenet.append(key)
    if not imagenet:
        return cfg
    from drl_core.models.checkpoints import IMAGENET_MEAN, IMAGENET_STD

    clip = cfg.pretrain.clip
    if (tuple(clip.mean), tuple(clip.std)) != (IMAGENET_MEAN, IMAGENET_STD):
        blocks = ["pretrain.clip"] + (["finetune.clip"] if cfg.finetune.clip is not None else [])
        print(f"[config] ImageNet weights in {', '.join(imagenet)}: {' and '.join(b + '.mean/std' for b in blocks)} "
              f"set to ImageNet's", file=sys.stderr, flush=True)
        stats = (("mean", IMAGENET_MEAN), ("std", IMAGENET_STD))
        cfg = with_values(cfg, {f"{b}.{stat}": list(v) for b in blocks for stat, v in stats})
    return cfg
