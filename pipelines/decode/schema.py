"""The one Arrow schema of decoded shards, shared by the writer and every reader.

One row per video. ``frames`` holds the video's frames sampled every ``1 / frame_rate`` s at
bin centres over its whole length (frame k at (k + ½) / frame_rate s), where ``frame_rate`` is
the clip's frames per second (``num_frames / clip_seconds``): any window of ``num_frames``
consecutive frames is a 1-s training clip, and the test clips are cut from the same row. Each
frame is one entry, JPEG or raw uint8 (``encoding``), resized to the short side; every binary
child uses 64-bit offsets, so no Arrow array passes the 2 GB limit at any dataset size. Shards
are written one video per row group, so a reader can fetch any video alone.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

JPEG, RAW = "jpeg", "raw"
ENCODINGS = (JPEG, RAW)

SHARD_SCHEMA = pa.schema([
    ("video_id", pa.string()),
    ("label", pa.int32()),
    ("label_name", pa.string()),
    ("split", pa.string()),
    ("frames", pa.list_(pa.large_binary())),
    ("num_frames", pa.int32()),
    ("frame_shape", pa.list_(pa.int32(), 3)),
    ("encoding", pa.string()),
    ("frame_rate", pa.float32()),
    ("source_fps", pa.float32()),
    ("duration", pa.float32()),
    ("backend", pa.string()),
])
INDEX_COLUMNS = ["video_id", "label", "num_frames", "frame_shape"]
FRAME_COLUMNS = ["video_id", "label", "frames", "frame_shape", "encoding"]


def encode_frames(frames: np.ndarray, encoding: str, quality: int = 90) -> list[bytes]:
    """uint8 frames N×H×W×3 → one bytes object per frame (JPEG at ``quality``, or raw)."""
    if encoding == RAW:
        return [np.ascontiguousarray(f, dtype=np.uint8).tobytes() for f in frames]
    from PIL import Image

    out = []
    for f in frames:
        buf = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(f, dtype=np.uint8)).save(buf, "JPEG", quality=quality)
        out.append(buf.getvalue())
    return out


def decode_frames(data: list[bytes], shape: tuple[int, int, int], encoding: str) -> np.ndarray:
    """The inverse of :func:`encode_frames`: uint8 N×H×W×3."""
    if encoding == RAW:
        return np.frombuffer(b"".join(data), np.uint8).reshape(len(data), *shape)
    from PIL import Image

    return np.stack([np.asarray(Image.open(io.BytesIO(b)).convert("RGB")) for b in data])


def video_table(meta: dict, frames: np.ndarray, frame_rate: float, encoding: str, quality: int = 90) -> pa.Table:
    """The row of one video.

    Args:
        meta: ``video_id``, ``label``, ``label_name``, ``split``, ``source_fps``, ``duration``
            and ``backend`` of the video.
        frames: uint8 N×H×W×3, one every ``1 / frame_rate`` s.
    """
    row = {
        "video_id": [meta["video_id"]], "label": [meta["label"]], "label_name": [meta["label_name"]],
        "split": [meta["split"]], "frames": [encode_frames(frames, encoding, quality)],
        "num_frames": [len(frames)], "frame_shape": [list(frames.shape[1:])], "encoding": [encoding],
        "frame_rate": [float(frame_rate)], "source_fps": [float(meta["source_fps"])],
        "duration": [float(meta["duration"])], "backend": [meta["backend"]],
    }
    return pa.table(row, schema=SHARD_SCHEMA)


def write_split_files(folder: Path, classes: list[str], clip_frames: int, encoding: str,
                      files: Iterable[list[pa.Table]]) -> Path:
    """A decoded split laid out as the decode stage lays it out, from rows already made (tests and
    benchmarks): ``classes.txt``, a ``summary.json`` with the clip spec, and one Parquet file of
    one video per row group for each list of :func:`video_table` rows in ``files``."""
    import json

    (folder / "shards").mkdir(parents=True, exist_ok=True)
    (folder / "classes.txt").write_text("".join(f"{c}\n" for c in classes))
    (folder / "summary.json").write_text(json.dumps({"spec": {"num_frames": clip_frames, "encoding": encoding}}))
    for i, tables in enumerate(files):
        pq.write_table(pa.concat_tables(tables), folder / "shards" / f"part-{i:05d}.parquet", row_group_size=1)
    return folder


def empty_table() -> pa.Table:
    return SHARD_SCHEMA.empty_table()


def check_schema(path: Path, schema: pa.Schema) -> None:
    """A one-line error naming ``path`` unless its columns match SHARD_SCHEMA's."""
    want = {f.name: f.type for f in SHARD_SCHEMA}
    for f in schema:
        if f.name in want and not f.type.equals(want[f.name]):
            raise ValueError(f"{path}: column {f.name!r} is {f.type}, expected {want[f.name]} "
                             f"(shards of an older format: decode the split again)")
    missing = [n for n in want if n not in schema.names]
    if missing:
        raise ValueError(f"{path}: not a shard of this format (missing columns: {', '.join(missing)}); "
                         f"decode the split again")


def row_frames(table: pa.Table, row: int, indices: np.ndarray | None = None) -> tuple[str, np.ndarray]:
    """(video id, uint8 frames K×H×W×3) of one row of a table read with FRAME_COLUMNS: the frames
    at ``indices`` (all by default), only those decoded."""
    data = table.column("frames")[row].values  # the row's frames, without copying the others
    wanted = range(len(data)) if indices is None else indices.tolist()
    shape = tuple(table.column("frame_shape")[row].as_py())
    return table.column("video_id")[row].as_py(), decode_frames([data[int(k)].as_py() for k in wanted], shape,
                                                                table.column("encoding")[row].as_py())


def read_shard(path: str | Path) -> pa.Table:
    """One shard file, whole (small files and tests only: readers stream row groups)."""
    table = pq.read_table(path)
    check_schema(Path(path), table.schema)
    return table
