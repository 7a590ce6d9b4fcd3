"""Few-shot evaluation of frozen features: seeded N-way K-shot episodes, a classifier per episode
(nearest centroid, an L-BFGS logistic regression, or the reference's SGD-trained softmax layer),
mean accuracy with a 95% confidence interval.

An item is a video: its features averaged over its test clips, or (``clip_features``, the
reference's way) each of its clips, a support sample of its own, with a query video's scores
averaged over its clips.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
    """Scores Q×ways of each query: minus its distance to each class mean of L2-normalised
    features (the nearest mean scores highest).

    Args:
        support: S×D features; support_labels: S in [0, ways); query: Q×D features.
    """
    s, q = F.normalize(support, dim=1), F.normalize(query, dim=1)
    centroids = torch.zeros(ways, s.shape[1], dtype=s.dtype).index_add_(0, support_labels, s)
    centroids /= torch.bincount(support_labels, minlength=ways).clamp_min(1).unsqueeze(1).to(s.dtype)
    return -torch.cdist(q, centroids)


def logistic(support: torch.Tensor, support_labels: torch.Tensor, query: torch.Tensor, ways: int) -> torch.Tensor:
    """Logits Q×ways of a logistic regression fitted on the support set."""
    return fit_linear_probe(support, support_labels, ways, weight_decay=1e-2, max_iter=100).logits(query)


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
    weight, bias = fit_closer_softmax_episodes(support[None], support_labels[None], ways, [rng], recipe)
    return weight[0], bias[0]


def fit_closer_softmax_episodes(support: torch.Tensor, support_labels: torch.Tensor, ways: int,
                                rngs: list[np.random.Generator],
                                recipe: CloserRecipe = CloserRecipe()) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`fit_closer_softmax` of E episodes at once, on ``support``'s device: episode e's
    layer is trained on its own support set with draws from ``rngs[e]`` alone, as if alone.

    Args:
        support: E×S×D features; support_labels: E×S in [0, ways).
    Returns:
        the weights E×D×ways and the biases E×ways (float64).
    """
    x, onehot = support.double(), F.one_hot(support_labels, ways).double()
    (_, n, d), dev = x.shape, x.device
    bound = 1 / math.sqrt(d)  # nn.Linear's initialisation: U(±1/√D) for weight and bias
    init = [(r.uniform(-bound, bound, (d, ways)), r.uniform(-bound, bound, ways)) for r in rngs]
    params = [torch.from_numpy(np.stack([w for w, _ in init])).to(dev), torch.from_numpy(np.stack([b for _, b in init])).to(dev)]
    momenta: list[torch.Tensor] = []
    for _ in range(recipe.epochs):
        order = torch.from_numpy(np.stack([r.permutation(n) for r in rngs])).to(dev)  # E×S
        for start in range(0, n, recipe.batch_size):
            rows = order[:, start:start + recipe.batch_size]
            xb = x.gather(1, rows[..., None].expand(-1, -1, d))  # E×B×D
            yb = onehot.gather(1, rows[..., None].expand(-1, -1, ways))
            residual = (torch.softmax(xb @ params[0] + params[1][:, None], 2) - yb) / rows.shape[1]  # ∂CE/∂logits
            grads = [g + recipe.weight_decay * p
                     for g, p in zip((xb.transpose(1, 2) @ residual, residual.sum(1)), params)]
            momenta = grads if not momenta else [recipe.momentum * m + (1 - recipe.dampening) * g
                                                 for m, g in zip(momenta, grads)]
            params = [p - recipe.lr * m for p, m in zip(params, momenta)]
    return params[0], params[1]


def episode_items(features: torch.Tensor, ep: Episode) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The support samples, their labels and the query samples of one episode.

    Args:
        features: V×D (an item per video) or V×N×D (an item per clip: each support video gives N
            samples, each query video N rows whose scores the caller averages).
    Returns:
        support S·N×D, support labels S·N, query Q·N×D (N = 1 for V×D).
    """
    support, query = features[ep.support], features[ep.query]
    if features.dim() == 2:
        return support, torch.from_numpy(ep.support_labels), query
    n = features.shape[1]
    return (support.flatten(0, 1), torch.from_numpy(np.repeat(ep.support_labels, n)), query.flatten(0, 1))


def closer_softmax_scores(features: torch.Tensor, eps: list[Episode], ways: int, seed: int,
                          device: torch.device | None = None, chunk_bytes: int = 2 ** 28) -> list[torch.Tensor]:
    """Query scores (Q·N×ways, float64, on the CPU) of :func:`fit_closer_softmax`'s layer in each episode,
    episode e's draws from ``default_rng([seed, e])``. Episodes are trained together on ``device``,
    as many at once as fit ``chunk_bytes`` of support features."""
    per_episode = episode_items(features, eps[0])[0].numel() * 8
    size = max(1, chunk_bytes // per_episode)
    scores: list[torch.Tensor] = []
    for lo in range(0, len(eps), size):
        support, labels, query = (torch.stack(t).to(device) for t in zip(*(episode_items(features, ep)
                                                                          for ep in eps[lo:lo + size])))
        rngs = [np.random.default_rng([seed, e]) for e in range(lo, lo + len(support))]
        weight, bias = fit_closer_softmax_episodes(support, labels, ways, rngs)
        scores += list((query.double() @ weight + bias[:, None]).cpu())
    return scores


def evaluate_few_shot(features: torch.Tensor, labels: torch.Tensor, ways: int, shots: int, queries: int,
                      episodes: int, seed: int, classifier: str = "nearest_centroid",
                      pool: np.ndarray | None = None, device: torch.device | None = None) -> FewShotResult:
    """Mean accuracy over ``episodes`` seeded episodes.

    Args:
        features: V×D frozen features (one item per video), or V×N×D, N clips per video (one
            support sample per clip; a query video's class is the argmax of its clips' mean score).
        labels: V class indices.
        pool: the classes episodes may use (e.g. those held out from pretraining); default all.
        device: where ``closer_softmax`` trains its layers (default the CPU).
    """
    if classifier not in CLASSIFIERS:
        raise ValueError(f"classifier must be one of {', '.join(CLASSIFIERS)}, got {classifier!r}")
    y = labels.numpy()
    classes = eligible_classes(y, shots + queries, pool)
    if len(classes) < ways:
        raise ValueError(f"{ways}-way {shots}-shot with {queries} queries needs {ways} classes with at least "
                         f"{shots + queries} videos each; only {len(classes)} have that many")
    rng = np.random.default_rng(seed)
    eps = [sample_episode(y, classes, ways, shots, queries, rng) for _ in range(episodes)]  # the same for every classifier
    feats = features.float()
    if classifier == "closer_softmax":  # its own draws (initialisation, batches) come from (seed, episode)
        scores = closer_softmax_scores(feats, eps, ways, seed, device)
    else:
        fixed = {"nearest_centroid": nearest_centroid, "logistic": logistic}[classifier]
        scores = [fixed(*episode_items(feats, ep), ways) for ep in eps]
    accs = np.array([float((s.view(len(ep.query), -1, ways).mean(1).argmax(1).numpy() == ep.query_labels).mean())
                     for s, ep in zip(scores, eps)])
    return FewShotResult(accs, tuple(int(c) for c in classes))
