"""Loading weights into a model: this project's state dicts, and torchvision's ImageNet ResNets.

Users bring torchvision's ResNet-18/50 files as downloaded (``resnet18-f37072fd.pth``,
``resnet50-0676ba61.pth``); nothing is downloaded here. Their keys (``conv1``, ``bn1``,
``layer1.0.conv1`` …, ``fc``) are renamed to this project's R2D / TSM layout (``backbone.stem.0``,
``backbone.stem.1``, ``backbone.stages.0.0.conv1`` …); the ImageNet head is dropped. R2D and TSM
apply the 2D network to each frame, so a frozen-frame clip gives the 2D network's features.
"""

from __future__ import annotations

import re

import torch
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_TORCHVISION_KEYS = ("conv1.weight", "bn1.weight", "layer1.0.conv1.weight")


def is_torchvision_resnet(state: dict[str, torch.Tensor]) -> bool:
    """True for a torchvision ResNet state dict (its top-level ``conv1`` / ``layer1`` names)."""
    return all(k in state for k in _TORCHVISION_KEYS)


def from_torchvision(state: dict[str, torch.Tensor], keep_head: bool = False) -> dict[str, torch.Tensor]:
    """A torchvision ResNet state dict renamed to this project's R2D / TSM keys; its ImageNet
    head (``fc``, 1000 classes) is dropped unless ``keep_head``."""
    out = {}
    for key, value in state.items():
        if key.startswith("fc."):
            if keep_head:
                out[key] = value
            continue
        new = re.sub(r"^conv1\.", "backbone.stem.0.", key)
        new = re.sub(r"^bn1\.", "backbone.stem.1.", new)
        new = re.sub(r"^layer(\d)\.", lambda m: f"backbone.stages.{int(m.group(1)) - 1}.", new)
        if new == key:
            raise ValueError(f"unexpected key {key!r} in a torchvision ResNet state dict")
        out[new] = value
    return out


def read_file(path: str) -> dict:
    """The weights file at ``path`` as saved (a state dict, or a dict holding one under ``model``)."""
    return torch.load(path, map_location="cpu", weights_only=True)


def torchvision_width(payload: dict) -> int | None:
    """The stem width (64 for torchvision's ResNets) of a torchvision ResNet file's contents
    (:func:`read_file`), or None if they are not one."""
    state = payload.get("model", payload)
    return int(state["conv1.weight"].shape[0]) if is_torchvision_resnet(state) else None


def load_checkpoint(model: nn.Module, path: str, name: str, width: int, keep_head: bool = False,
                    payload: dict | None = None) -> str:
    """Load the state dict at ``path`` (or its contents ``payload``, already read) into ``model``
    (an R2D/R3D/TSM ``name`` of ``width``).

    A torchvision ImageNet ResNet is renamed first (R2D and TSM only), its head dropped unless
    ``keep_head`` (then ``model`` needs its 1000 classes); a head of another shape is skipped;
    every other missing, unexpected or misshapen tensor is a ValueError naming the file. Returns
    a one-line report of what was loaded.
    """
    payload = read_file(path) if payload is None else payload
    state = payload.get("model", payload)
    kind = "state dict"
    if is_torchvision_resnet(state):
        if not (name.startswith("r2d") or name.startswith("tsm")):
            raise ValueError(f"{path}: a torchvision ImageNet ResNet fits R2D and TSM backbones, not {name}")
        state = from_torchvision(state, keep_head)
        kind = "torchvision ImageNet ResNet " + ("(head kept)" if keep_head else "(head dropped)")
    own = model.state_dict()
    head = {k for k in ("fc.weight", "fc.bias") if k in state and state[k].shape != own[k].shape}
    if keep_head and head:
        raise ValueError(f"{path}: its head has {state['fc.weight'].shape[0]} classes, the model "
                         f"{own['fc.weight'].shape[0]}")
    shaped = [k for k, v in state.items() if k in own and k not in head and v.shape != own[k].shape]
    missing, unexpected = model.load_state_dict(
        {k: v for k, v in state.items() if k not in head and k not in shaped}, strict=False)
    allowed_missing = {"fc.weight", "fc.bias"} if kind.endswith("(head dropped)") else head
    bad = shaped + [k for k in missing if k not in allowed_missing] + list(unexpected)
    if bad:
        raise ValueError(f"{path}: does not fit {name} width {width}: {', '.join(bad[:5])}")
    loaded = len(state) - len(head)
    return f"{path}: {kind}, {loaded} tensors loaded into {name}" + (", new head" if head or kind.endswith("(head dropped)") else "")
