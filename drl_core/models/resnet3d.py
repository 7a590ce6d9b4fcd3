"""3D ResNets of Hara et al. (CVPR 2018): 7×7×7 stem, shortcut type B (1×1×1 conv + BN)."""

from __future__ import annotations

import torch
from torch import nn

from drl_core.models.blocks import init_weights, make_stages


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
        self.stages, self.out_dim = make_stages(block, layers, width, dim=3)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(self.stem(x)).mean((2, 3, 4))
