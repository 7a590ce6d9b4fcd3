"""Residual blocks shared by the 2D (R2D, TSM) and 3D (R3D) ResNets.

``dim`` picks 2D or 3D convolutions and batch norms. ``shift`` (2D only) is a module applied at
the start of the residual branch, e.g. a temporal shift for TSM. Shortcuts are type B: a
1×1(×1) convolution with batch norm whenever the shape changes.
"""

from __future__ import annotations

import torch
from torch import nn


def _layers(dim: int) -> tuple[type[nn.Module], type[nn.Module]]:
    return (nn.Conv2d, nn.BatchNorm2d) if dim == 2 else (nn.Conv3d, nn.BatchNorm3d)


def shortcut(cin: int, cout: int, stride: int, dim: int) -> nn.Module:
    if stride == 1 and cin == cout:
        return nn.Identity()
    conv, bn = _layers(dim)
    return nn.Sequential(conv(cin, cout, 1, stride, bias=False), bn(cout))


class BasicBlock(nn.Module):
    """Two 3×3(×3) convolutions; ``expansion`` = 1."""

    expansion = 1

    def __init__(self, cin: int, planes: int, stride: int = 1, dim: int = 2, shift: nn.Module | None = None) -> None:
        super().__init__()
        conv, bn = _layers(dim)
        self.shift = shift or nn.Identity()
        self.conv1 = conv(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = bn(planes)
        self.conv2 = conv(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = bn(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = shortcut(cin, planes, stride, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(self.shift(x))))
        return self.relu(self.bn2(self.conv2(out)) + self.downsample(x))


class Bottleneck(nn.Module):
    """1×1, 3×3, 1×1 convolutions (×1/×3/×1 in time for 3D); ``expansion`` = 4."""

    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int = 1, dim: int = 2, shift: nn.Module | None = None) -> None:
        super().__init__()
        conv, bn = _layers(dim)
        self.shift = shift or nn.Identity()
        self.conv1 = conv(cin, planes, 1, bias=False)
        self.bn1 = bn(planes)
        self.conv2 = conv(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = bn(planes)
        self.conv3 = conv(planes, planes * 4, 1, bias=False)
        self.bn3 = bn(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = shortcut(cin, planes * 4, stride, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(self.shift(x))))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + self.downsample(x))


def make_stages(block: type, layers: tuple[int, ...], width: int, dim: int,
                shift_factory=None) -> tuple[nn.Sequential, int]:
    """ResNet stages 1–4 (stride 2 at the start of stages 2–4); returns them and the output width."""
    stages, cin = [], width
    for i, n in enumerate(layers):
        planes = width * 2**i
        blocks = []
        for j in range(n):
            shift = shift_factory() if shift_factory else None
            blocks.append(block(cin, planes, 2 if (i > 0 and j == 0) else 1, dim, shift))
            cin = planes * block.expansion
        stages.append(nn.Sequential(*blocks))
    return nn.Sequential(*stages), cin


def init_weights(module: nn.Module) -> None:
    """Kaiming-normal convolutions (fan out), unit-scale zero-shift batch norms."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Conv3d)):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
