"""Whether two study output folders hold the same results, to the bit.

``python -m pipelines.report.bit_diff A B`` (``drl diff A B``) matches the stages of two output
folders by name (``stages/<name>/<key>``: the key may differ between two versions of the code)
and compares, stage by stage, every number of its ``result.json``, ``history.json`` and
``eval.json`` and every tensor of its ``.pt`` files (the trained models, DS students included),
exactly. Wall times, memory peaks and cache hits are left out: they are the run's, not the
result's. With ``--rows`` it also reads every decoded split of both (every frame: minutes for a
real dataset) and compares each row's video id, label and frames by one SHA-256 per split. It
prints each difference, then one line of totals, and exits 0 when nothing differs, 1 when
something does, 2 when a folder is not a study's.

The README's reproducibility figures (stages, numbers and tensors compared between two codes or
two runs) are its totals. Where a folder holds a stage name under several keys (a study run with
several configs), the newest finished one is compared, and a note says so.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import torch

from drl_core.metrics import keys
from pipelines import names
from pipelines.data.shards import open_split
from pipelines.report.ds_anatomy import shard_dir
from pipelines.stages.base import RESULT_FILE

NUMBER_FILES = (RESULT_FILE, "history.json", "eval.json")
RUN_KEYS = ("seconds", "cached")  # a stage's wall time and whether it was reused: the run's, not the result's
RUN_PREFIXES = (keys.TIME_PREFIX, keys.MEMORY_PREFIX)
SKIPPED_FOLDERS = ("ray_train",)  # Ray Train's epoch checkpoints: the model files hold the result


def stage_folders(output_dir: Path) -> tuple[dict[str, Path], list[str]]:
    """Stage name → its finished folder (the newest where a name has several keys), and the
    names that had several."""
    root = output_dir / "stages"
    if not root.is_dir():
        raise FileNotFoundError(f"{output_dir}: not a study output folder (no stages/ in it)")
    found: dict[str, list[Path]] = {}
    for marker in root.rglob(RESULT_FILE):
        if not any(part in SKIPPED_FOLDERS for part in marker.relative_to(root).parts):
            found.setdefault(marker.parent.parent.relative_to(root).as_posix(), []).append(marker)
    newest = {name: max(markers, key=lambda m: m.stat().st_mtime).parent for name, markers in found.items()}
    return newest, sorted(name for name, markers in found.items() if len(markers) > 1)


def is_run_only(path: tuple[str, ...]) -> bool:
    """Whether a JSON key path holds the run's own figure: ``seconds``, ``cached``, or a time or
    memory metric, also under a model's name (the report's ``baseline/time/epoch_s``)."""
    return any(part in RUN_KEYS or any(f"/{prefix}" in f"/{part}" for prefix in RUN_PREFIXES) for part in path)


def numbers(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], float]]:
    """Every number in a JSON value (booleans and strings aside) with its key path, less the run's own."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from numbers(v, (*path, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from numbers(v, (*path, f"[{i}]"))
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and not is_run_only(path):
        yield path, float(value)


def tensors(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], torch.Tensor]]:
    """Every tensor in a loaded ``.pt`` payload, with its key path."""
    if isinstance(value, torch.Tensor):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from tensors(v, (*path, str(k)))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from tensors(v, (*path, f"[{i}]"))


def same_number(a: float, b: float) -> bool:
    """Equal with the same sign (0.0 is not -0.0), or both NaN."""
    return (a == b and math.copysign(1.0, a) == math.copysign(1.0, b)) or (math.isnan(a) and math.isnan(b))


INT_OF_SIZE = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


def same_tensor(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Same shape, dtype and bits: floats are compared as the integers of their bytes, so -0.0 is
    not 0.0 and a NaN equals only the same NaN."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.is_floating_point():
        a, b = a.view(INT_OF_SIZE[a.element_size()]), b.view(INT_OF_SIZE[b.element_size()])
    return torch.equal(a, b)


@dataclass
class Tally:
    """What a comparison counted, and each difference it found (one line each)."""

    stages: int = 0
    numbers: int = 0
    tensors: int = 0
    rows: int = 0
    differences: list[str] = field(default_factory=list)


def compare_maps(stage: str, what: str, a: dict, b: dict, same: Callable[[Any, Any], bool]) -> tuple[int, list[str]]:
    """Compare two ``path → value`` maps: how many values were compared, and the differences."""
    lines = [f"{stage}: {what} {'/'.join(p)} only in {'A' if p in a else 'B'}" for p in sorted(a.keys() ^ b.keys())]
    for p in sorted(a.keys() & b.keys()):
        if not same(a[p], b[p]):
            shown = f"{a[p]!r} vs {b[p]!r}" if what == "number" else "values differ"
            lines.append(f"{stage}: {what} {'/'.join(p)}: {shown}")
    return len(a.keys() & b.keys()), lines


def load_tensors(folder: Path) -> dict[tuple[str, ...], torch.Tensor]:
    """Every tensor of the stage's ``.pt`` files, keyed by (file name, key path)."""
    found = {}
    for f in sorted(folder.glob("*.pt")):
        try:
            payload = torch.load(f, map_location="cpu", weights_only=True)
        except Exception as err:  # a truncated or foreign file: say which
            raise ValueError(f"{f}: not readable as weights ({str(err).splitlines()[0]})") from None
        found.update(tensors(payload, (f.name,)))
    return found


def load_numbers(folder: Path) -> tuple[dict[tuple[str, ...], float], set[str]]:
    """Every number of the stage's JSON files, keyed by (file name, key path), and the names of
    those that are a copy of part of its ``result.json`` (a training stage's ``history.json`` and
    ``eval.json`` are its ``outputs.history`` and ``outputs.eval``)."""
    loaded = {}
    for name in NUMBER_FILES:
        path = folder / name
        if path.is_file():
            try:
                loaded[name] = json.loads(path.read_text())
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}: not JSON ({err})") from None
    outputs = loaded.get(RESULT_FILE, {}).get("outputs", {})
    copies = {name for name, value in loaded.items() if name != RESULT_FILE and outputs.get(Path(name).stem) == value}
    found = {}
    for name, value in loaded.items():
        found.update(numbers(value, (name,)))
    return found, copies


def compare_stage(name: str, a: Path, b: Path, tally: Tally) -> None:
    """Add one stage's numbers and tensors, and their differences, to ``tally``. A file that is a
    copy of its ``result.json``'s part in both folders counts once, there."""
    (numbers_a, copies_a), (numbers_b, copies_b) = load_numbers(a), load_numbers(b)
    twice = copies_a & copies_b
    numbers_a, numbers_b = ({p: v for p, v in m.items() if p[0] not in twice} for m in (numbers_a, numbers_b))
    n, lines = compare_maps(name, "number", numbers_a, numbers_b, same_number)
    t, more = compare_maps(name, "tensor", load_tensors(a), load_tensors(b), same_tensor)
    tally.stages += 1
    tally.numbers += n
    tally.tensors += t
    tally.differences += lines + more


def split_digest(split_dir: Path) -> tuple[int, str]:
    """(rows, SHA-256 over every row's video id, label and frames, in video-id order) of a decoded split."""
    if not (split_dir / "summary.json").is_file():
        raise FileNotFoundError(f"{split_dir}: no decoded split there (its shards moved or deleted?)")
    index = open_split(split_dir)
    digest = hashlib.sha256("\n".join(index.classes).encode())
    for i, video in enumerate(index.video_ids):
        frames = index.frames(i)
        digest.update(f"{video}\t{int(index.labels[i])}\t{frames.shape}".encode())
        digest.update(frames.tobytes())
    return len(index), digest.hexdigest()


def compare_rows(name: str, a: tuple[Path, Path], b: tuple[Path, Path], tally: Tally) -> None:
    """Add one decode stage's rows to ``tally``: ``a`` and ``b`` are (output folder, stage folder)."""
    (rows_a, digest_a), (rows_b, digest_b) = (split_digest(shard_dir(*side)) for side in (a, b))
    tally.rows += min(rows_a, rows_b)
    if (rows_a, digest_a) != (rows_b, digest_b):
        tally.differences.append(f"{name}: decoded rows differ ({rows_a} rows, SHA-256 {digest_a[:12]} vs "
                                 f"{rows_b} rows, {digest_b[:12]})")


def compare(a: Path, b: Path, rows: bool = False) -> tuple[Tally, list[str]]:
    """Compare two output folders (``rows``: their decoded splits too); returns the tally and
    notes (stages in one folder only, names with several keys)."""
    stages_a, several_a = stage_folders(a)
    stages_b, several_b = stage_folders(b)
    tally = Tally()
    for name in sorted(stages_a.keys() & stages_b.keys()):
        compare_stage(name, stages_a[name], stages_b[name], tally)
        if rows and name.startswith(f"{names.DECODE}/"):
            compare_rows(name, (a, stages_a[name]), (b, stages_b[name]), tally)
    notes = [f"stage {n} only in {'A' if n in stages_a else 'B'}" for n in sorted(stages_a.keys() ^ stages_b.keys())]
    notes += [f"stage {n} has several keys in {side}; the newest was compared"
              for side, several in (("A", several_a), ("B", several_b)) for n in several]
    return tally, notes


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("a", type=Path, help="a study output folder (A)")
    p.add_argument("b", type=Path, help="another study output folder (B)")
    p.add_argument("--rows", action="store_true", help="also compare every decoded split's rows (reads every frame)")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        tally, notes = compare(args.a, args.b, args.rows)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for line in notes + tally.differences:
        print(line)
    rows = f", {tally.rows:,} decoded rows" if args.rows else ""
    print(f"{tally.stages} stages in both, {tally.numbers:,} numbers{rows} and {tally.tensors:,} tensors compared: "
          f"{len(tally.differences)} differ" + (f" ({len(notes)} notes above)" if notes else ""))
    return 1 if tally.differences else 0


if __name__ == "__main__":
    raise SystemExit(main())
