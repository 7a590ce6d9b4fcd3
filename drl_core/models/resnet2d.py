"""2D ResNets applied frame by frame (R2D) and with temporal shift (TSM).

Both fold time into the batch: B×C×T×H×W → (B·T)×C×H×W, run a 2D ResNet, and average the
per-frame pooled features over T.
"""

from __future__ import annotations

import torch
from torch import nn

from drl_core.models.blocks import init_weights, make_stages


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


class ResNet2dVideo(nn.Module):
    """A torchvision-layout 2D ResNet over frames; with ``temporal_shift`` it is TSM.

    Args:
        block: BasicBlock or Bottleneck (from drl_core.models.blocks).
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
        shifts = (lambda: TemporalShift(self.clock)) if temporal_shift else None
        self.stages, self.out_dim = make_stages(block, layers, width, dim=2, shift_factory=shifts)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Clips B×C×T×H×W → features B×D (per-frame features averaged over T)."""
        b, c, t, h, w = x.shape
        self.clock.t = t
        frames = x.transpose(1, 2).reshape(b * t, c, h, w)
        feats = self.stages(self.stem(frames)).mean((2, 3))
        return feats.view(b, t, -1).mean(1)
