"""Exact t-SNE (van der Maaten & Hinton, 2008) in NumPy, for a few hundred points."""

from __future__ import annotations

import numpy as np


def _conditional_p(dist2: np.ndarray, perplexity: float, tol: float = 1e-4, steps: int = 60) -> np.ndarray:
    """Row-wise Gaussian affinities N×N whose entropy matches ``log(perplexity)`` (binary search)."""
    n = len(dist2)
    p = np.zeros((n, n))
    target = np.log(perplexity)
    for i in range(n):
        d = np.delete(dist2[i], i)
        lo, hi, beta = 0.0, np.inf, 1.0
        for _ in range(steps):
            w = np.exp(-(d - d.min()) * beta)
            row = w / w.sum()
            entropy = -np.sum(row * np.log(np.maximum(row, 1e-12)))
            if abs(entropy - target) < tol:
                break
            if entropy > target:
                lo, beta = beta, beta * 2 if hi == np.inf else (beta + hi) / 2
            else:
                hi, beta = beta, (beta + lo) / 2
        p[i, np.arange(n) != i] = row
    return p


def tsne(x: np.ndarray, perplexity: float = 20.0, iterations: int = 500, seed: int = 0) -> np.ndarray:
    """Embed features N×D into N×2."""
    x = np.asarray(x, np.float64)
    x = (x - x.mean(0)) / (x.std(0) + 1e-8)
    sq = (x ** 2).sum(1)
    dist2 = np.maximum(sq[:, None] + sq[None] - 2 * x @ x.T, 0)
    p = _conditional_p(dist2, min(perplexity, (len(x) - 1) / 3))
    p = np.maximum((p + p.T) / (2 * len(x)), 1e-12)
    y = np.random.default_rng(seed).normal(0, 1e-4, (len(x), 2))
    velocity, gains = np.zeros_like(y), np.ones_like(y)
    rate = max(len(x) / 12.0 / 4.0, 50.0)
    for it in range(iterations):
        exaggeration, momentum = (12.0, 0.5) if it < 100 else (1.0, 0.8)
        sy = (y ** 2).sum(1)
        num = 1 / (1 + np.maximum(sy[:, None] + sy[None] - 2 * y @ y.T, 0))
        np.fill_diagonal(num, 0)
        q = np.maximum(num / num.sum(), 1e-12)
        pq = (exaggeration * p - q) * num
        grad = 4 * ((np.diag(pq.sum(1)) - pq) @ y)
        gains = np.where(np.sign(grad) != np.sign(velocity), gains + 0.2, gains * 0.8).clip(0.01)
        velocity = momentum * velocity - rate * gains * grad
        y = y + velocity
        y -= y.mean(0)
    return y
