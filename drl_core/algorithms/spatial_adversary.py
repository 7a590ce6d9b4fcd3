"""Alg. 2, learned spatial adversary: push the video model away from what a spatial model can mimic.

The spatial model minimises KD(spatial ‖ video); the same term reaches the video model through
gradient reversal scaled by λ, so the video model minimises CE − λ·KD(spatial ‖ video).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from drl_core.algorithms.base import Algorithm, StepOutput, detached
from drl_core.losses import grad_reverse, kd_loss


class SpatialAdversary(Algorithm):
    def __init__(self, video: nn.Module, spatial: nn.Module, lam: float = 0.5, temperature: float = 1.0) -> None:
        super().__init__()
        self.video, self.spatial = video, spatial
        self.lam, self.temperature = lam, temperature

    def forward(self, clips: torch.Tensor, labels: torch.Tensor) -> StepOutput:
        logits = self.video(clips)
        ce = F.cross_entropy(logits, labels)
        # The spatial model gets +∂KD (mimicry); the video model gets −λ·∂KD (evasion).
        kd = kd_loss(self.spatial(clips), grad_reverse(logits, self.lam), self.temperature)
        return StepOutput(ce + kd, detached(ce=ce, kd=kd), logits)
