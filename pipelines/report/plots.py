"""The report's figures: learning curves, DS per class, and a t-SNE of downstream features."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipelines.report.table import model_label
from pipelines.report.tsne import tsne


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def phase_epochs(histories: dict[str, list[dict]], phase_start: dict[str, int]) -> dict[str, list[int]]:
    """The x positions of each model's epochs (1-based): a second phase continues from the epoch
    where it started (``phase_start[model]``, e.g. the baseline's last epoch), others from 0."""
    return {m: [phase_start.get(m, 0) + row["epoch"] + 1 for row in h] for m, h in histories.items()}


def learning_curves(histories: dict[str, list[dict]], path: Path, phase_start: dict[str, int] | None = None) -> Path:
    """Training loss and accuracy per epoch of every pretraining stage; each second phase
    (DRL algorithm or control) is drawn from the baseline epoch it continues."""
    plt = _pyplot()
    phase_start = phase_start or {}
    xs = phase_epochs(histories, phase_start)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for model, history in histories.items():
        axes[0].plot(xs[model], [row["train/loss"] for row in history], marker=".", label=model_label(model))
        axes[1].plot(xs[model], [row["train/acc1"] for row in history], marker=".")
    for start in sorted(set(v for v in phase_start.values() if v > 0)):
        for ax in axes:
            ax.axvline(start + 0.5, color="grey", linestyle=":", linewidth=1)
        axes[0].annotate("second phase", (start + 0.5, 1), xycoords=("data", "axes fraction"), fontsize=7,
                         ha="left", va="top", color="grey")
    axes[0].set(xlabel="epoch (a second phase continues from the baseline)", ylabel="training loss (nats)")
    axes[1].set(xlabel="epoch (a second phase continues from the baseline)", ylabel="training accuracy (fraction)")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def draw_ds_against_accuracy(ax, points: dict[str, tuple[float, float]], test: str) -> None:
    """Into ``ax``: one point per model, its accuracy (x) and DS (y) on the test ``test``."""
    for model, (acc, ds) in points.items():
        ax.scatter([acc], [ds], s=40, label=model_label(model))
        ax.annotate(model_label(model).split(":")[0], (acc, ds), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set(xlabel=f"top-1 accuracy, {test} (fraction)", ylabel=f"DS, {test} (KL, nats)")
    ax.legend(fontsize=7)


def ds_against_accuracy(points: dict[str, tuple[float, float]], test: str, path: Path) -> Path:
    """The figure of :func:`draw_ds_against_accuracy`, written to ``path``."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    draw_ds_against_accuracy(ax, points, test)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def ds_per_class(per_class: dict[str, dict[str, float]], path: Path) -> Path:
    """Grouped bars: the dynamic score (KL) of each class, one bar per model."""
    plt = _pyplot()
    classes = sorted({c for scores in per_class.values() for c in scores})
    x, width = np.arange(len(classes)), 0.8 / max(len(per_class), 1)
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(classes) + 2), 3.8))
    for i, (model, scores) in enumerate(per_class.items()):
        ax.bar(x + i * width, [scores.get(c, 0.0) for c in classes], width, label=model_label(model))
    ax.set_xticks(x + width * (len(per_class) - 1) / 2, classes, rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("DS (KL, nats)")
    ax.set_xlabel("class")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def tsne_grid(features: dict[str, dict[str, np.ndarray]], title: str, path: Path, points: int,
              perplexity: float) -> Path:
    """One t-SNE panel per model of pooled features coloured by class (supplement, Fig. 1)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(features), figsize=(3.2 * len(features), 3.2), squeeze=False)
    for ax, (model, arrays) in zip(axes[0], features.items()):
        keep = np.random.default_rng(0).permutation(len(arrays["labels"]))[:points]
        emb = tsne(arrays["features"][keep], perplexity)
        ax.scatter(emb[:, 0], emb[:, 1], c=arrays["labels"][keep], cmap="tab10", s=8)
        ax.set_title(model_label(model), fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set(xlabel="t-SNE 1 (no unit)", ylabel="t-SNE 2 (no unit)")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def bias_sweep(series: dict[str, dict[str, list[tuple[float, float, float]]]], path: Path) -> Path:
    """One panel per measure: its mean ± std over seeds against the benchmark's bias, a line per
    model (``series``: model → measure → [(bias, mean, std)])."""
    plt = _pyplot()
    measures = list(next(iter(series.values())))
    fig, axes = plt.subplots(1, len(measures), figsize=(4.2 * len(measures), 3.4), squeeze=False)
    for ax, measure in zip(axes[0], measures):
        for model, by_measure in series.items():
            bias, mean, std = zip(*sorted(by_measure[measure]))
            ax.errorbar(bias, mean, yerr=std, marker="o", capsize=3, label=model_label(model))
        ax.set(xlabel="benchmark bias (probability of the home scene)", ylabel=f"{measure} ({'KL, nats' if measure.startswith('DS') else 'fraction'})")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
