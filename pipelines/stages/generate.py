"""Stage: generate the built-in synthetic benchmark (or find it already generated)."""

from __future__ import annotations

import time

from pipelines.benchmark_data import benchmark_root
from pipelines.stages.base import StageContext
from pipelines.synthetic.generate import generate_benchmark


def run(ctx: StageContext) -> dict:
    """Config: a BenchmarkConfig. Its key is the benchmark's config key."""
    start = time.perf_counter()
    bench = generate_benchmark(ctx.config, benchmark_root(ctx.output_dir / "data", ctx.config))
    info = bench.root / "GENERATED.json"
    return {"key": bench.key, "root": str(bench.root), "datasets": {k: list(v) for k, v in bench.datasets.items()},
            "metrics": {"seconds": time.perf_counter() - start}, "artifacts": [str(info)] if info.is_file() else []}
