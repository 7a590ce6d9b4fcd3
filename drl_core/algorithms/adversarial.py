"""Alg. 1, adversarial augmentation: train on clips that fool a spatial mimic of the model.

The spatial model learns α·KD(spatial ‖ video) + (1−α)·CE(spatial). Clips are perturbed within
ε (pixel L∞) to raise the spatial model's cross-entropy on the attack target, which destroys the
static evidence it relies on; the video model minimises (1−β)·CE(clean) + β·CE(adversarial).
The target is the video model's own prediction (``predicted``, as the reference code does) or
the true label (``label``).
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from drl_core.adversaries import attack
from drl_core.algorithms.base import Algorithm, StepOutput, detached
from drl_core.losses import kd_loss


class AdversarialAugmentation(Algorithm):
    def __init__(self, video: nn.Module, spatial: nn.Module, mean: Sequence[float], std: Sequence[float],
                 alpha: float = 0.5, beta: float = 0.5, epsilon: float = 8 / 255, attack: str = "fgsm",
                 attack_steps: int = 5, temperature: float = 1.0, attack_target: str = "predicted") -> None:
        super().__init__()
        self.video, self.spatial = video, spatial
        self.mean, self.std = tuple(mean), tuple(std)
        self.alpha, self.beta, self.epsilon = alpha, beta, epsilon
        self.attack, self.attack_steps, self.temperature = attack, attack_steps, temperature
        if attack_target not in ("predicted", "label"):
            raise ValueError(f"attack_target must be predicted or label, got {attack_target!r}")
        self.attack_target = attack_target
        self.last_adversarial: torch.Tensor | None = None  # kept for inspection and tests

    def forward(self, clips: torch.Tensor, labels: torch.Tensor) -> StepOutput:
        logits = self.video(clips)
        target = logits.detach().argmax(1) if self.attack_target == "predicted" else labels
        adv = attack(self.attack, self.spatial, clips, target, self.epsilon, self.mean, self.std, self.attack_steps)
        self.last_adversarial = adv
        ce_clean = F.cross_entropy(logits, labels)
        ce_adv = F.cross_entropy(self.video(adv), labels)
        video_loss = (1 - self.beta) * ce_clean + self.beta * ce_adv
        sp_logits = self.spatial(clips)
        sp_kd = kd_loss(sp_logits, logits.detach(), self.temperature)
        sp_ce = F.cross_entropy(sp_logits, labels)
        spatial_loss = self.alpha * sp_kd + (1 - self.alpha) * sp_ce
        return StepOutput(
            video_loss + spatial_loss,
            detached(ce=ce_clean, ce_adv=ce_adv, spatial_kd=sp_kd, spatial_ce=sp_ce),
            logits,
            {"ce": (1 - self.beta) * ce_clean, "ce_adv": self.beta * ce_adv},  # the spatial terms see logits.detach()
        )
