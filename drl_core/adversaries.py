"""Adversarial perturbations of normalised clips, bounded in pixel space.

Clips are normalised per channel: x = (pixel - mean) / std, pixel in [0, 1]. A budget ε in
pixel units is therefore ε / std_c in channel c, and the valid range of channel c is
[(0 - mean_c) / std_c, (1 - mean_c) / std_c]. Both attacks keep ‖pixel_adv − pixel‖∞ ≤ ε.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F

LossFn = Callable[[torch.Tensor], torch.Tensor]


def _channel_view(values: Sequence[float], like: torch.Tensor) -> torch.Tensor:
    """Per-channel constants shaped to broadcast over B×C×T×H×W."""
    return torch.as_tensor(values, dtype=like.dtype, device=like.device).view(1, -1, 1, 1, 1)


def _project(x_adv: torch.Tensor, x: torch.Tensor, eps: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    return torch.max(torch.min(x_adv, x + eps), x - eps).clamp(min=lo).clamp(max=hi)


def _bounds(x: torch.Tensor, epsilon: float, mean: Sequence[float], std: Sequence[float]):
    std_t, mean_t = _channel_view(std, x), _channel_view(mean, x)
    return epsilon / std_t, (0 - mean_t) / std_t, (1 - mean_t) / std_t


def fgsm_momentum(
    loss_fn: LossFn,
    x: torch.Tensor,
    epsilon: float,
    mean: Sequence[float],
    std: Sequence[float],
    steps: int = 5,
    decay: float = 1.0,
) -> torch.Tensor:
    """Iterative FGSM with momentum (MI-FGSM): ascend ``loss_fn`` within the ε ball.

    Args:
        loss_fn: maps a clip batch B×C×T×H×W to a scalar loss to maximise.
        x: normalised clean clips, B×C×T×H×W.
        epsilon: L∞ budget in pixel units of [0, 1].
        steps: iterations; each moves ε/steps per channel.
        decay: momentum factor on the L1-normalised gradient.

    Returns:
        Detached adversarial clips, same shape as ``x``.
    """
    eps, lo, hi = _bounds(x, epsilon, mean, std)
    step = eps / steps
    x = x.detach()
    x_adv, g = x.clone(), torch.zeros_like(x)
    for _ in range(steps):
        x_adv.requires_grad_(True)
        grad, = torch.autograd.grad(loss_fn(x_adv), x_adv)
        g = decay * g + grad / grad.abs().mean(dim=tuple(range(1, x.dim())), keepdim=True).clamp_min(1e-12)
        x_adv = _project(x_adv.detach() + step * g.sign(), x, eps, lo, hi)
    return x_adv.detach()


def pgd(
    loss_fn: LossFn,
    x: torch.Tensor,
    epsilon: float,
    mean: Sequence[float],
    std: Sequence[float],
    steps: int = 5,
    step_scale: float = 2.5,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Projected gradient ascent from a uniform random start in the ε ball (Madry et al.).

    Each step moves ``step_scale · ε / steps`` along the gradient sign. Shapes as in
    :func:`fgsm_momentum`.
    """
    eps, lo, hi = _bounds(x, epsilon, mean, std)
    x = x.detach()
    noise = torch.rand(x.shape, generator=generator, device="cpu").to(x.device, x.dtype) * 2 - 1
    x_adv = _project(x + noise * eps, x, eps, lo, hi)
    for _ in range(steps):
        x_adv.requires_grad_(True)
        grad, = torch.autograd.grad(loss_fn(x_adv), x_adv)
        x_adv = _project(x_adv.detach() + step_scale * eps / steps * grad.sign(), x, eps, lo, hi)
    return x_adv.detach()


def attack(kind: str, model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, epsilon: float,
           mean: Sequence[float], std: Sequence[float], steps: int) -> torch.Tensor:
    """Perturb ``x`` to raise ``model``'s cross-entropy on labels ``y`` (B), with BN frozen."""
    was_training = model.training
    model.eval()
    try:
        loss_fn = lambda clips: F.cross_entropy(model(clips), y)  # noqa: E731
        if kind == "fgsm":
            return fgsm_momentum(loss_fn, x, epsilon, mean, std, steps)
        if kind == "pgd":
            return pgd(loss_fn, x, epsilon, mean, std, steps)
        raise ValueError(f"unknown attack {kind!r} (valid: fgsm, pgd)")
    finally:
        model.train(was_training)
