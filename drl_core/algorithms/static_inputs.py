"""Alg. 3, static inputs: make the prediction on a clip differ from that on its static version.

The static clip repeats the first frame ("freeze") or permutes the frames ("shuffle"). The video
model minimises CE − λ·KL(p_video ‖ stopgrad(p_static)), optionally weighting each sample by
1 − exp(−relu(CE_static − CE)) so that clips the static view already fails on push less.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from drl_core.algorithms.base import Algorithm, StepOutput, detached
from drl_core.losses import kl_per_sample


def static_clips(clips: torch.Tensor, mode: str, generator: torch.Generator | None = None) -> torch.Tensor:
    """The static view of clips B×C×T×H×W: first frame repeated, or frames shuffled in time."""
    if mode == "freeze":
        return clips[:, :, :1].expand_as(clips).contiguous()
    if mode == "shuffle":
        perm = torch.randperm(clips.shape[2], generator=generator).to(clips.device)
        return clips[:, :, perm]
    raise ValueError(f"unknown static mode {mode!r} (valid: freeze, shuffle)")


class StaticInputs(Algorithm):
    def __init__(self, video: nn.Module, lam: float = 0.5, mode: str = "freeze",
                 per_sample_scaling: bool = False, temperature: float = 1.0) -> None:
        super().__init__()
        self.video, self.lam, self.mode = video, lam, mode
        self.per_sample_scaling, self.temperature = per_sample_scaling, temperature

    def forward(self, clips: torch.Tensor, labels: torch.Tensor) -> StepOutput:
        logits = self.video(clips)
        with torch.no_grad():  # the static prediction is a stop-gradient target: no graph needed
            static_logits = self.video(static_clips(clips, self.mode))
        ce_each = F.cross_entropy(logits, labels, reduction="none")
        kl = kl_per_sample(logits, static_logits, self.temperature)
        if self.per_sample_scaling:
            ce_static = F.cross_entropy(static_logits, labels, reduction="none")
            weight = 1 - torch.exp(-F.relu(ce_static - ce_each.detach()))
        else:
            weight = torch.ones_like(kl)
        dyn = (weight * kl).mean()
        ce = ce_each.mean()
        return StepOutput(ce - self.lam * dyn, detached(ce=ce, kl_static=kl.mean(), weight=weight.mean()), logits,
                          {"ce": ce, "kl_static": -self.lam * dyn})
