"""The report's numbers: one row per model, gathered from the stages' results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drl_core.metrics import keys
from pipelines import names

MODEL_LABELS = {
    names.BASELINE: "Baseline (supervised)",
    names.CONTINUED: "Baseline, continued (control)",
    "adversarial": "Alg. 1: adversarial augmentation",
    "spatial_adversary": "Alg. 2: spatial adversary",
    "static_inputs": "Alg. 3: static inputs",
}


VARIANT = "@"  # "static_inputs@per_sample": a model of the study variant "per_sample"


def model_label(model: str) -> str:
    """A model's name in tables and figures, its study variant (if any) in brackets."""
    base, _, variant = model.partition(VARIANT)
    return MODEL_LABELS.get(base, base) + (f" [{variant}]" if variant else "")


def model_order(model: str) -> tuple[int, str]:
    """Sort key: the paper's model order, each model's variants after it."""
    base, _, variant = model.partition(VARIANT)
    return (list(MODEL_LABELS).index(base) if base in MODEL_LABELS else len(MODEL_LABELS), variant)


@dataclass(frozen=True)
class Column:
    """A table column: its title, the metric it shows and, optionally, a ± metric."""

    title: str
    metric: str
    plus_minus: str = ""


@dataclass(frozen=True)
class TableLayout:
    """What a study measured: source test sets, downstream, few-shot and evaluation datasets."""

    tests: tuple[str, ...]
    downstream: tuple[str, ...] = ()
    fewshot: tuple[str, ...] = ()
    fewshot_settings: tuple[str, ...] = ()
    evaluation: tuple[str, ...] = ()


def columns(layout: TableLayout) -> list[Column]:
    """The table's columns: per source test set accuracy, DS, agreement and probes; per
    evaluation set accuracy (all classes / its own); per downstream dataset fine-tune and
    linear-probe accuracy; per few-shot dataset and setting mean accuracy ± 95% CI."""
    cols = []
    for t in layout.tests:
        label = t.replace("_", " ")
        cols += [Column(f"acc {label}", keys.acc(t)), Column(f"DS {label}", keys.ds(t)),
                 Column(f"agree {label}", keys.agreement(t)), Column(f"freeze KL {label}", keys.freeze_kl(t)),
                 Column(f"shuffle KL {label}", keys.shuffle_kl(t))]
    for e in layout.evaluation:
        cols += [Column(f"acc {e}", keys.acc(e)), Column(f"acc {e} (own classes)", keys.acc(f"{e}_subset"))]
    for d in layout.downstream:
        cols += [Column(f"fine-tune {d}", keys.finetune_acc(d)), Column(f"linear probe {d}", keys.linear_probe_acc(d))]
    for d in layout.fewshot:
        cols += [Column(f"{s} {d}", keys.fewshot_acc(s, d), keys.fewshot_ci95(s, d)) for s in layout.fewshot_settings]
    return cols


def outcome_metrics(row: dict[str, float]) -> dict[str, float]:
    """The outcome part of a :func:`model_metrics` row (same keys for every model)."""
    # the report's columns, not the training curves the dynamic-score stage also reports
    return {k: v for k, v in row.items() if k.startswith(keys.OUTCOME_PREFIXES)}


def model_metrics(model: str, results: dict[str, Any], layout: TableLayout) -> dict[str, float]:
    """Every report metric of one model from the results of its stages (by stage name)."""
    out = dict(results[names.evaluate_stage(model)]["metrics"])
    out.update(results[names.ds_stage(model)]["metrics"])
    for d in layout.downstream:
        out[keys.finetune_acc(d)] = results[names.finetune_stage(model, d)]["eval"]["test"]["acc1"]
        out[keys.linear_probe_acc(d)] = results[names.linear_probe_stage(model, d)]["acc1"]
    for d in layout.fewshot:
        for s, r in results[names.fewshot_stage(model, d)]["fewshot"].items():
            out[keys.fewshot_acc(s, d)], out[keys.fewshot_ci95(s, d)] = r["acc"], r["ci95"]
    return out


def _cell(metrics: dict[str, float], col: Column) -> str:
    if col.metric not in metrics:
        return "n/a"
    text = f"{metrics[col.metric]:.3f}"
    return f"{text} ± {metrics[col.plus_minus]:.3f}" if col.plus_minus in metrics else text


def markdown_table(rows: dict[str, dict[str, float]], cols: list[Column]) -> str:
    """Models × columns; accuracies and KLs with three decimals."""
    head = "| model | " + " | ".join(c.title for c in cols) + " |"
    lines = [head, "|" + "---|" * (len(cols) + 1)]
    for model, metrics in rows.items():
        cells = [_cell(metrics, c) for c in cols]
        lines.append(f"| {model_label(model)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
