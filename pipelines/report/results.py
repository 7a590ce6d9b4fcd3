"""The controlled study's results page (``docs/RESULTS.md``), computed from MLflow stores.

``python -m pipelines.report.results --store DIR [--store DIR ...] --out docs/RESULTS.md``
reads every finished study in the stores (the newest per seed, benchmark bias and study
variant; a variant's models become rows of their own), and writes:
how the studies were run (their commands, machine and wall time), per bias the seed-averaged
tables of every model, the goal check (does a DRL algorithm beat both the baseline and the
continued baseline by more than 2 std on DS, out-of-context accuracy and mean downstream
linear-probe accuracy), the t-SNE and DS-per-class figures of one seed, and, when the stores
hold several biases, the bias sweep (table and figure). Running it again on the same stores
writes the same file.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
from dataclasses import dataclass
from typing import Callable
from pathlib import Path

from drl_core.metrics import keys
from pipelines import names
from pipelines.config.schema import SYNTHETIC
from pipelines.mlflow_store import open_store
from pipelines.report.cli import emit
from pipelines.report.seeds import aggregate, layout_of, markdown, newest_per_seed, read_store
from pipelines.report.table import VARIANT, Column, TableLayout, columns, model_label, model_order

MEAN_PROBE = "transfer/mean_linear_probe_acc1"
BASELINES = (names.BASELINE, names.CONTINUED)
MEAN_PROBE_COLUMN = Column("mean linear probe", MEAN_PROBE)
DS_COLUMN = Column("DS in context", keys.DS_IN_CONTEXT)
OUT_OF_CONTEXT_COLUMN = Column("acc out of context", keys.ACC_OUT_OF_CONTEXT)
FIGURES = ("tsne.png", "ds_per_class.png")
Compare = Callable[[str, str, str], tuple[float, float]]  # (model, reference, metric) → (gain, gain in stds)


@dataclass(frozen=True)
class Stat:
    """A metric over seeds: mean, sample std and how many seeds."""

    mean: float
    std: float
    n: int


def with_mean_probe(studies: list[dict]) -> list[dict]:
    """Each model's mean linear-probe accuracy over the downstream datasets, as one more metric."""
    for s in studies:
        for metrics in s["models"].values():
            probes = [v for k, v in metrics.items() if k.startswith(keys.LINEAR_PROBE_PREFIX)]
            if probes:
                metrics[MEAN_PROBE] = statistics.fmean(probes)
    return studies


def is_drl(model: str) -> bool:
    return model.partition(VARIANT)[0] not in BASELINES


def references(model: str, models: list[str]) -> list[str]:
    """What a DRL model must beat: the baseline, the continued baseline and, for a study variant,
    the continued baseline of that variant (the same extra epochs) when it has one."""
    variant = model.partition(VARIANT)[2]
    refs = [*BASELINES, f"continued{VARIANT}{variant}" if variant else ""]
    return [r for r in refs if r in models]


def in_stds(gain: float, spread: float, n: int) -> float:
    """``gain`` in units of ``spread`` (NaN with fewer than 2 seeds: no spread to compare with)."""
    if n < 2:
        return float("nan")
    return gain / spread if spread > 1e-12 else float("inf") if gain > 0 else float("-inf")


def unpaired(agg: dict[str, dict[str, Stat]]) -> Compare:
    """Gain = difference of the means; spread = the larger of the two stds over seeds."""
    def compare(model: str, ref: str, metric: str) -> tuple[float, float]:
        a, b = agg[model][metric], agg[ref][metric]
        return a.mean - b.mean, in_stds(a.mean - b.mean, max(a.std, b.std), min(a.n, b.n))
    return compare


def paired(group: list[dict]) -> Compare:
    """Gain = mean over seeds of (model − reference) within a seed (each DRL model continues its
    own seed's baseline); spread = the std of those differences."""
    def compare(model: str, ref: str, metric: str) -> tuple[float, float]:
        diffs = [s["models"][model][metric] - s["models"][ref][metric] for s in group]
        gain = statistics.fmean(diffs)
        return gain, in_stds(gain, statistics.stdev(diffs) if len(diffs) > 1 else 0.0, len(diffs))
    return compare


def goal_columns(layout: TableLayout) -> tuple[Column, ...]:
    """The goal's measures, as far as the studies measured them: DS on the source test set;
    out-of-context accuracy (the built-in benchmark's out-of-context test set, else the first
    evaluation set, e.g. Mimetics for Kinetics); the mean linear probe over the downstream
    datasets."""
    goal = [DS_COLUMN]
    if "out_of_context" in layout.tests:
        goal.append(OUT_OF_CONTEXT_COLUMN)
    elif layout.evaluation:
        goal.append(Column(f"acc {layout.evaluation[0]}", keys.acc(layout.evaluation[0])))
    return (*goal, MEAN_PROBE_COLUMN) if layout.downstream else tuple(goal)


def goal_rows(models: list[str], compare: Compare, goal: tuple[Column, ...]) -> tuple[list[str], list[str]]:
    """The goal table (one row per DRL model and reference) and the models that meet the goal."""
    lines = ["| DRL model | vs | " + " | ".join(c.title for c in goal) + " | beats by > 2 std on all |",
             "|" + "---|" * (len(goal) + 3)]
    winners = []
    for model in filter(is_drl, models):
        beats_all = True
        for ref in references(model, models):
            cells, ok = [], True
            for col in goal:
                gain, sigmas = compare(model, ref, col.metric)
                ok &= sigmas > 2
                cells.append(f"{gain:+.3f} ({sigmas:+.1f} std)" if sigmas == sigmas else f"{gain:+.3f} (1 seed)")
            beats_all &= ok
            lines.append(f"| {model_label(model)} | {model_label(ref)} | "
                         + " | ".join(cells) + f" | {'yes' if ok else 'no'} |")
        if beats_all:
            winners.append(model)
    return lines, winners


def verdict(winners: list[str], seeds: int, goal: tuple[Column, ...]) -> str:
    if seeds < 2:
        return "One seed: no spread over seeds, so the goal cannot be assessed."
    if winners:
        return f"Goal met by: {', '.join(model_label(m) for m in winners)}."
    measures = "all three measures" if len(goal) == 3 else f"every measure ({', '.join(c.title for c in goal)})"
    return ("Goal not met: no DRL model beats both the baseline and the continued baseline by more than 2 std "
            f"on {measures}.")


def provenance(groups: dict[float, list[dict]]) -> list[str]:
    """How the studies were run: command and wall time of each; the machines, the software and
    the kernels the training stages ran (a CPU run's bits depend on all three)."""
    lines = ["| bias | seed | variant | driver command | wall time (min): last run / all runs (count) |",
             "|---|---|---|---|---|"]
    runs = [(bias, s) for bias, g in groups.items() for main in g for s in [main, *main.get("variants", [])]]
    machines = sorted({s["machine"] or "(not recorded)" for _, s in runs})
    software = sorted({s["software"] or "(not recorded)" for _, s in runs})
    computed = sorted({k for _, s in runs for k in s["kernels"]}) or ["(not recorded)"]
    total = 0.0
    for bias, s in sorted(runs, key=lambda r: (r[0], r[1]["variant"], r[1]["seed"])):
        spent, count = s["spent"]
        total += spent
        command = f"`{s['command']}`" if s["command"] else "(not recorded)"
        lines.append(f"| {bias:g} | {s['seed']} | {s['variant'] or '-'} | {command} | "
                     f"{s['wall_s'] / 60:.1f} / {spent / 60:.1f} ({count}) |")
    return lines + ["", f"Total wall time of the studies, every run counted (a study interrupted and run "
                        f"again, or run again to reuse its stages, has several): {total / 3600:.2f} h.", "",
                    "Machine: " + "; ".join(machines) + ".", "",
                    "Software: " + " | ".join(software) + ".", "",
                    "Training stages computed on: " + " | ".join(computed) + "."]


def split_columns(cols: list[Column], downstream: bool) -> tuple[list[Column], list[Column]]:
    """The source-set columns (accuracy, DS, probes) and the transfer columns, ending with the
    mean linear probe where there are ``downstream`` datasets to average."""
    source = [c for c in cols if c.metric.startswith((keys.EVAL_PREFIX, keys.DS_PREFIX, keys.PROBE_PREFIX))]
    return source, [c for c in cols if c not in source] + ([MEAN_PROBE_COLUMN] if downstream else [])


def bias_section(bias: float, group: list[dict]) -> tuple[list[str], dict[str, dict[str, Stat]]]:
    """One bias: the seed-averaged tables and the goal check."""
    layout = layout_of(group)
    cols = [Column(c.title, c.metric) for c in columns(layout)]
    source, transfer = split_columns(cols, bool(layout.downstream))
    seeds = ", ".join(str(s["seed"]) for s in sorted(group, key=lambda s: s["seed"]))
    raw = aggregate(group, source + transfer)
    agg = {m: {k: Stat(*v) for k, v in metrics.items()} for m, metrics in raw.items()}
    measures = goal_columns(layout)
    goal, winners = goal_rows(list(agg), unpaired(agg), measures)
    goal_paired, winners_paired = goal_rows(list(agg), paired(group), measures)
    heading = (f"Benchmark bias {bias:g}" if group[0].get("source", SYNTHETIC) == SYNTHETIC
               else f"{group[0]['source']}")
    lines = [f"## {heading}: mean ± std over seeds {seeds}", "",
             "### Source test sets (accuracy, dynamic score, agreement, frozen/shuffled-frame probes)", "",
             markdown(raw, source), "",
             "### Transfer (fine-tune and linear-probe accuracy per downstream dataset)", "",
             markdown(raw, transfer), "",
             "### Goal check", "",
             "Gain of each DRL model over each reference (difference of the means), and that gain in units "
             "of the larger of the two standard deviations over seeds.", "", *goal, "",
             verdict(winners, len(group), measures), "",
             "Paired by seed (each DRL model and the control continue their own seed's baseline): the mean "
             "over seeds of the within-seed difference, in units of the std of those differences.", "",
             *goal_paired, "", verdict(winners_paired, len(group), measures) + " (paired)", "",
             "### Training terms", "",
             "Each model's loss terms and training accuracy at its first and last epoch (mean ± std over "
             "seeds; the DRL models and the control start from the baseline's last epoch).", "",
             *training_terms(group), ""]
    return lines, agg


def copy_figures(study: dict, folder: Path) -> list[str]:
    """The study's t-SNE and DS-per-class figures (from its MLflow artifacts) into ``folder``."""
    import shutil
    import tempfile


    client = open_store(study["store"], write=False)
    folder.mkdir(parents=True, exist_ok=True)
    copied = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in FIGURES:
            copied.append(f"seed{study['seed']}_{name}")
            shutil.copyfile(client.download_artifacts(study["run"], f"{names.REPORT}/{name}", tmp), folder / copied[-1])
    return copied


def term_histories(study: dict) -> dict[str, dict[str, tuple[float, float]]]:
    """model → training term → (value at the first epoch, at the last), from the run that
    trained the model (a reused stage's run points to it by the stage key)."""

    client = open_store(study["store"], write=False)
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for model, run_id in study["trained"].items():
        out[model] = {}
        for key in sorted(client.get_run(run_id).data.metrics):
            if key.startswith(keys.TRAIN_PREFIX) and key not in (keys.LR, keys.RESUMPTIONS):
                # steps are epochs; a stage also logs its summary at step 0, after epoch 0
                history = sorted(client.get_metric_history(run_id, key), key=lambda m: (m.step, m.timestamp))
                out[model][key] = (history[0].value, history[-1].value)
    return out


def training_terms(group: list[dict]) -> list[str]:
    """Each model's training terms (loss parts, training accuracy) at its first and last epoch,
    mean ± std over seeds: what the DRL objectives did while training."""
    values: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for study in group:
        for model, terms in term_histories(study).items():
            for key, pair in terms.items():
                values.setdefault((model, key), []).append(pair)
    lines = ["| model | term | first epoch | last epoch |", "|---|---|---|---|"]
    for (model, key), pairs in sorted(values.items(), key=lambda kv: (model_order(kv[0][0]), kv[0][1])):
        cells = []
        for i in (0, 1):
            vals = [p[i] for p in pairs]
            std = statistics.stdev(vals) if len(vals) > 1 else float("nan")
            cells.append(f"{statistics.fmean(vals):.4f} ± {std:.4f}")
        lines.append(f"| {model_label(model)} | {key[len(keys.TRAIN_PREFIX):]} | " + " | ".join(cells) + " |")
    return lines


def best_drl(agg: dict[str, dict[str, Stat]]) -> str:
    """The DRL model with the highest mean out-of-context accuracy (the bias sweep is the
    built-in benchmark's, which always has it)."""
    return max(filter(is_drl, agg), key=lambda m: agg[m][keys.ACC_OUT_OF_CONTEXT].mean)


def sweep(aggs: dict[float, dict[str, dict[str, Stat]]], best: str, figure: Path) -> list[str]:
    """Out-of-context accuracy, DS and in-context accuracy against bias, for the baseline and
    ``best`` (at the biases whose studies ran both; the others are named under the table)."""
    from pipelines.report.plots import bias_sweep

    models = [names.BASELINE, best]
    metrics = [OUT_OF_CONTEXT_COLUMN, DS_COLUMN, Column("acc in context", keys.ACC_IN_CONTEXT)]
    have = {b: aggs[b] for b in sorted(aggs) if all(m in aggs[b] for m in models)}
    lines = ["| bias | model | " + " | ".join(c.title for c in metrics) + " |", "|" + "---|" * (len(metrics) + 2)]
    for bias, agg in have.items():
        for m in models:
            cells = [f"{agg[m][c.metric].mean:.3f} ± {agg[m][c.metric].std:.3f} (n={agg[m][c.metric].n})"
                     for c in metrics]
            lines.append(f"| {bias:g} | {model_label(m)} | " + " | ".join(cells) + " |")
    missing = [f"{b:g}" for b in sorted(aggs) if b not in have]
    if missing:
        lines += ["", f"Not in the sweep (no {model_label(best)} run): bias {', '.join(missing)}."]
    series = {m: {c.title: [(b, a[m][c.metric].mean, a[m][c.metric].std if a[m][c.metric].n > 1 else 0.0)
                            for b, a in have.items()] for c in metrics} for m in models}
    bias_sweep(series, figure)
    return lines + ["", f"![bias sweep]({figure.parent.name}/{figure.name})", "",
                    "Error bars: std over seeds (none where n = 1)."]


def render(stores: list[Path], out: Path, argv: list[str], notes: Path | None = None,
           anatomy: bool = False, terms: int = 0) -> str:
    """The whole page; figures go to ``<out's folder>/results/``; ``notes`` (hand-written
    reading of the numbers) are appended as they are; ``anatomy`` adds the DS anatomy of every
    bias (``pipelines.report.ds_anatomy``: reloads the models, so it takes minutes); ``terms``
    adds the DRL terms' gradients at the main bias on that many batches
    (``pipelines.report.term_gradients``)."""
    studies = with_mean_probe([s for store in stores for s in read_store(store)])
    if not studies:
        raise ValueError(f"no finished study run in {', '.join(map(str, stores))}")
    groups = newest_per_seed(studies)
    main_bias = max(groups, key=lambda b: (len(groups[b]), b))
    figures = out.parent / "results"
    sources = sorted({s.get("source", SYNTHETIC) for s in studies})
    on = "the built-in benchmark" if sources == [SYNTHETIC] else ", ".join(sources)
    lines = [f"# The controlled study: DRL on {on}", "",
             f"Generated by `{shlex.join(['python', '-m', 'pipelines.report.results', *argv])}` from the MLflow "
             "store(s): the tables, the figures and the run details are never typed by hand (any notes at the end "
             "are, and are appended as they are). Rerunning that command on the same store writes this file "
             "again.", "",
             "## How it was run", "", *provenance(groups), ""]
    aggs = {}
    for bias in [main_bias, *sorted(b for b in groups if b != main_bias)]:  # the main study first
        section, aggs[bias] = bias_section(bias, groups[bias])
        lines += section
    first = min(groups[main_bias], key=lambda s: s["seed"])
    copied = copy_figures(first, figures)
    lines += [f"## Figures (bias {main_bias:g}, seed {first['seed']})", "",
              *[f"![{n}]({figures.name}/{n})" for n in copied], ""]
    if len(groups) > 1:
        best = best_drl(aggs[main_bias])
        lines += [f"## Bias sweep: baseline and {model_label(best)} (best out of context at bias "
                  f"{main_bias:g})", "", *sweep(aggs, best, figures / "bias_sweep.png")]
    if anatomy:
        from pipelines.report.ds_anatomy import group_anatomy

        lines += ["## DS anatomy: why the dynamic measures can disagree", "",
                  "DS = H(p, q) − H(p): the video model's prediction p scored under its distilled spatial model q, "
                  "less p's own entropy. \"Follows scene\": among clips whose scene is another class's home scene, "
                  "the share labelled as that scene's class. Recomputed from the stored models "
                  "(`pipelines.report.ds_anatomy`); its DS is the dynamic-score stage's.", "",
                  *[group_anatomy(bias, groups[bias]) for bias in aggs]]
    if terms:
        from pipelines.report.term_gradients import markdown as term_table, measure_group

        lines += [f"## The DRL terms' pull on the video model (bias {main_bias:g})", "",
                  "Each DRL stage's algorithm rebuilt as it started its phase (the baseline's weights; Alg. 1/2's "
                  "spatial model from the static task with a fresh head) and with its last epoch's weights "
                  "(`pipelines.report.term_gradients`). A term moves the model only if its gradient is not small "
                  "next to CE's, and adds something only if it is not parallel to CE's.", "",
                  term_table(measure_group(groups[main_bias], terms), terms)]
    if notes is not None:
        lines += [notes.read_text().rstrip(), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--store", action="append", required=True, help="a study output folder (holds mlflow.db)")
    p.add_argument("--out", default="docs/RESULTS.md", help="the page to write (figures go beside it, in results/)")
    p.add_argument("--notes", help="a Markdown file appended as it is (the reading of the numbers)")
    p.add_argument("--anatomy", action="store_true",
                   help="add the DS anatomy of every bias (reloads every model: minutes)")
    p.add_argument("--terms", type=int, default=0, metavar="BATCHES",
                   help="add the DRL terms' gradients at the main bias, on this many training batches")
    args = p.parse_args(argv)
    notes = Path(args.notes) if args.notes else None
    return emit(lambda: render([Path(s) for s in args.store], Path(args.out), argv, notes, args.anatomy, args.terms),
                args.out)


if __name__ == "__main__":
    raise SystemExit(main())
