"""``python -m pipelines.synthetic --out DIR [--config FILE] [--bias B]``: write the benchmark."""

from __future__ import annotations

import argparse
import time

from pipelines.config.loader import load_config
from pipelines.config.schema import StudyConfig
from pipelines.synthetic.generate import generate_benchmark


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True, help="folder to write the benchmark into")
    parser.add_argument("--config", help="study YAML whose benchmark block to use")
    parser.add_argument("--bias", type=float, help="override benchmark.bias")
    parser.add_argument("--seed", type=int, help="override benchmark.seed")
    args = parser.parse_args(argv)
    overrides = {f"benchmark.{k}": v for k, v in (("bias", args.bias), ("seed", args.seed)) if v is not None}
    cfg = load_config(StudyConfig, args.config, overrides).benchmark
    start = time.perf_counter()
    bench = generate_benchmark(cfg, args.out)
    print(f"benchmark {bench.key} at {bench.root} ({time.perf_counter() - start:.1f} s)")
    for name, splits in bench.datasets.items():
        print(f"  {name}: {', '.join(splits)}")


if __name__ == "__main__":
    main()
