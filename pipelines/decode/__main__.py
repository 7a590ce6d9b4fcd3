"""``python -m pipelines.decode --dataset NAME --root DIR [--annotations DIR] --split SPLIT --out DIR``

Decode one split of one dataset into shards and a manifest, and print the videos per label.
``NAME`` picks the reader (the built-in benchmark uses ``kinetics400``). With ``--config``, the
study's ``decode`` block, or the own ``decode`` block of the config's dataset of that reader and
root (e.g. SSv2's few-shot rows), so the study then finds the split decoded.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pipelines.config.loader import ConfigError, load_config
from pipelines.config.schema import DecodeConfig, StudyConfig
from pipelines.decode.readers import READERS
from pipelines.decode.stage import DecodeInputs, read_records, run


def decode_block(cfg: StudyConfig, reader: str, root: str) -> DecodeConfig:
    """How ``cfg`` decodes the dataset of ``reader`` at ``root``: the own block of the config's
    datasets there, else the study's. Datasets there that decode differently are a ConfigError."""
    here = [d for d in cfg.data.all if d.reader == reader and Path(d.root).resolve() == Path(root).resolve()]
    blocks = {cfg.decode_of(d) for d in here}
    if len(blocks) > 1:
        raise ConfigError(f"data: datasets {', '.join(d.name for d in here)} read {root} with different decode "
                          "blocks; decode it with a config that names one of them")
    return blocks.pop() if blocks else cfg.decode


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", required=True, choices=sorted(READERS), help="reader / layout")
    p.add_argument("--root", required=True, help="folder of the videos")
    p.add_argument("--annotations", help="folder of the annotation files (default: --root)")
    p.add_argument("--split", required=True)
    p.add_argument("--out", required=True, help="shard root")
    p.add_argument("--config", help="study YAML whose decode block to use")
    args = p.parse_args(argv)
    try:
        cfg = decode_block(load_config(StudyConfig, args.config), args.dataset, args.root)
    except ConfigError as err:
        print(f"config error: {err}", file=sys.stderr)
        return 2
    inputs = DecodeInputs(args.dataset, args.split, args.root, args.annotations or args.root, args.out,
                          reader=args.dataset)
    try:  # annotations, names and the root are checked before Ray starts
        records = read_records(inputs)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if records.records and not any(os.path.exists(r.path) for r in records.records):
        print(f"error: none of the {len(records.records)} videos of split {args.split!r} exists under "
              f"--root {args.root} (first expected: {records.records[0].path}); is --root right?", file=sys.stderr)
        return 2
    from pipelines.driver import disks_usable, init_ray

    init_ray()  # a local Ray stays on 127.0.0.1 (single-machine mode), as the study's does
    if not disks_usable(Path(args.out)):
        return 2
    out = run(cfg, inputs, records)
    print(f"{'cached' if out.cached else 'decoded'}: {out.path}")
    print(f"status: {out.summary['by_status']}")
    for label, n in out.summary["per_label"].items():
        print(f"{n:6d}  {label}")
    if out.summary["decoded"] == 0:
        print(f"error: no video of split {args.split!r} could be decoded; reasons in {out.manifest}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
