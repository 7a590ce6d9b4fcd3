"""Distillation losses and gradient reversal."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def kl_per_sample(teacher_logits: torch.Tensor, student_logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """KL(p_teacher ‖ p_student) for each row, in nats: B×K, B×K → B."""
    t = F.log_softmax(teacher_logits / temperature, dim=1)
    s = F.log_softmax(student_logits / temperature, dim=1)
    return (t.exp() * (t - s)).sum(1)


def kd_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Knowledge distillation: batch mean of KL(p_teacher ‖ p_student), scaled by T².

    Gradients flow into both arguments; detach the teacher to distil one way only.
    """
    return kl_per_sample(teacher_logits, student_logits, temperature).mean() * temperature**2


def jsd_loss(logits_a: torch.Tensor, logits_b: torch.Tensor) -> torch.Tensor:
    """Jensen–Shannon divergence between two predictions, batch mean, in nats (≤ log 2)."""
    pa, pb = F.softmax(logits_a, 1), F.softmax(logits_b, 1)
    log_m = (0.5 * (pa + pb)).clamp_min(1e-12).log()
    kl_a = (pa * (F.log_softmax(logits_a, 1) - log_m)).sum(1)
    kl_b = (pb * (F.log_softmax(logits_b, 1) - log_m)).sum(1)
    return (0.5 * (kl_a + kl_b)).mean()


class _GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return -ctx.scale * grad, None


def grad_reverse(x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """Identity in the forward pass; multiplies the gradient by ``-scale`` in the backward pass."""
    return _GradReverse.apply(x, scale)
