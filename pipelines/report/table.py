"""The report's numbers: one row per model, gathered from the stages' results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MODEL_LABELS = {
    "baseline": "Baseline (supervised)",
    "continued": "Baseline, continued (control)",
    "adversarial": "Alg. 1: adversarial augmentation",
    "spatial_adversary": "Alg. 2: spatial adversary",
    "static_inputs": "Alg. 3: static inputs",
}


@dataclass(frozen=True)
class Column:
    title: str
    metric: str


def columns(tests: tuple[str, ...], downstream: tuple[str, ...]) -> list[Column]:
    """The table's columns: per source test set accuracy, DS, agreement and probes; then per
    downstream dataset fine-tune and linear-probe accuracy."""
    cols = []
    for t in tests:
        label = t.replace("_", " ")
        cols += [Column(f"acc {label}", f"eval/acc1_{t}"), Column(f"DS {label}", f"ds/kl_{t}"),
                 Column(f"agree {label}", f"ds/agreement_{t}"), Column(f"freeze KL {label}", f"probe/freeze_kl_{t}"),
                 Column(f"shuffle KL {label}", f"probe/shuffle_kl_{t}")]
    for d in downstream:
        cols += [Column(f"fine-tune {d}", f"finetune/{d}/acc1"), Column(f"linear probe {d}", f"linear_probe/{d}/acc1")]
    return cols


def model_metrics(model: str, results: dict[str, Any], downstream: tuple[str, ...]) -> dict[str, float]:
    """Every report metric of one model from the results of its stages (by stage name)."""
    out = dict(results[f"evaluate/{model}"]["metrics"])
    out.update(results[f"dynamic_score/{model}"]["metrics"])
    for d in downstream:
        out[f"finetune/{d}/acc1"] = results[f"finetune/{model}/{d}"]["eval"]["test"]["acc1"]
        out[f"linear_probe/{d}/acc1"] = results[f"linear_probe/{model}/{d}"]["acc1"]
    return out


def markdown_table(rows: dict[str, dict[str, float]], cols: list[Column]) -> str:
    """Models × columns; accuracies and KLs with three decimals."""
    head = "| model | " + " | ".join(c.title for c in cols) + " |"
    lines = [head, "|" + "---|" * (len(cols) + 1)]
    for model, metrics in rows.items():
        cells = [f"{metrics[c.metric]:.3f}" if c.metric in metrics else "n/a" for c in cols]
        lines.append(f"| {MODEL_LABELS.get(model, model)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
