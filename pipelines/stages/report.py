"""Stage: the study report (``report.md``, figures, ``results.json``), also copied to
``<output dir>/report``."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass

import numpy as np

from drl_core.metrics import keys
from pipelines.config.schema import ReportConfig
from pipelines.report import plots
from pipelines.report.table import TableLayout, columns, markdown_table, model_metrics
from pipelines import names
from pipelines.names import BASELINE
from pipelines.report.verdict import verdict
from pipelines.stages.base import StageContext


@dataclass(frozen=True)
class ReportStage:
    report: ReportConfig
    models: tuple[str, ...]
    downstream: tuple[str, ...]
    tests: tuple[str, ...]
    fewshot: tuple[str, ...] = ()
    fewshot_settings: tuple[str, ...] = ()  # e.g. 5way1shot
    evaluation: tuple[str, ...] = ()
    second_phase: bool = True  # the DRL models and the control continue the baseline

    @property
    def layout(self) -> TableLayout:
        return TableLayout(self.tests, self.downstream, self.fewshot, self.fewshot_settings, self.evaluation)


def phase_start(cfg: ReportStage, results: dict[str, dict]) -> dict[str, int]:
    """The baseline epoch each model's own epochs continue (0 for the baseline, and for all in
    a from-scratch study)."""
    if not cfg.second_phase or names.pretrain_stage(BASELINE) not in results:
        return {}
    start = len(results[names.pretrain_stage(BASELINE)]["history"])
    return {m: start for m in cfg.models if m != BASELINE}


def figures(ctx: StageContext, results: dict[str, dict], rows: dict[str, dict[str, float]]) -> list[str]:
    cfg: ReportStage = ctx.config
    curves = plots.learning_curves({m: results[names.pretrain_stage(m)]["history"] for m in cfg.models},
                                   ctx.dir / "learning_curves.png", phase_start(cfg, results))
    test = cfg.tests[-1]
    per_class = {m: results[names.ds_stage(m)]["eval"][test]["per_class"] for m in cfg.models}
    ds = plots.ds_per_class(per_class, ctx.dir / "ds_per_class.png")
    points = {m: (rows[m][keys.acc(test)], rows[m][keys.ds(test)]) for m in cfg.models}
    scatter = plots.ds_against_accuracy(points, test.replace("_", " "), ctx.dir / "ds_vs_accuracy.png")
    out = [str(curves), str(ds), str(scatter)]
    dataset = cfg.report.tsne_dataset or (cfg.downstream[0] if cfg.downstream else "")
    if dataset:
        feats = {m: dict(np.load(results[names.linear_probe_stage(m, dataset)]["features"])) for m in cfg.models}
        out.append(str(plots.tsne_grid(feats, f"t-SNE of pooled features, {dataset} test set", ctx.dir / "tsne.png",
                                       cfg.report.tsne_points, cfg.report.tsne_perplexity)))
    return out


def chance(results: dict[str, dict]) -> float | None:
    """1 / the number of source classes (those the baseline trained on)."""
    classes = results.get(names.pretrain_stage(BASELINE), {}).get("classes")
    return 1 / len(classes) if classes else None


def render(ctx: StageContext, rows: dict[str, dict[str, float]], figs: list[str], chance_level: float | None) -> str:
    cfg: ReportStage = ctx.config
    test = cfg.tests[-1].replace("_", " ")
    lines = ["# Study report", "", verdict(rows, cfg.tests, cfg.downstream, chance_level, cfg.evaluation), "## Table", "",
             f"Output folder: `{ctx.output_dir}`. Accuracies are top-1 over {', '.join(cfg.tests)} test videos "
             "(logits averaged over each video's test clips, centre crops). DS is the mean KL (nats) between the "
             "model and a spatial model distilled from it; agreement is their top-1 agreement; the freeze and "
             "shuffle KLs compare the model with itself on frozen-frame and shuffled-frame clips. Few-shot "
             "cells give mean accuracy ± the 95% confidence interval over the episodes; evaluation sets "
             "(e.g. Mimetics) give accuracy over all the model's classes / over the set's own classes.", "",
             markdown_table(rows, columns(cfg.layout)), "",
             "## Figures", "", "![learning curves](learning_curves.png)", "",
             f"![DS against accuracy, {test}](ds_vs_accuracy.png)", "",
             f"![DS per class, {test}](ds_per_class.png)", ""]
    if any(f.endswith("tsne.png") for f in figs):
        lines += ["![t-SNE](tsne.png)", ""]
    return "\n".join(lines)


def run(ctx: StageContext) -> dict:
    cfg: ReportStage = ctx.config
    results = {name: r.outputs for name, r in ctx.inputs.items()}
    rows = {m: model_metrics(m, results, cfg.layout) for m in cfg.models}
    figs = figures(ctx, results, rows)
    (ctx.dir / "report.md").write_text(render(ctx, rows, figs, chance(results)))
    (ctx.dir / "results.json").write_text(json.dumps(rows, indent=1))
    latest = ctx.output_dir / "report"
    shutil.rmtree(latest, ignore_errors=True)
    shutil.copytree(ctx.dir, latest, ignore=shutil.ignore_patterns("result.json*"))
    metrics = {f"{m}/{k}": v for m, row in rows.items() for k, v in row.items()}
    return {"report": str(latest / "report.md"), "rows": rows, "metrics": metrics,
            "artifacts": [str(ctx.dir / "report.md"), str(ctx.dir / "results.json"), *figs]}
