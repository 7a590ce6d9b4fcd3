"""The study's entrypoint: ``ray job submit --working-dir . -- python pipelines/full_study.py``.

With no ``--config`` it runs the built-in synthetic benchmark. Stages implemented so far:
generate the benchmark, then decode every dataset split into Arrow shards. Each stage is an
MLflow run nested under one parent run per study.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script (as `ray job submit` does): import from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipelines import tracking  # noqa: E402
from pipelines.config.loader import ConfigError, load_config, save_config, to_dict  # noqa: E402
from pipelines.config.schema import StudyConfig  # noqa: E402
from pipelines.decode.stage import run as run_decode  # noqa: E402
from pipelines.benchmark_data import benchmark_root, decode_inputs  # noqa: E402
from pipelines.synthetic.generate import generate_benchmark  # noqa: E402

SMOKE = {
    "benchmark.source_train_per_class": 4,
    "benchmark.source_test_per_class": 2,
    "benchmark.downstream_train_per_class": 2,
    "benchmark.downstream_test_per_class": 2,
    "decode.test_clips": 2,
    "decode.train_clips": 2,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", help="study YAML; default: the built-in benchmark")
    p.add_argument("--output-dir", help="where data, shards, the MLflow store and reports go "
                   "(default: the config's output_dir, else ~/drl-study)")
    p.add_argument("--smoke", action="store_true", help="a tiny study for CI and a first try")
    return p.parse_args(argv)


def resolve_output(args: argparse.Namespace, cfg: StudyConfig) -> Path:
    return Path(args.output_dir or cfg.output_dir or Path.home() / "drl-study").expanduser().resolve()


def run_generate(cfg: StudyConfig, out: Path, exp: str, parent: str):
    with tracking.stage_run("generate benchmark", exp, parent, to_dict(cfg.benchmark)) as run:
        start = time.perf_counter()
        bench = generate_benchmark(cfg.benchmark, benchmark_root(out / "data", cfg.benchmark))
        tracking.log_metrics(tracking.client(), run.info.run_id, {"seconds": time.perf_counter() - start})
    return bench


def run_decodes(cfg: StudyConfig, bench, out: Path, exp: str, parent: str) -> dict:
    client, results = tracking.client(), {}
    for inputs in decode_inputs(bench, out / "shards"):
        name = f"{inputs.dataset}/{inputs.split}"
        with tracking.stage_run(f"decode {name}", exp, parent, to_dict(cfg.decode)) as run:
            res = run_decode(cfg.decode, inputs)
            stats = {"videos": res.summary["videos"], "decoded": res.summary["decoded"],
                     "clips": res.summary["clips"], "cached": float(res.cached)}
            tracking.log_metrics(client, run.info.run_id, stats)
            for f in ("manifest.csv", "summary.json", "classes.txt"):
                client.log_artifact(run.info.run_id, str(res.path / f))
        results[name] = res
        print(f"decoded {name}: {res.summary['decoded']}/{res.summary['videos']} videos "
              f"({'cached' if res.cached else 'new'}) -> {res.path}", flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        cfg = load_config(StudyConfig, args.config, SMOKE if args.smoke else None)
    except ConfigError as err:
        print(f"config error: {err}", file=sys.stderr)
        return 2
    out = resolve_output(args, cfg)
    out.mkdir(parents=True, exist_ok=True)
    save_config(cfg, out / "config.yaml")
    import ray

    ray.init(address=os.environ.get("RAY_ADDRESS") or None, ignore_reinit_error=True, log_to_driver=False)
    exp = tracking.setup(out)
    with tracking.stage_run("study" + (" (smoke)" if args.smoke else ""), exp, None, to_dict(cfg)) as parent:
        pid = parent.info.run_id
        tracking.client().log_artifact(pid, str(out / "config.yaml"))
        bench = run_generate(cfg, out, exp, pid)
        run_decodes(cfg, bench, out, exp, pid)
    print(f"\nResults: {out}\nMLflow store: {tracking.tracking_uri(out)}\n"
          f"View them: {tracking.ui_command(out)}  (then open http://127.0.0.1:5000)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
