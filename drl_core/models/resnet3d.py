"""3D ResNets of Hara et al. (CVPR 2018): 7×7×7 stem, shortcut type B (1×1×1 conv + BN)."""

from __future__ import annotations

import torch
from torch import nn

from drl_core.models.resnet2d import _init


def _shortcut(cin: int, cout: int, stride: int) -> nn.Module:
    if stride == 1 and cin == cout:
        return nn.Identity()
    return nn.Sequential(nn.Conv3d(cin, cout, 1, stride, bias=False), nn.BatchNorm3d(cout))


class BasicBlock3d(nn.Module):
    expansion = 1

    def __init__(self, cin: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv3d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm3d(planes)
        self.conv2 = nn.Conv3d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm3d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _shortcut(cin, planes, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + self.downsample(x))


class Bottleneck3d(nn.Module):
    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv3d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm3d(planes)
        self.conv2 = nn.Conv3d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm3d(planes)
        self.conv3 = nn.Conv3d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm3d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _shortcut(cin, planes * 4, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + self.downsample(x))


class ResNet3d(nn.Module):
    """Clips B×C×T×H×W → pooled features B×D.

    The stem is a 7×7×7 convolution with stride (1, 2, 2) and a 3×3×3 max-pool with stride 2;
    stages 2–4 halve time and space. ``stem_pool=False`` drops the max-pool (a reduced variant
    for low-resolution CPU inputs, where it would discard most of the motion; no parameters change).
    """

    def __init__(self, block: type, layers: tuple[int, ...], width: int = 64, stem_pool: bool = True) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv3d(3, width, 7, (1, 2, 2), 3, bias=False), nn.BatchNorm3d(width), nn.ReLU(inplace=True),
            nn.MaxPool3d(3, 2, 1) if stem_pool else nn.Identity(),
        )
        stages, cin = [], width
        for i, n in enumerate(layers):
            planes = width * 2**i
            blocks = []
            for j in range(n):
                blocks.append(block(cin, planes, 2 if (i > 0 and j == 0) else 1))
                cin = planes * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.out_dim = cin
        _init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(self.stem(x)).mean((2, 3, 4))
