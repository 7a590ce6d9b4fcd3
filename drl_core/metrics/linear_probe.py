"""The linear probe: a multinomial logistic regression on frozen features."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class LinearProbe:
    """A fitted probe: standardisation (mean, std of D features) and a D×K linear map."""

    mean: torch.Tensor
    std: torch.Tensor
    weight: torch.Tensor
    bias: torch.Tensor

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        """Features N×D → logits N×K."""
        return ((features - self.mean) / self.std) @ self.weight + self.bias

    def accuracy(self, features: torch.Tensor, labels: torch.Tensor) -> float:
        return float((self.logits(features).argmax(1) == labels).float().mean()) if len(labels) else 0.0


def fit_linear_probe(features: torch.Tensor, labels: torch.Tensor, num_classes: int,
                     weight_decay: float = 1e-3, max_iter: int = 200) -> LinearProbe:
    """Fit softmax regression with an L2 penalty by full-batch L-BFGS.

    Args:
        features: N×D training features (float); standardised inside with their own statistics.
        labels: N class indices in [0, num_classes).
        weight_decay: L2 weight on the linear map (not the bias).
        max_iter: L-BFGS iterations.
    """
    x = features.double()
    mean, std = x.mean(0), x.std(0, unbiased=False).clamp_min(1e-6)
    x = (x - mean) / std
    w = torch.zeros(x.shape[1], num_classes, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(num_classes, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(x @ w + b, labels) + weight_decay * (w ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return LinearProbe(mean.float(), std.float(), w.detach().float(), b.detach().float())
