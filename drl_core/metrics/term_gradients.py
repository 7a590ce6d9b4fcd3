"""How hard each term of a DRL objective pulls on the video model: per-term gradient sizes.

A DRL term can only change what the video model learns if its gradient is not negligible next
to the cross-entropy's, and not merely parallel to it. For each term of
:attr:`~drl_core.algorithms.base.StepOutput.video_terms` (the weighted terms of the video
model's objective, CE first), :func:`term_gradients` averages over batches the L2 norm of its
gradient with respect to the video model's parameters and the cosine between that gradient and
the CE term's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch

from drl_core.algorithms.base import Algorithm
from drl_core.data.transforms import DeviceTransform
from drl_core.engine import Precision, freeze_batchnorm, to_model


@dataclass(frozen=True)
class TermGradient:
    """One term over the batches: mean gradient norm, mean cosine with the CE term's gradient,
    and the mean value of the (weighted) term itself."""

    norm: float
    cosine: float
    value: float


def flat_grad(term: torch.Tensor, params: list[torch.nn.Parameter]) -> torch.Tensor:
    """∂term/∂params as one vector (zeros where the term does not reach a parameter)."""
    grads = torch.autograd.grad(term, params, retain_graph=True, allow_unused=True)
    return torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1) for p, g in zip(params, grads)])


def term_gradients(algo: Algorithm, batches: Iterable[dict], device: torch.device,
                   inputs: DeviceTransform | None = None, freeze_bn: bool = True) -> dict[str, TermGradient]:
    """Per video-model term, its gradient's mean norm and mean cosine with the CE term's.

    ``batches``: dicts with ``clips`` (uint8 B×T×H×W×3 with ``inputs``, or float B×C×T×H×W) and
    ``label`` B, as :func:`drl_core.engine.fit` reads them. The networks are in training mode (the
    adversary attacks as in training), the video model's BN frozen as in the DRL phase.
    Nothing is updated: the gradients are taken with ``torch.autograd.grad``.
    """
    algo.train()
    if freeze_bn:
        freeze_batchnorm(algo.video)
    params = [p for p in algo.video.parameters() if p.requires_grad]
    sums: dict[str, list[float]] = {}
    batches_seen = 0
    for batch in batches:
        clips, labels = to_model(batch, device, inputs, Precision()), batch["label"].to(device)
        terms = algo(clips, labels).video_terms
        grads = {name: flat_grad(term, params) for name, term in terms.items()}
        ce = next(iter(grads.values()))
        ce_norm = float(ce.norm())
        for name, g in grads.items():
            norm = float(g.norm())  # float64 cosine: the CE term's with itself is 1 to 1e-12
            cos = float(torch.nn.functional.cosine_similarity(g.double(), ce.double(), dim=0)) if norm and ce_norm else 0.0
            acc = sums.setdefault(name, [0.0, 0.0, 0.0])
            acc[0] += norm
            acc[1] += cos
            acc[2] += float(terms[name].detach())
        batches_seen += 1
    n = max(batches_seen, 1)
    return {name: TermGradient(v[0] / n, v[1] / n, v[2] / n) for name, v in sums.items()}
