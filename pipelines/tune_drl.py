"""Ray Tune over the DRL weights: ``ray job submit --working-dir . -- python pipelines/tune_drl.py``.

The search space is the ``search:`` block of the study config (dotted names, e.g.
``algorithm.lam: {loguniform: [0.05, 2.0]}``); the ``tune:`` block says which algorithm, how
many trials, the objective and the scheduler (ASHA by default). The data stages and the
baseline run first as study stages (reused if a study on the same output folder made them).
Each trial then runs the algorithm's DRL phase through the study's Ray Train loop and reports,
every epoch, the linear-probe accuracy, the dynamic score and the test accuracies. MLflow gets
a parent run for the search and one run per trial; the best trial's config is written as a
study YAML (``best_config.yaml``) and logged. Running the same command again resumes an
interrupted search with ``Tuner.restore``; finished trials are not rerun.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import sys
import threading
from pathlib import Path

if __package__ in (None, ""):  # run as a script (as `ray job submit` does): import from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drl_core.config import added_at_default  # noqa: E402
from drl_core.metrics import keys  # noqa: E402
from pipelines import run_tags, tracking  # noqa: E402
from pipelines.config.weights import check_weights  # noqa: E402
from pipelines.config.loader import ConfigError, load_config, save_config, to_dict, with_values  # noqa: E402
from pipelines.config.schema import StudyConfig  # noqa: E402
from pipelines.driver import interrupt, parse_sets, resolve_output, run_locked  # noqa: E402
from pipelines.full_study import SMOKE  # noqa: E402
from pipelines.stages.runner import StudyFailed, StudyRunner  # noqa: E402
from pipelines.names import BASELINE, pretrain_stage  # noqa: E402
from pipelines.provenance import provenance  # noqa: E402
from pipelines.study_graph import build_study, decoded_splits, static_models  # noqa: E402
from pipelines.tune.callbacks import TrialRuns, trial_state  # noqa: E402
from pipelines.tune.space import param_space, trial_config  # noqa: E402
from pipelines.tune.trial import TrialSetup, run_trial, trial_dir  # noqa: E402

# A smoke search: four trials of two epochs, so ASHA has a rung to stop trials at.
SMOKE_TUNE = {**SMOKE, "drl.optim.epochs": 2, "tune.num_samples": 4}
TUNING = threading.Event()  # set while Tuner.fit runs
STOPPED = threading.Event()  # a stop was asked for while Tune ran
os.environ.setdefault("TUNE_DISABLE_SIGINT_HANDLER", "1")  # ours (below) tells a stop from the end
# Tune saves the search state at most this often (its default: every 10 s or more); a trial that
# finished within that window before a hard kill would run again.
os.environ.setdefault("TUNE_GLOBAL_CHECKPOINT_S", "1")


def on_stop(signum, frame):
    """SIGTERM (``ray job stop``) or SIGINT (Ctrl+C): while Tune runs, stop it the way it stops
    itself (SIGUSR1: it saves the search state one last time); before, end like any driver."""
    if TUNING.is_set():
        STOPPED.set()
        os.kill(os.getpid(), signal.SIGUSR1)
    else:
        interrupt(signum, frame)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", help="study YAML with search: and tune: blocks; default: the built-in benchmark")
    p.add_argument("--output-dir", help="as for full_study.py; the search lives in <output dir>/tune/")
    p.add_argument("--smoke", action="store_true", help="a tiny search for CI and a first try")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override one config value by its dotted name, e.g. --set seed=1 (repeatable)")
    return p.parse_args(argv)


def experiment_name(cfg: StudyConfig) -> str:
    """``<algorithm>-<hash of the config>``: the same command finds (and restores) its search."""
    data = {k: v for k, v in to_dict(cfg, skip=added_at_default).items() if k != "output_dir"}  # as before an added option
    return f"{cfg.tune.algorithm}-{hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:10]}"


def tracker_name(search: str) -> str:
    return f"drl-tracker-{search}"


def prepare(cfg: StudyConfig, out: Path, tracker, parent: str) -> dict:
    """Run (or reuse) the stages every trial reads: data, and the baseline for second-phase DRL."""
    specs = build_study(cfg)
    wanted = set(decoded_splits(cfg)) | ({pretrain_stage(BASELINE)} if cfg.drl.mode == "second_phase" else set())
    wanted |= set(static_models(cfg))  # the spatial models' start, for the trials and their DS probe
    by_name = {s.name: s for s in specs}
    todo = list(wanted)
    while todo:  # and everything those stages read
        for _, dep in by_name[todo.pop()].deps:
            if dep not in wanted:
                wanted.add(dep)
                todo.append(dep)
    return StudyRunner([s for s in specs if s.name in wanted], cfg, out, tracker, parent).run()


def tuner(cfg: StudyConfig, setup: TrialSetup, name: str):
    """A new Tuner, or the interrupted one restored from ``<root>/<name>``."""
    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    # The trial function only drives Ray Train, whose workers hold the trial's CPUs/GPUs.
    trainable = tune.with_resources(tune.with_parameters(run_trial, setup=setup), {"cpu": 0, "memory": 1})
    path = setup.root / name
    if tune.Tuner.can_restore(path):
        print(f"[tune] resuming {path}", flush=True)
        return tune.Tuner.restore(str(path), trainable, resume_unfinished=True, resume_errored=True)
    t = cfg.tune
    callbacks = [TrialRuns(tracker_name(name), name, str(trial_dir(setup.root, "")))]
    scheduler = (ASHAScheduler(max_t=cfg.drl.optim.epochs, grace_period=t.grace_period,
                               reduction_factor=t.reduction_factor) if t.scheduler == "asha" else FIFOScheduler())
    concurrent = t.max_concurrent or cfg.resources.training_slots(ray.cluster_resources())
    return tune.Tuner(trainable, param_space=param_space(cfg),
                      tune_config=tune.TuneConfig(metric=t.metric, mode=t.mode, scheduler=scheduler,
                                                  search_alg=tune.search.BasicVariantGenerator(
                                                      random_state=t.seed, max_concurrent=concurrent),
                                                  num_samples=t.num_samples),
                      run_config=tune.RunConfig(name=name, storage_path=str(setup.root), callbacks=callbacks))


def best_result(grid, metric: str, mode: str, root: Path):
    """The trial with the best final ``metric`` among those that ran every epoch (a trial the
    scheduler stopped was measured earlier in training), or among all if none did."""
    done = [r for r in grid if not r.error and metric in r.metrics]
    full = [r for r in done if trial_state(trial_dir(root, r.metrics["trial_id"])) == "finished"] or done
    if not full:
        raise ValueError(f"tune.metric: no trial reported {metric!r}")
    pick = max if mode == "max" else min
    return pick(full, key=lambda r: r.metrics[metric])


def write_best(cfg: StudyConfig, grid, setup: TrialSetup, name: str) -> Path:
    """The best trial's study config (a YAML full_study.py accepts), logged to the parent run."""
    import ray

    best = best_result(grid, cfg.tune.metric, cfg.tune.mode, setup.root)
    best_cfg = with_values(trial_config(cfg, best.config["params"]), {"output_dir": ""})
    path = setup.root / name / "best_config.yaml"
    save_config(best_cfg, path)
    summary = {f"{keys.BEST_PREFIX}{k}": v for k, v in best.metrics.items() if isinstance(v, (int, float))}
    ray.get(setup.tracker.log_metrics.remote(setup.parent_id, summary, 0))
    ray.get(setup.tracker.log_params.remote(setup.parent_id, {f"best.{k}": v for k, v in best.config["params"].items()}))
    ray.get(setup.tracker.log_artifact.remote(setup.parent_id, str(path)))
    print(f"[tune] best trial: {best.config['params']} → {cfg.tune.metric} = {best.metrics.get(cfg.tune.metric)}\n"
          f"[tune] best config: {path}\n[tune] run it: python pipelines/full_study.py --config {path}", flush=True)
    return path


def run_search(cfg: StudyConfig, out: Path, smoke: bool) -> int:
    import ray

    name = experiment_name(cfg)
    tracker = tracking.start_tracker(out, tracker_name(name))
    ray.get(tracker.close_stale_runs.remote())
    parent = ray.get(tracker.find_run.remote(None, run_tags.SEARCH, name))  # a resumed search keeps its run
    if parent is None:
        tags = {run_tags.KIND: run_tags.KIND_SEARCH, run_tags.SEARCH: name, run_tags.SMOKE: str(smoke),
                **provenance(["python", "pipelines/tune_drl.py", *sys.argv[1:]])}
        parent = ray.get(tracker.create_run.remote(f"tune/{name}", None, to_dict(cfg), tags))
    setup = TrialSetup(cfg, {}, out / "tune", tracker, parent)
    try:
        setup.results = prepare(cfg, out, tracker, parent)
        search = tuner(cfg, setup, name)
        TUNING.set()
        grid = search.fit()
        TUNING.clear()
    except StudyFailed as err:
        ray.get(tracker.end_run.remote(parent, "FAILED"))
        print(f"[tune] FAILED preparing the trials: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        grid = None
    if grid is None or STOPPED.is_set():
        ray.get(tracker.end_run.remote(parent, "KILLED"))
        print("\n[tune] interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    counts = {keys.TRIALS: len(grid), keys.TRIALS_FAILED: grid.num_errors}
    ray.get(tracker.log_metrics.remote(parent, counts, 0))
    print(f"[tune] {len(grid)} trials, {grid.num_errors} failed", flush=True)
    if grid.num_errors == len(grid):
        ray.get(tracker.end_run.remote(parent, "FAILED"))
        return 1
    write_best(cfg, grid, setup, name)
    ray.get(tracker.end_run.remote(parent, "FINISHED"))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        cfg = load_config(StudyConfig, args.config, parse_sets(args.set), presets=SMOKE_TUNE if args.smoke else None)
        cfg = check_weights(cfg)
        if not cfg.search:
            raise ConfigError("search: empty; name at least one config key to search")
    except (ConfigError, ValueError) as err:
        print(f"config error: {err}", file=sys.stderr)
        return 2
    out = resolve_output(args.output_dir, cfg.output_dir)
    return run_locked(out, "study or search", lambda: run_search(cfg, out, args.smoke), on_stop,
                      (signal.SIGTERM, signal.SIGINT))


if __name__ == "__main__":
    raise SystemExit(main())
