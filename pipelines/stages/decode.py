"""Stage: decode one split of one dataset into Arrow/Parquet clip shards (on Ray Data).

Always runs: the decode module keys its output by the content of its inputs (annotation rows,
file sizes), so an unchanged split returns at once and a changed one is decoded again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipelines.benchmark_data import split_inputs
from pipelines.config.schema import SYNTHETIC, DatasetConfig, DecodeConfig
from pipelines.decode.stage import DecodeInputs
from pipelines.decode.stage import run as run_decode
from pipelines.stages.base import StageContext
from pipelines.synthetic.generate import GeneratedBenchmark


@dataclass(frozen=True)
class DecodeStage:
    """One split of one dataset, decoded with ``decode``."""

    decode: DecodeConfig
    dataset: DatasetConfig
    split: str


def decode_inputs(ctx: StageContext) -> DecodeInputs:
    cfg: DecodeStage = ctx.config
    ds, shards = cfg.dataset, str(ctx.output_dir / "shards")
    if ds.reader != SYNTHETIC:
        return DecodeInputs(ds.name, cfg.split, ds.root, ds.annotations or ds.root, shards, reader=ds.reader)
    gen = ctx.inputs["benchmark"].outputs
    bench = GeneratedBenchmark(Path(gen["root"]), {k: tuple(v) for k, v in gen["datasets"].items()}, gen["key"])
    return split_inputs(bench, ds.name, cfg.split, shards)


def run(ctx: StageContext) -> dict:
    res = run_decode(ctx.config.decode, decode_inputs(ctx))
    if res.summary["decoded"] == 0:
        raise ValueError(f"{ctx.spec.name}: no video could be decoded; reasons in {res.manifest}")
    metrics = {"videos": res.summary["videos"], "decoded": res.summary["decoded"], "frames": res.summary["frames"],
               "cached": float(res.cached)}
    return {"key": res.key, "path": str(res.path), "classes": list(res.classes), "cached": res.cached,
            "summary": {k: res.summary[k] for k in ("videos", "decoded", "by_status")}, "metrics": metrics,
            "artifacts": [str(res.path / f) for f in ("manifest.csv", "summary.json", "classes.txt")]}
