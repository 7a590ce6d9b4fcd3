"""What every training objective returns, and the batch it reads."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn


@dataclass
class StepOutput:
    """One step of an algorithm.

    Attributes:
        loss: the scalar to back-propagate (covers every network the algorithm owns).
        components: named detached scalars for logging, e.g. ``{"ce": ..., "kd": ...}``.
        logits: the video model's logits on the clean clips, B×K.
        video_terms: the weighted, differentiable terms of the video model's own objective,
            the CE term first: their gradients with respect to the video model's parameters
            sum to what ``loss`` gives it (:mod:`drl_core.metrics.term_gradients` compares them).
    """

    loss: torch.Tensor
    components: dict[str, torch.Tensor]
    logits: torch.Tensor
    video_terms: dict[str, torch.Tensor] = field(default_factory=dict)


class Algorithm(nn.Module):
    """A training objective that owns its networks (timm-style task).

    ``forward(clips, labels)`` takes normalised clips B×C×T×H×W and labels B and returns a
    :class:`StepOutput`. ``video`` is the model being trained and evaluated.
    """

    video: nn.Module

    def forward(self, clips: torch.Tensor, labels: torch.Tensor) -> StepOutput:  # pragma: no cover
        raise NotImplementedError


def detached(**values: torch.Tensor) -> dict[str, torch.Tensor]:
    return {k: v.detach() for k, v in values.items()}
