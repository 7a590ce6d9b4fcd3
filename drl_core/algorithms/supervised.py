"""The supervised baseline: cross-entropy on clean clips."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from drl_core.algorithms.base import Algorithm, StepOutput, detached


class Supervised(Algorithm):
    def __init__(self, video: nn.Module) -> None:
        super().__init__()
        self.video = video

    def forward(self, clips: torch.Tensor, labels: torch.Tensor) -> StepOutput:
        logits = self.video(clips)
        ce = F.cross_entropy(logits, labels)
        return StepOutput(ce, detached(ce=ce), logits, {"ce": ce})
