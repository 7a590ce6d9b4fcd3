"""Alg. 2, learned spatial adversary: push the video model away from what a spatial model can mimic.

As in the reference code, the spatial model minimises λ·KD(spatial ‖ video) + CE(spatial, y):
a mimic that is also a classifier. The KD term reaches the video model through gradient reversal,
so the video model minimises CE(video, y) − λ·KD(spatial ‖ video).
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
        """Clips B×C×T×H×W, labels B → one loss for both networks (their gradients differ)."""
        logits = self.video(clips)
        ce = F.cross_entropy(logits, labels)
        sp_logits = self.spatial(clips)
        # Through the reversal the spatial model gets +λ·∂KD (mimicry), the video model −λ·∂KD (evasion).
        kd = kd_loss(sp_logits, grad_reverse(logits), self.temperature)
        sp_ce = F.cross_entropy(sp_logits, labels)
        # the video model's share of λ·KD is its evasion (−λ·∂KD through the reversal); sp_ce is not its
        return StepOutput(ce + self.lam * kd + sp_ce, detached(ce=ce, kd=kd, spatial_ce=sp_ce), logits,
                          {"ce": ce, "kd_evasion": self.lam * kd})
