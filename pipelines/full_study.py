"""The study's entrypoint: ``ray job submit --working-dir . -- python pipelines/full_study.py``.

With no ``--config`` it runs the built-in synthetic benchmark; with one, the datasets it names.
Stages (pipelines/study_graph.py) run as Ray tasks, concurrently where their inputs allow;
training stages run on Ray Train. Each stage is an MLflow run nested under one parent run per
study. Finished stages are reused by key, so running the same command again continues an
interrupted study and retrains nothing in a finished one.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script (as `ray job submit` does): import from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drl_core.metrics import keys  # noqa: E402
from pipelines import run_tags, tracking  # noqa: E402
from pipelines.driver import parse_sets, resolve_output, run_locked  # noqa: E402
from pipelines.provenance import provenance  # noqa: E402
from pipelines.config.weights import check_weights  # noqa: E402
from pipelines.config.loader import ConfigError, load_config, save_config, to_dict, with_values  # noqa: E402
from pipelines.config.schema import StudyConfig  # noqa: E402
from pipelines.report.table import outcome_metrics  # noqa: E402
from pipelines.stages.runner import StudyFailed, StudyRunner  # noqa: E402
from pipelines import names  # noqa: E402
from pipelines.host_cpu import StealMeter, describe  # noqa: E402
from pipelines.names import BASELINE, CONTINUED  # noqa: E402
from pipelines.study_graph import build_study  # noqa: E402

SMOKE = {
    "benchmark.source_train_per_class": 6,
    "benchmark.source_test_per_class": 2,
    "benchmark.downstream_train_per_class": 3,
    "benchmark.downstream_test_per_class": 2,
    "benchmark.static_train_per_class": 1,
    "benchmark.static_test_per_class": 1,
    "spatial_init.optim.epochs": 1,
    "pretrain.clip.test_clips": 2,
    "pretrain.optim.epochs": 2,
    "drl.optim.epochs": 1,
    "dynamic_score.optim.epochs": 1,
    "finetune.optim.epochs": 1,
    "linear_probe.max_iter": 20,
    "fewshot.shots": (1,),
    "fewshot.queries": 1,
    "fewshot.episodes": 50,
    "report.tsne_points": 20,
    "report.tsne_perplexity": 5.0,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", help="study YAML; default: the built-in benchmark")
    p.add_argument("--output-dir", help="where data, shards, stages, the MLflow store and the report go "
                   "(default: the config's output_dir, else ~/drl-study)")
    p.add_argument("--smoke", action="store_true", help="a tiny study for CI and a first try "
                   "(keys the config file sets keep their value)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override one config value by its dotted name, e.g. --set seed=1 (repeatable)")
    p.add_argument("--seeds", type=int, nargs="+", metavar="SEED",
                   help="run the study once per seed, one after the other, into one output folder")
    p.add_argument("--biases", type=float, nargs="+", metavar="BIAS",
                   help="and once per benchmark bias (the bias sweep); with --seeds, every pair")
    p.add_argument("--plan", action="store_true", help="print what every stage reads, its shard bytes, its peak "
                   "memory per worker and the workers and devices it needs; run nothing")
    return p.parse_args(argv)


def plan(cfg: StudyConfig, seeds: list[int] | None, biases: list[float] | None) -> list[StudyConfig]:
    """One study config per (bias, seed), biases outer; the config's own seed and bias if not given."""
    return [with_values(cfg, {"seed": seed, "benchmark.bias": bias})
            for bias in biases or [cfg.benchmark.bias] for seed in seeds or [cfg.seed]]


def stage_table(results: dict) -> str:
    """The finished study's stages, one line each: trained or reused, and seconds, slowest first
    within each kind; then the seconds per kind."""
    rows = sorted(results.values(), key=lambda r: (r.name.split("/")[0], -r.seconds))
    width = max((len(r.name) for r in rows), default=5)
    lines = [f"{'stage':{width}s}  {'':7s}  seconds"]
    lines += [f"{r.name:{width}s}  {'reused' if r.cached else 'ran':7s}  {r.seconds:7.1f}" for r in rows]
    kinds: dict[str, float] = {}
    for r in rows:
        kinds[names.kind(r.name)] = kinds.get(names.kind(r.name), 0.0) + r.seconds
    lines.append("per kind: " + ", ".join(f"{k} {v:.0f} s" for k, v in kinds.items()))
    return "\n".join(lines)


def log_model_outcomes(tracker, runner: StudyRunner, results: dict) -> None:
    """Each model's outcome (accuracies, DS, probes, transfer) on its own pretrain run, under the
    same keys for every model, so that comparing the pretrain runs in MLflow shows the models
    side by side."""
    import ray

    for model, row in results[names.REPORT].outputs["rows"].items():
        run_id = runner.run_ids.get(names.pretrain_stage(model))
        if run_id is not None:
            ray.get(tracker.log_metrics.remote(run_id, outcome_metrics(row), 0))
            role = {BASELINE: "baseline", CONTINUED: "control"}.get(model, "drl")
            ray.get(tracker.set_tags.remote(run_id, {run_tags.MODEL: model, run_tags.ROLE: role}))


def run_study(cfg: StudyConfig, out: Path, smoke: bool) -> int:
    """Run every stage under one parent MLflow run; returns the exit status."""
    tracker = tracking.start_tracker(out)
    import ray

    stale = ray.get(tracker.close_stale_runs.remote())
    if stale:
        print(f"[study] marked {stale} run(s) of an interrupted earlier driver KILLED", flush=True)
    name = "study" + (" (smoke)" if smoke else "")
    tags = {run_tags.SMOKE: str(smoke), **provenance(["python", "pipelines/full_study.py", *sys.argv[1:]])}
    parent = ray.get(tracker.create_run.remote(name, None, to_dict(cfg), tags))
    ray.get(tracker.log_artifact.remote(parent, str(out / "config.yaml")))
    slots = cfg.resources.training_slots(ray.cluster_resources())
    start, steal = time.perf_counter(), StealMeter()

    def log(message: str) -> None:
        print(f"{message} [{(time.perf_counter() - start) / 60:.1f} min]", flush=True)

    runner = StudyRunner(build_study(cfg), cfg, out, tracker, parent, log=log, limits={"train": slots})
    try:
        results = runner.run()
    except StudyFailed as err:
        ray.get(tracker.end_run.remote(parent, "FAILED"))
        print(f"\n[study] FAILED: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        runner.stop()
        ray.get(tracker.end_run.remote(parent, "KILLED"))
        print("\n[study] interrupted; run the same command again to continue", file=sys.stderr)
        return 130
    seconds = time.perf_counter() - start
    log_model_outcomes(tracker, runner, results)
    print("\n" + stage_table(results), flush=True)
    trained = sum(1 for r in results.values() if not r.cached and names.kind(r.name) in names.TRAINING_KINDS)
    share = steal.lap()
    metrics = {keys.STUDY_SECONDS: seconds, keys.STAGES_TRAINED: trained}
    if share is not None:
        metrics[keys.HOST_CPU_STEAL] = share
    ray.get(tracker.log_metrics.remote(parent, metrics, 0))
    ray.get(tracker.log_artifact.remote(parent, str(out / "report"), "report"))
    ray.get(tracker.end_run.remote(parent, "FINISHED"))
    print(f"\n[study] done in {seconds / 60:.1f} min ({trained} training stages run, the rest reused; "
          f"{describe(share)})\n"
          f"Report: {out / 'report' / 'report.md'}\nMLflow store: {tracking.tracking_uri(out)}\n"
          f"View them: {tracking.ui_command(out)}  (then open http://127.0.0.1:5000)", flush=True)
    return 0


def print_plan(cfg: StudyConfig, out: Path) -> int:
    """``--plan``: the stage table of :mod:`pipelines.plan`, the disk room under ``out``, and
    what would stop the real run."""
    from pipelines.plan import disk_plan, format_plan, plan_study

    try:
        check_weights(cfg)
    except ValueError as err:
        print(f"note: the study would stop here: {err}")
    rows = plan_study(cfg)
    print(format_plan(rows))
    print(disk_plan(rows, out))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        cfg = load_config(StudyConfig, args.config, parse_sets(args.set), presets=SMOKE if args.smoke else None)
        if args.plan:
            return print_plan(cfg, resolve_output(args.output_dir, cfg.output_dir))
        cfg = check_weights(cfg)
        studies = plan(cfg, args.seeds, args.biases)
    except (ConfigError, ValueError) as err:
        print(f"config error: {err}", file=sys.stderr)
        return 2
    out = resolve_output(args.output_dir, cfg.output_dir)

    def body() -> int:
        for i, study in enumerate(studies):
            if len(studies) > 1:
                print(f"[study] {i + 1}/{len(studies)}: seed {study.seed}, bias {study.benchmark.bias:g}", flush=True)
            save_config(study, out / "config.yaml")
            status = run_study(study, out, args.smoke)
            if status:
                return status
        return 0

    return run_locked(out, "study", body)


if __name__ == "__main__":
    raise SystemExit(main())
