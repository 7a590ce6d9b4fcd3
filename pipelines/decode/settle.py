"""What killed and retried decode tasks leave in a split's shards, found and removed.

A decode task decodes its videos and writes their rows (Ray Data fuses the write into it). When
its worker dies (a decoder's segfault, the OOM killer) mid-write, a Parquet file without its
footer stays behind; when it dies after writing, before reporting, its retry writes the same
rows again. Measured in a default study whose decode worker segfaulted: one file cut short at
80 KB and 45 of the split's 90 videos without a row, while the manifest counted all 90 decoded.
:func:`settle_shards` removes both kinds of leftover and says which videos the shards hold.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def shard_ids(path: Path) -> list[str] | None:
    """The video ids of one shard file, or None if it cannot be read (a write cut short)."""
    try:
        return pq.ParquetFile(path).read(columns=["video_id"]).column("video_id").to_pylist()
    except (pa.ArrowInvalid, OSError):
        return None


def settle_shards(shards: Path) -> set[str]:
    """Remove the files of ``shards`` that cannot be read and those whose every video an earlier
    file already holds (each said on stderr); returns the video ids the rest hold, each once.
    A file that shares only some of its videos with others is an error: no retry writes that."""
    held: set[str] = set()
    for path in sorted(shards.glob("*.parquet")):
        ids = shard_ids(path)
        if ids is None or (ids and set(ids) <= held):
            why = "cannot be read (a write cut short)" if ids is None else "repeats rows already written"
            print(f"[decode] {path}: {why}; removed", file=sys.stderr, flush=True)
            path.unlink()
            continue
        shared = held & set(ids)
        if shared:
            raise RuntimeError(f"{path}: {len(shared)} of its videos are also in another shard file "
                               f"(e.g. {min(shared)}); the split's rows are not one per video")
        held |= set(ids)
    return held
