"""Training objectives. Each file holds one; :func:`build_algorithm` builds one from a config."""

from __future__ import annotations

from typing import Sequence

from torch import nn

from drl_core.algorithms.adversarial import AdversarialAugmentation
from drl_core.algorithms.base import Algorithm, StepOutput
from drl_core.algorithms.distillation import SpatialDistillation
from drl_core.algorithms.spatial_adversary import SpatialAdversary
from drl_core.algorithms.static_inputs import StaticInputs, static_clips
from drl_core.algorithms.supervised import Supervised
from drl_core.names import ALGORITHM_NAMES

ALGORITHMS = ALGORITHM_NAMES


def list_algorithms() -> list[str]:
    return list(ALGORITHMS)


def build_algorithm(cfg, video: nn.Module, spatial: nn.Module | None, mean: Sequence[float],
                    std: Sequence[float]) -> Algorithm:
    """The algorithm named by ``cfg`` (an AlgorithmConfig) around ``video``.

    ``spatial`` is required by ``adversarial`` and ``spatial_adversary``.
    """
    if cfg.name == "supervised":
        return Supervised(video)
    if cfg.name == "static_inputs":
        return StaticInputs(video, cfg.lam, cfg.static_mode, cfg.per_sample_scaling, cfg.temperature)
    if spatial is None:
        raise ValueError(f"algorithm {cfg.name!r} needs a spatial model")
    if cfg.name == "adversarial":
        return AdversarialAugmentation(video, spatial, mean, std, cfg.alpha, cfg.beta, cfg.epsilon,
                                       cfg.attack, cfg.attack_steps, cfg.temperature, cfg.attack_target)
    if cfg.name == "spatial_adversary":
        return SpatialAdversary(video, spatial, cfg.lam, cfg.temperature)
    raise ValueError(f"unknown algorithm {cfg.name!r} (valid: {', '.join(ALGORITHMS)})")


__all__ = [
    "ALGORITHMS", "AdversarialAugmentation", "Algorithm", "SpatialAdversary", "SpatialDistillation",
    "StaticInputs", "StepOutput", "Supervised", "build_algorithm", "list_algorithms", "static_clips",
]
