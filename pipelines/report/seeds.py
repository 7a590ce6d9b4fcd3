"""Seed-averaged study results, read from MLflow stores (never typed by hand).

``python -m pipelines.report.seeds --store DIR [--store DIR ...] [--out FILE]`` finds every
finished study run (a parent run of ``full_study.py``) in the stores, keeps the newest one per
seed (and benchmark bias), gathers each model's metrics from its stage runs and writes one
Markdown table per bias: mean ± sample standard deviation over the seeds. A metric that one
study has and another lacks is an error naming the study, model and metric.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
from collections import defaultdict
from pathlib import Path

from drl_core.metrics import keys
from pipelines import names, run_tags
from pipelines.config.schema import SYNTHETIC
from pipelines.mlflow_store import open_store, sqlite_path, tracking_uri
from pipelines.report.cli import emit
from pipelines.report.table import VARIANT, Column, TableLayout, columns, model_label, model_order
from pipelines.tracking import EXPERIMENT, folder_key


def stage_metrics(children: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Per model, its report metrics from the study's stage runs (run name → metrics)."""
    models: dict[str, dict[str, float]] = defaultdict(dict)
    for name, metrics in children.items():
        parts = name.split("/")
        if parts[0] in (names.EVALUATE, names.DYNAMIC_SCORE) and len(parts) == 2:
            source = (keys.EVAL_PREFIX, keys.PROBE_PREFIX, keys.DS_PREFIX)
            models[parts[1]].update({k: v for k, v in metrics.items() if k.startswith(source)})
        elif parts[0] == names.FINETUNE and len(parts) == 3 and "acc1_test" in metrics:
            models[parts[1]][keys.finetune_acc(parts[2])] = metrics["acc1_test"]
        elif parts[0] == names.LINEAR_PROBE and len(parts) == 3 and keys.LINEAR_PROBE_ACC in metrics:
            models[parts[1]][keys.linear_probe_acc(parts[2])] = metrics[keys.LINEAR_PROBE_ACC]
        elif parts[0] == names.FEWSHOT and len(parts) == 3:
            for k, v in metrics.items():
                if k.startswith(keys.FEWSHOT_PREFIX) and k.endswith("/acc"):
                    models[parts[1]][keys.fewshot_acc(k.split("/")[1], parts[2])] = v
    return dict(models)


def read_store(store: Path) -> list[dict]:
    """Every finished study of an output folder's MLflow store: its seed, bias, run id and
    per-model metrics. With ``MLFLOW_TRACKING_URI`` set, the server's runs of that folder."""
    db = tracking_uri(store)
    if db.startswith("sqlite:///") and not sqlite_path(db).is_file():
        raise FileNotFoundError(f"{db}: no MLflow store in {store}")
    client = open_store(store, write=False)
    exp = client.get_experiment_by_name(EXPERIMENT)
    if exp is None:
        raise ValueError(f"{db}: no experiment {EXPERIMENT!r}")
    shared = f"tags.`{run_tags.OUTPUT_KEY}` = '{folder_key(store)}'" if os.environ.get("MLFLOW_TRACKING_URI") else ""
    runs = client.search_runs([exp.experiment_id], shared, max_results=50000)
    children: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    trained: dict[str, dict[str, str]] = defaultdict(dict)  # study → pretrain model → the run that trained it
    computed: dict[str, set[str]] = defaultdict(set)  # study → its training stages' kernels tags
    by_key = {r.data.tags[run_tags.KEY]: r.info.run_id for r in runs
              if run_tags.KEY in r.data.tags and r.data.tags.get(run_tags.CACHED) != "true"}
    for r in runs:
        parent = r.data.tags.get("mlflow.parentRunId")
        if parent:
            children[parent][r.info.run_name] = r.data.metrics
            if run_tags.KERNELS in r.data.tags:
                computed[parent].add(r.data.tags[run_tags.KERNELS])
            if names.kind(r.info.run_name) == names.PRETRAIN and r.data.tags.get(run_tags.KEY) in by_key:
                trained[parent][r.info.run_name.split("/", 1)[1]] = by_key[r.data.tags[run_tags.KEY]]
    tops = [r for r in runs if "mlflow.parentRunId" not in r.data.tags and run_tags.KIND not in r.data.tags]
    spent = study_time(tops)
    studies = [r for r in tops if r.info.status == "FINISHED"]
    return [study_row(r, store, spent, stage_metrics(children[r.info.run_id]), trained[r.info.run_id],
                      computed[r.info.run_id]) for r in studies]


def study_row(run, store: Path, spent: dict, models: dict, trained: dict[str, str], computed: set[str]) -> dict:
    """One finished study run as :func:`read_store` returns it (``computed``: the kernels tags of
    the training stages it ran)."""
    bias, variant, seed = study_id(run)
    return {"run": run.info.run_id, "start": run.info.start_time, "store": str(store),
            "seed": seed, "bias": bias, "variant": variant,
            "wall_s": (run.info.end_time - run.info.start_time) / 1000, "spent": spent[(bias, variant, seed)],
            "command": run.data.tags.get(run_tags.COMMAND, ""), "machine": run.data.tags.get(run_tags.MACHINE, ""),
            "software": run.data.tags.get(run_tags.SOFTWARE, ""), "kernels": sorted(computed),
            "source": run.data.params.get("data.source.reader", SYNTHETIC), "models": models, "trained": trained}


def study_id(run) -> tuple[float, str, int]:
    """(bias, variant, seed) of a study run."""
    p = run.data.params
    return float(p.get("benchmark.bias", "nan")), p.get("variant", ""), int(p.get("seed", -1))


def study_time(tops: list) -> dict[tuple[float, str, int], tuple[float, int]]:
    """Per (bias, variant, seed): the wall seconds of all its study runs that ended, finished,
    failed or interrupted, and their number. A study run again after an interruption (or run again
    to reuse every stage) is timed in all its runs, not only the last."""
    spent: dict[tuple[float, str, int], tuple[float, int]] = defaultdict(lambda: (0.0, 0))
    for r in tops:
        if r.info.end_time:
            seconds, count = spent[study_id(r)]
            spent[study_id(r)] = (seconds + (r.info.end_time - r.info.start_time) / 1000, count + 1)
    return spent


def newest_per_seed(studies: list[dict]) -> dict[float, list[dict]]:
    """Per bias, the newest finished study of each seed, with the models of that seed's study
    variants (``variant`` set) folded in as ``<model>@<variant>`` (all but the shared baseline)."""
    keep: dict[tuple[float, str, int], dict] = {}
    for s in sorted(studies, key=lambda s: s["start"]):
        keep[(s["bias"], s["variant"], s["seed"])] = s
    out: dict[float, list[dict]] = defaultdict(list)
    for (bias, variant, _), s in sorted(keep.items()):
        if not variant:
            out[bias].append(s)
    for (bias, variant, _), s in sorted(keep.items()):
        if variant:
            fold_variant(out.get(bias, []), s)
    for bias, group in out.items():
        check_variants(bias, group)
    return dict(out)


def fold_variant(group: list[dict], variant: dict) -> None:
    """Add a variant study's models (but the baseline) to its seed's study in ``group``."""
    main = next((m for m in group if m["seed"] == variant["seed"]), None)
    if main is None:
        raise ValueError(f"study {variant['run']} (variant {variant['variant']!r}, seed {variant['seed']}, bias "
                         f"{variant['bias']:g}, {variant['store']}): no study without a variant for that seed and "
                         "bias to compare it with")
    for key in ("models", "trained"):
        main[key].update({f"{m}{VARIANT}{variant['variant']}": v for m, v in variant[key].items() if m != "baseline"})
    main["variants"] = main.get("variants", []) + [variant]


def check_variants(bias: float, group: list[dict]) -> None:
    """Every variant at ``bias`` must have run every seed of the study."""
    for name in sorted({v["variant"] for main in group for v in main.get("variants", [])}):
        have = sorted(m["seed"] for m in group if any(v["variant"] == name for v in m.get("variants", [])))
        if len(have) != len(group):
            raise ValueError(f"variant {name!r} at bias {bias:g} finished seeds {have}, the study "
                             f"{sorted(m['seed'] for m in group)}: run its missing seeds (the same command)")


def aggregate(studies: list[dict], cols: list[Column]) -> dict[str, dict[str, tuple[float, float, int]]]:
    """model → metric → (mean, sample std, seeds). Every study must have every model and metric."""
    models = sorted({m for s in studies for m in s["models"]}, key=model_order)
    out: dict[str, dict[str, tuple[float, float, int]]] = {}
    for model in models:
        out[model] = {}
        for col in cols:
            values = []
            for s in studies:
                value = s["models"].get(model, {}).get(col.metric)
                if value is None or not math.isfinite(value):
                    raise ValueError(f"study {s['run']} (seed {s['seed']}, {s['store']}): model {model!r} "
                                     f"has no metric {col.metric!r}")
                values.append(value)
            std = statistics.stdev(values) if len(values) > 1 else float("nan")
            out[model][col.metric] = (statistics.fmean(values), std, len(values))
    return out


def layout_of(studies: list[dict]) -> TableLayout:
    """The table's columns from what the studies measured."""
    metrics = {k for s in studies for m in s["models"].values() for k in m}
    prefix = keys.acc("")
    tests = tuple(sorted({k[len(prefix):] for k in metrics if k.startswith(prefix)
                          and keys.ds(k[len(prefix):]) in metrics}))
    # evaluation sets (e.g. Mimetics): accuracy over all the model's classes and over their own, no DS
    evaluation = tuple(sorted({k[len(prefix):] for k in metrics if k.startswith(prefix)
                               and keys.acc(f"{k[len(prefix):]}_subset") in metrics}))
    downstream = tuple(sorted({k.split("/")[1] for k in metrics if k.startswith(keys.LINEAR_PROBE_PREFIX)}))
    fewshot = tuple(sorted({k.split("/")[1] for k in metrics if k.startswith(keys.FEWSHOT_PREFIX)}))
    settings = tuple(sorted({k.split("/")[2] for k in metrics if k.startswith(keys.FEWSHOT_PREFIX)}))
    return TableLayout(tests, downstream, fewshot, settings, evaluation)


def markdown(agg: dict[str, dict[str, tuple[float, float, int]]], cols: list[Column]) -> str:
    """One row per model, ``mean ± std`` per column."""
    lines = ["| model | " + " | ".join(c.title for c in cols) + " |", "|" + "---|" * (len(cols) + 1)]
    for model, metrics in agg.items():
        cells = [f"{metrics[c.metric][0]:.3f} ± {metrics[c.metric][1]:.3f}" for c in cols]
        lines.append(f"| {model_label(model)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def tables(stores: list[Path]) -> str:
    """Every bias's seed-averaged table, as Markdown."""
    studies = [s for store in stores for s in read_store(store)]
    if not studies:
        raise ValueError(f"no finished study run in {', '.join(map(str, stores))}")
    parts = []
    for bias, group in newest_per_seed(studies).items():
        cols = [Column(c.title, c.metric) for c in columns(layout_of(group))]  # seeds' spread, not the CI
        seeds = sorted(s["seed"] for s in group)
        parts += [f"### Benchmark bias {bias:g}: mean ± std over seeds {', '.join(map(str, seeds))}", "",
                  markdown(aggregate(group, cols), cols), ""]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--store", action="append", required=True, help="a study output folder (holds mlflow.db)")
    p.add_argument("--out", help="write the tables here (default: print them)")
    args = p.parse_args(argv)
    return emit(lambda: tables([Path(s) for s in args.store]), args.out)


if __name__ == "__main__":
    raise SystemExit(main())
