"""Decode-stage throughput per CPU core against a plain decord loop over the same files.

``python -m pipelines.benchmarks.decode_throughput [--videos N] [--cpus C]``

Both sides decode the same frames (a row per video at the clip rate, same resize) and encode
them the same way (JPEG, as real datasets are stored), on equal cores: the plain loop runs in
``--cpus`` processes, each over its share of the files (and, for reference, in one process);
the stage runs on a local Ray with ``--cpus`` CPUs, with isolation and manifest on, as the study
uses it, into a fresh folder each time. They alternate for ``--rounds`` rounds and each side's
median counts, so a change in the machine's speed during the run falls on both. The ratio
compares videos/s per core (goal: ≥ 0.8). One process on one core of an
otherwise idle machine leaves the other cores to the system's own work; ``--cpus`` processes
share the machine as the stage does.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

from pipelines.benchmarks.local_ray import start_local_ray
from pipelines.benchmarks.rounds import runs
from pipelines.config.schema import BenchmarkConfig, DecodeConfig
from pipelines.decode.readers import read_kinetics
from pipelines.decode.schema import encode_frames
from pipelines.decode.stage import DecodeInputs, clip_spec, run
from pipelines.decode.video import decode_video
from pipelines.host_cpu import StealMeter, describe
from pipelines.synthetic.generate import SOURCE, generate_benchmark


def plain_loop(paths: list[str], cfg: DecodeConfig) -> float:
    """Seconds for a single-process decord loop over ``paths``."""
    spec = clip_spec(cfg, "kinetics400")
    start = time.perf_counter()
    for p in paths:
        res = decode_video(p, spec, ("decord",))
        assert res.status == "ok", res.reason
        encode_frames(res.frames, spec.encoding, spec.jpeg_quality)
    return time.perf_counter() - start


def plain_loops(paths: list[str], cfg: DecodeConfig, processes: int) -> float:
    """Seconds for ``processes`` plain loops at once, each over every ``processes``-th file."""
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(processes) as pool:
        pool.apply(time.sleep, (0,))  # started before the clock
        start = time.perf_counter()
        pool.starmap(plain_loop, [(paths[i::processes], cfg) for i in range(processes)])
        return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=400, help="source train videos to decode")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs for the local Ray")
    parser.add_argument("--size", type=int, default=128, help="frame side of the generated videos")
    parser.add_argument("--work-dir", help="keep generated files here (default: a temporary folder)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating plain loops and stage runs")
    args = parser.parse_args(argv)
    steal = StealMeter()
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="decode-bench-"))
    per_class = max(1, args.videos // 10)
    bench_cfg = dataclasses.replace(BenchmarkConfig(), size=args.size, duration=(3.0, 4.0),
                                    source_train_per_class=per_class, source_test_per_class=1,
                                    downstream_train_per_class=1, downstream_test_per_class=1,
                                    static_train_per_class=1, static_test_per_class=1)
    bench = generate_benchmark(bench_cfg, work / "bench")
    records = read_kinetics(bench.videos(SOURCE), bench.annotations(SOURCE), "train").records
    cfg = DecodeConfig(short_side=64, frame_format="jpeg")  # the stage's own batching (64 videos per task)
    start_local_ray(args.cpus)
    run(cfg, DecodeInputs("warmup", "train", str(bench.videos(SOURCE)), str(bench.annotations(SOURCE)),
                          str(work / "warmup")))  # start Ray workers once, as a long study has them
    paths, n = [r.path for r in records], len(records)
    singles, plains, stages = [], [], []
    for r in range(args.rounds):
        singles.append(n / plain_loop(paths, cfg))
        plains.append(n / plain_loops(paths, cfg, args.cpus))
        start = time.perf_counter()
        out = run(cfg, DecodeInputs("bench", "train", str(bench.videos(SOURCE)), str(bench.annotations(SOURCE)),
                                    str(work / f"shards{r}")))  # a fresh folder: nothing reused
        stages.append(n / (time.perf_counter() - start))
        assert out.summary["decoded"] == n and not out.cached
    single, plain, stage = (statistics.median(x) for x in (singles, plains, stages))

    c = args.cpus
    print(f"videos: {n} ({args.size}px, 3-4 s, rows of {cfg.num_frames} frames/s, JPEG), Ray CPUs: {c}, "
          f"{args.rounds} rounds")
    print(f"plain decord loop : {single:7.1f} videos/s in 1 process (1 core; {runs(singles)})")
    print(f"plain decord loops: {plain:7.1f} videos/s in {c} processes ({plain / c:.1f} per core; {runs(plains)})")
    print(f"decode stage      : {stage:7.1f} videos/s on {c} cores ({stage / c:.1f} per core; {runs(stages)})")
    print(f"against 1 process : ratio {stage / c / single:.2f} per core")
    print(f"host: {describe(steal.lap())}")
    print(f"decode_throughput: ratio {stage / plain:.2f} (goal >= 0.8 per core, equal cores)")


if __name__ == "__main__":
    main()
