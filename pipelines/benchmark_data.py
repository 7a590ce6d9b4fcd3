"""Generate the built-in benchmark and decode its splits: the data half of the study."""

from __future__ import annotations

from pathlib import Path

from pipelines.config.schema import BenchmarkConfig, DecodeConfig
from pipelines.decode.stage import DecodeInputs, DecodeOutput
from pipelines.decode.stage import run as run_decode
from pipelines.synthetic.generate import GeneratedBenchmark, config_key, generate_benchmark


def benchmark_root(data_dir: str | Path, cfg: BenchmarkConfig) -> Path:
    """Where a benchmark of this config lives: one folder per config key, never overwritten."""
    return Path(data_dir) / f"synthetic-{config_key(cfg)}"


def split_inputs(bench: GeneratedBenchmark, name: str, split: str, shard_root: str | Path) -> DecodeInputs:
    """The decode-stage inputs of one split of one benchmark dataset (Kinetics layout)."""
    if name not in bench.datasets or split not in bench.datasets[name]:
        have = ", ".join(f"{n}/{s}" for n, splits in bench.datasets.items() for s in splits)
        raise ValueError(f"data: the built-in benchmark has no split {name}/{split} (it has {have})")
    return DecodeInputs(name, split, str(bench.videos(name)), str(bench.annotations(name)), str(shard_root),
                        synthetic=True)


def decode_inputs(bench: GeneratedBenchmark, shard_root: str | Path,
                  datasets: tuple[str, ...] | None = None) -> list[DecodeInputs]:
    """The decode-stage inputs of every split of the chosen datasets (all by default)."""
    return [split_inputs(bench, name, split, shard_root)
            for name, splits in bench.datasets.items() if datasets is None or name in datasets
            for split in splits]


def decode_benchmark(bench: GeneratedBenchmark, cfg: DecodeConfig, shard_root: str | Path,
                     datasets: tuple[str, ...] | None = None) -> dict[str, dict[str, DecodeOutput]]:
    """Decode every split of the chosen datasets (all by default) into ``shard_root``."""
    out: dict[str, dict[str, DecodeOutput]] = {}
    for inputs in decode_inputs(bench, shard_root, datasets):
        out.setdefault(inputs.dataset, {})[inputs.split] = run_decode(cfg, inputs)
    return out


def prepare_benchmark(cfg: BenchmarkConfig, decode: DecodeConfig, data_dir: str | Path,
                      datasets: tuple[str, ...] | None = None) -> dict[str, dict[str, DecodeOutput]]:
    """Generate (or reuse) the benchmark under ``data_dir`` and decode it (or reuse the shards)."""
    bench = generate_benchmark(cfg, benchmark_root(data_dir, cfg))
    return decode_benchmark(bench, decode, Path(data_dir) / "shards", datasets)
