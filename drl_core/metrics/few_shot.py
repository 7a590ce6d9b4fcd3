"""Few-shot evaluation of frozen features: seeded N-way K-shot episodes, a classifier per episode
(nearest centroid, an L-BFGS logistic regression, or the reference's SGD-trained softmax layer),
mean accuracy with a 95% confidence interval."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F

from drl_core.metrics.linear_probe import fit_linear_probe
from drl_core.names import FEWSHOT_CLASSIFIERS

CLASSIFIERS = FEWSHOT_CLASSIFIERS


@dataclass(frozen=True)
class CloserRecipe:
    """The reference's ``CloserBaseline(method="softmax")`` (JerryYLi/video-drl ``models/fsl.py``):
    SGD on the support set, every parameter weight-decayed."""

    lr: float = 0.01
    momentum: float = 0.9
    dampening: float = 0.9
    weight_decay: float = 1e-3
    epochs: int = 100
    batch_size: int = 4


@dataclass(frozen=True)
class Episode:
    """Indices into the item list: ``classes`` (ways,), ``support`` (ways·shots,), ``query``
    (ways·queries,); ``support_labels`` / ``query_labels`` give each item's class as 0..ways-1."""

    classes: np.ndarray
    support: np.ndarray
    query: np.ndarray
    support_labels: np.ndarray
    query_labels: np.ndarray


@dataclass(frozen=True)
class FewShotResult:
    """Per-episode accuracies (E,), their mean and the half-width of the 95% interval."""

    accuracies: np.ndarray
    classes: tuple[int, ...]  # the class pool episodes were drawn from

    @property
    def mean(self) -> float:
        return float(self.accuracies.mean())

    @property
    def ci95(self) -> float:
        n = len(self.accuracies)
        return float(1.96 * self.accuracies.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")


def eligible_classes(labels: np.ndarray, need: int, pool: np.ndarray | None = None) -> np.ndarray:
    """Classes (from ``pool``, default all) with at least ``need`` items, sorted."""
    values, counts = np.unique(labels, return_counts=True)
    ok = values[counts >= need]
    return ok if pool is None else np.intersect1d(ok, pool)


def sample_episode(labels: np.ndarray, classes: np.ndarray, ways: int, shots: int, queries: int,
                   rng: np.random.Generator) -> Episode:
    """``ways`` distinct classes from ``classes``; per class ``shots`` support and ``queries``
    query items, drawn without replacement (support and query never share an item)."""
    chosen = rng.choice(classes, size=ways, replace=False)
    support, query = [], []
    for c in chosen:
        items = rng.permutation(np.flatnonzero(labels == c))[: shots + queries]
        support.append(items[:shots])
        query.append(items[shots:])
    return Episode(chosen, np.concatenate(support), np.concatenate(query),
                   np.repeat(np.arange(ways), shots), np.repeat(np.arange(ways), queries))


def nearest_centroid(support: torch.Tensor, support_labels: torch.Tensor, query: torch.Tensor, ways: int) -> torch.Tensor:
    """Predicted class (Q,) of each query: the nearest class mean of L2-normalised features.

    Args:
        support: S×D features; support_labels: S in [0, ways); query: Q×D features.
    """
    s, q = F.normalize(support, dim=1), F.normalize(query, dim=1)
    centroids = torch.zeros(ways, s.shape[1], dtype=s.dtype).index_add_(0, support_labels, s)
    centroids /= torch.bincount(support_labels, minlength=ways).clamp_min(1).unsqueeze(1).to(s.dtype)
    return torch.cdist(q, centroids).argmin(1)


def logistic(support: torch.Tensor, support_labels: torch.Tensor, query: torch.Tensor, ways: int) -> torch.Tensor:
    """Predicted class (Q,) from a logistic regression fitted on the support set."""
    return fit_linear_probe(support, support_labels, ways, weight_decay=1e-2, max_iter=100).logits(query).argmax(1)


def fit_closer_softmax(support: torch.Tensor, support_labels: torch.Tensor, ways: int, rng: np.random.Generator,
                       recipe: CloserRecipe = CloserRecipe()) -> tuple[torch.Tensor, torch.Tensor]:
    """A ``ways``-way linear layer trained on the raw support features as the reference trains it:
    ``nn.Linear``'s initialisation, ``recipe.epochs`` epochs of shuffled batches, softmax
    cross-entropy, SGD with momentum, dampening and weight decay (the gradient is written out; the
    update is ``torch.optim.SGD``'s), in float64. ``rng`` draws the initialisation and the batches.

    Args:
        support: S×D features; support_labels: S in [0, ways).
    Returns:
        the weight D×ways and the bias (ways,).
    """
    x, onehot = support.double(), F.one_hot(support_labels, ways).double()
    bound = 1 / math.sqrt(x.shape[1])  # nn.Linear's initialisation: U(±1/√D) for weight and bias
    params = [torch.from_numpy(rng.uniform(-bound, bound, (x.shape[1], ways))),
              torch.from_numpy(rng.uniform(-bound, bound, ways))]
    momenta: list[torch.Tensor] = []
    for _ in range(recipe.epochs):
        order = torch.from_numpy(rng.permutation(len(x)))
        for start in range(0, len(x), recipe.batch_size):
            rows = order[start:start + recipe.batch_size]
            residual = (torch.softmax(x[rows] @ params[0] + params[1], 1) - onehot[rows]) / len(rows)  # ∂CE/∂logits
            grads = [g + recipe.weight_decay * p for g, p in zip((x[rows].T @ residual, residual.sum(0)), params)]
            momenta = grads if not momenta else [recipe.momentum * m + (1 - recipe.dampening) * g
                                                 for m, g in zip(momenta, grads)]
            params = [p - recipe.lr * m for p, m in zip(params, momenta)]
    return params[0], params[1]


def closer_softmax(support: torch.Tensor, support_labels: torch.Tensor, query: torch.Tensor, ways: int,
                   rng: np.random.Generator) -> torch.Tensor:
    """Predicted class (Q,) of each query (Q×D) by :func:`fit_closer_softmax`'s layer."""
    weight, bias = fit_closer_softmax(support, support_labels, ways, rng)
    return (query.double() @ weight + bias).argmax(1)


def evaluate_few_shot(features: torch.Tensor, labels: torch.Tensor, ways: int, shots: int, queries: int,
                      episodes: int, seed: int, classifier: str = "nearest_centroid",
                      pool: np.ndarray | None = None) -> FewShotResult:
    """Mean accuracy over ``episodes`` seeded episodes.

    Args:
        features: V×D frozen features (one row per video); labels: V class indices.
        pool: the classes episodes may use (e.g. those held out from pretraining); default all.
    """
    if classifier not in CLASSIFIERS:
        raise ValueError(f"classifier must be one of {', '.join(CLASSIFIERS)}, got {classifier!r}")
    y = labels.numpy()
    classes = eligible_classes(y, shots + queries, pool)
    if len(classes) < ways:
        raise ValueError(f"{ways}-way {shots}-shot with {queries} queries needs {ways} classes with at least "
                         f"{shots + queries} videos each; only {len(classes)} have that many")
    rng = np.random.default_rng(seed)
    fixed = {"nearest_centroid": nearest_centroid, "logistic": logistic}.get(classifier)
    feats = features.float()
    accs = np.empty(episodes)
    for e in range(episodes):
        ep = sample_episode(y, classes, ways, shots, queries, rng)  # the same episodes for every classifier
        # closer_softmax's own draws (initialisation, batches) come from (seed, episode), apart from the episodes'
        predict = fixed or partial(closer_softmax, rng=np.random.default_rng([seed, e]))
        pred = predict(feats[ep.support], torch.from_numpy(ep.support_labels), feats[ep.query], ways)
        accs[e] = float((pred.numpy() == ep.query_labels).mean())
    return FewShotResult(accs, tuple(int(c) for c in classes))
