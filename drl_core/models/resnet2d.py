"""2D ResNets applied frame by frame (R2D) and with temporal shift (TSM).

Both fold time into the batch: B×C×T×H×W → (B·T)×C×H×W, run a 2D ResNet, and average the
per-frame pooled features over T.
"""

from __future__ import annotations

import torch
from torch import nn


class TemporalShift(nn.Module):
    """Shift 1/``div`` of the channels one step back in time and 1/``div`` one step forward.

    Works on (B·T)×C×H×W; ``clock.t`` holds T for the current forward pass. Parameter-free.
    """

    def __init__(self, clock: "_Clock", div: int = 8) -> None:
        super().__init__()
        self.clock, self.div = clock, div

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.clock.t
        bt, c, h, w = x.shape
        x = x.view(bt // t, t, c, h, w)
        fold = c // self.div
        out = torch.zeros_like(x)
        out[:, :-1, :fold] = x[:, 1:, :fold]  # frame i sees frame i+1
        out[:, 1:, fold:2 * fold] = x[:, :-1, fold:2 * fold]  # frame i sees frame i-1
        out[:, :, 2 * fold:] = x[:, :, 2 * fold:]
        return out.view(bt, c, h, w)


class _Clock:
    """Shared by a TSM backbone and its shift modules: the number of frames in flight."""

    t: int = 1


class BasicBlock2d(nn.Module):
    expansion = 1

    def __init__(self, cin: int, planes: int, stride: int = 1, shift: nn.Module | None = None) -> None:
        super().__init__()
        self.shift = shift or nn.Identity()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _downsample(cin, planes, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(self.shift(x))))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.downsample(x))


class Bottleneck2d(nn.Module):
    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int = 1, shift: nn.Module | None = None) -> None:
        super().__init__()
        self.shift = shift or nn.Identity()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _downsample(cin, planes * 4, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(self.shift(x))))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + self.downsample(x))


def _downsample(cin: int, cout: int, stride: int) -> nn.Module:
    if stride == 1 and cin == cout:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))


class ResNet2dVideo(nn.Module):
    """A torchvision-layout 2D ResNet over frames; with ``temporal_shift`` it is TSM.

    Args:
        block: BasicBlock2d or Bottleneck2d.
        layers: blocks per stage, e.g. (2, 2, 2, 2) for ResNet-18.
        width: channels of the first stage (64 in the published model).
        temporal_shift: insert a TemporalShift at the start of every residual branch.
        stem_pool: keep the stem's max-pool; False is the low-resolution variant (same parameters).
    """

    def __init__(self, block: type, layers: tuple[int, ...], width: int = 64, temporal_shift: bool = False,
                 stem_pool: bool = True) -> None:
        super().__init__()
        self.clock = _Clock()
        self.stem = nn.Sequential(
            nn.Conv2d(3, width, 7, 2, 3, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, 1) if stem_pool else nn.Identity(),
        )
        stages, cin = [], width
        for i, n in enumerate(layers):
            planes = width * 2**i
            blocks = []
            for j in range(n):
                shift = TemporalShift(self.clock) if temporal_shift else None
                blocks.append(block(cin, planes, 2 if (i > 0 and j == 0) else 1, shift))
                cin = planes * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.out_dim = cin
        _init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Clips B×C×T×H×W → features B×D (per-frame features averaged over T)."""
        b, c, t, h, w = x.shape
        self.clock.t = t
        frames = x.transpose(1, 2).reshape(b * t, c, h, w)
        feats = self.stages(self.stem(frames)).mean((2, 3))
        return feats.view(b, t, -1).mean(1)


def _init(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Conv3d)):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
