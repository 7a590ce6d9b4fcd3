"""The decode cache's own checks: a completion record, verified before a folder is reused, and
the clean-up of folders that killed runs left behind.

A finished folder holds ``complete.json``: the size of every file in it. A folder is reused only
if that record is there, every file has its recorded size, every shard's Parquet footer reads
with the shard schema, and ``classes.txt`` lists the classes. Anything else (a truncated shard,
a deleted ``classes.txt``, a folder of an older version) is decoded again, with a message.

A run in progress holds an ``flock`` on ``<partial>/.lock``; a ``.partial-*`` folder whose lock
can be taken belongs to a run that died, and is removed.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import sys
from pathlib import Path

import pyarrow.parquet as pq

from pipelines.decode.schema import SHARD_SCHEMA

COMPLETE = "complete.json"
LOCK = ".lock"


def write_completion(folder: Path) -> None:
    """Record the size of every file under ``folder`` (the last file a decode writes)."""
    sizes = {str(p.relative_to(folder)): p.stat().st_size for p in sorted(folder.rglob("*"))
             if p.is_file() and p.name != LOCK}
    (folder / COMPLETE).write_text(json.dumps(sizes, indent=1))


def damage(folder: Path, classes: tuple[str, ...]) -> str | None:
    """Why the finished-looking ``folder`` cannot be reused, or None if it can."""
    record = folder / COMPLETE
    if not record.is_file():
        return f"no {COMPLETE} (an interrupted or older decode)"
    try:
        sizes = json.loads(record.read_text())
    except (OSError, ValueError):
        return f"{COMPLETE} is unreadable"
    for name, size in sizes.items():
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        if path.stat().st_size != size:
            return f"{name} has {path.stat().st_size} bytes, {size} when written"
    rows = 0
    for shard in sorted((folder / "shards").glob("*.parquet")):
        try:
            meta = pq.read_metadata(shard)
        except Exception as err:  # noqa: BLE001 - any unreadable footer
            return f"{shard.name} is unreadable ({type(err).__name__})"
        if not meta.schema.to_arrow_schema().remove_metadata().equals(SHARD_SCHEMA):
            return f"{shard.name} does not have the shard schema"
        rows += meta.num_rows
    if not (folder / "summary.json").is_file():
        return "summary.json is missing"
    decoded = json.loads((folder / "summary.json").read_text()).get("decoded")
    if rows != decoded:  # a killed write task lost rows, or its retry repeated them (settled since session 17)
        return f"its shards hold {rows} rows for {decoded} decoded videos"
    listed = tuple(line for line in (folder / "classes.txt").read_text().splitlines() if line)
    if listed != classes:
        return "classes.txt does not list the dataset's classes"
    return None


def reusable(folder: Path, classes: tuple[str, ...]) -> bool:
    """True if ``folder`` is a verified finished decode; a damaged one is set aside (removed)
    with a message, so that the caller decodes again."""
    if not folder.exists():
        return False
    why = damage(folder, classes)
    if why is None:
        return True
    print(f"[decode] {folder}: cached decode is damaged ({why}); decoding again", file=sys.stderr, flush=True)
    shutil.rmtree(folder, ignore_errors=True)
    return False


def hold(partial: Path):
    """Create ``partial`` and hold its lock for the life of the returned handle."""
    partial.mkdir(parents=True)
    handle = open(partial / LOCK, "w")
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def remove_abandoned(final: Path) -> int:
    """Remove the ``<final>.partial-*`` folders whose run died (their lock is free)."""
    removed = 0
    for partial in final.parent.glob(f"{final.name}.partial-*"):
        try:
            with open(partial / LOCK, "a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                shutil.rmtree(partial, ignore_errors=True)
                removed += 1
        except BlockingIOError:
            continue  # a live run's
        except OSError:
            shutil.rmtree(partial, ignore_errors=True)  # no lock file: died before taking it
            removed += 1
    return removed
