"""Spatial distillation, the first half of the dynamic score: a spatial model mimics a frozen video model."""

from __future__ import annotations

import torch
from torch import nn

from drl_core.algorithms.base import Algorithm, StepOutput, detached
from drl_core.losses import kd_loss


class SpatialDistillation(Algorithm):
    """Train ``spatial`` to minimise KD(spatial ‖ video) with the video model frozen.

    ``video`` here names the *trained* network (the spatial student), so the shared engine's
    evaluation reports the student's accuracy; the frozen teacher is ``teacher``.
    """

    def __init__(self, teacher: nn.Module, spatial: nn.Module, temperature: float = 1.0) -> None:
        super().__init__()
        self.teacher, self.video, self.temperature = teacher, spatial, temperature
        for p in self.teacher.parameters():
            p.requires_grad_(False)

    def train(self, mode: bool = True) -> "SpatialDistillation":
        super().train(mode)
        self.teacher.eval()  # the teacher's BN statistics stay frozen
        return self

    def forward(self, clips: torch.Tensor, labels: torch.Tensor) -> StepOutput:
        with torch.no_grad():
            teacher_logits = self.teacher(clips)
        logits = self.video(clips)
        kd = kd_loss(logits, teacher_logits, self.temperature)
        return StepOutput(kd, detached(kd=kd), logits)
