"""The decode stage: video records → Arrow/Parquet clip shards, on Ray Data.

Output folder ``<out_root>/<dataset>/<split>/<key>/``::

    shards/*.parquet   one row per video, one video per row group (pipelines.decode.schema)
    classes.txt        class names in label order
    manifest.csv       one row per input video or annotation row: status, reason, backend
    summary.json       counts by status and by label, the key and the parameters
    complete.json      every file's size, written last (pipelines.decode.cache verifies it on reuse)

Records are screened before anything is opened (pipelines.decode.screen): paths outside the
video root and repeated video ids go to the manifest as ``outside_root`` / ``duplicate``.
Before the manifest is written the shards are settled (pipelines.decode.settle): files a killed
task cut short or a retried one repeated are removed, and videos whose row was lost are decoded
once more (``lost`` in the manifest if their row is lost again).

``key`` hashes the parameters, the class list, every annotation row and every input file's
path (relative to the video root) and size: a re-run with the same inputs reuses the folder, a
copy of the dataset elsewhere too; any change decodes into a new one.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import sys
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import pyarrow as pa

from drl_core.config import added_at_default
from pipelines.config.schema import SYNTHETIC, DecodeConfig
from pipelines.decode.cache import LOCK, hold, remove_abandoned, reusable, write_completion
from pipelines.decode.readers import RecordSet, VideoRecord, get_reader
from pipelines.decode.schema import empty_table, video_table
from pipelines.decode.screen import check_name, screen
from pipelines.decode.settle import settle_shards
from pipelines.decode.video import ClipSpec, VideoChecks, decode_many_isolated, decode_video

MANIFEST_FIELDS = ("video_id", "path", "split", "label_name", "status", "reason", "backend", "frames")


@dataclass(frozen=True)
class DecodeInputs:
    dataset: str
    split: str
    video_root: str
    annotation_root: str
    out_root: str
    reader: str = "kinetics400"
    synthetic: bool = False  # the built-in benchmark (Kinetics layout; frames stored raw by default)


@dataclass(frozen=True)
class DecodeOutput:
    path: Path
    key: str
    classes: tuple[str, ...]
    summary: dict
    cached: bool

    @property
    def shards(self) -> Path:
        return self.path / "shards"

    @property
    def manifest(self) -> Path:
        return self.path / "manifest.csv"


def clip_spec(cfg: DecodeConfig, reader: str) -> ClipSpec:
    """How ``reader``'s videos become rows; ``frame_format: auto`` stores the built-in
    benchmark raw (its calibration is not disturbed by JPEG) and real datasets as JPEG."""
    checks = VideoChecks(cfg.min_frames, cfg.min_seconds, cfg.max_pixels)
    return ClipSpec(cfg.num_frames, cfg.clip_seconds, cfg.short_side, checks, cfg.encoding(reader), cfg.jpeg_quality,
                    cfg.resize)


def _relative(path: str, root: str) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return path


def _size(path: Path) -> int | None:
    """A file's size; a frame folder's summed over its files; None if missing."""
    try:
        if path.is_dir():
            return sum(e.stat().st_size for e in os.scandir(path) if e.is_file())
        return path.stat().st_size
    except OSError:
        return None


def cache_key(cfg: DecodeConfig, spec: ClipSpec, records: RecordSet, video_root: str = "") -> str:
    """Hash of decoding parameters, the class list and each input file's identity."""
    h = hashlib.sha256()
    # an option added later, at its default, is no part of the key: splits decoded before it keep theirs
    spec_form = {f.name: value for f, value in zip(fields(spec), asdict(spec).values())
                 if not added_at_default(f, getattr(spec, f.name))}
    h.update(json.dumps({"spec": spec_form, "backends": cfg.backends, "timeout_s": cfg.timeout_s,
                         "classes": records.classes, "version": 4}, sort_keys=True).encode())
    for r in records.records:
        size = _size(Path(r.path))
        h.update(json.dumps([{**asdict(r), "path": _relative(r.path, video_root)}, size]).encode())
    for rej in records.rejects:
        h.update(json.dumps({**asdict(rej), "path": _relative(rej.path, video_root)}).encode())
    return h.hexdigest()[:16]


def decode_batch(batch: pa.Table, spec: ClipSpec, cfg: DecodeConfig, manifest_dir: str) -> pa.Table:
    """Ray Data map function: decode a batch of records, write their manifest part, return rows."""
    tables, entries = [], []
    recs = batch.to_pylist()
    paths, fps = [r["path"] for r in recs], [r["fps"] for r in recs]
    if cfg.isolate:
        results = decode_many_isolated(paths, spec, cfg.backends, cfg.timeout_s, fps)
    else:
        results = [decode_video(p, spec, cfg.backends, f) for p, f in zip(paths, fps)]
    for rec, res in zip(recs, results):
        n = 0 if res.frames is None else len(res.frames)
        entries.append({**{k: rec[k] for k in ("video_id", "path", "split", "label_name")},
                        "status": res.status, "reason": res.reason or "; ".join(res.errors),
                        "backend": res.backend, "frames": n})
        if res.status == "ok":
            meta = {**rec, "source_fps": res.fps, "duration": res.duration, "backend": res.backend}
            tables.append(video_table(meta, res.frames, spec.frame_rate, spec.encoding, spec.jpeg_quality))
    part = Path(manifest_dir) / f"{uuid.uuid4().hex}.json"
    part.write_text(json.dumps(entries))
    return pa.concat_tables(tables) if tables else empty_table()


def task_count(videos: int, per_task: int, cpus: int) -> int:
    """Decode tasks for ``videos``: at most ``per_task`` videos each, and a multiple of the
    cluster's ``cpus`` where there are more tasks than CPUs, so no CPU idles through the last
    round (400 videos, 32 per task, 2 CPUs: 14 tasks of 28-29, not 13 with one left alone)."""
    tasks = max(1, -(-videos // per_task))
    if tasks > cpus > 0:
        tasks = cpus * -(-tasks // cpus)
    return min(tasks, max(videos, 1))


def task_options(cfg: DecodeConfig) -> dict:
    """Ray options of a decode task: one CPU; its worker replaced after ``max_calls`` tasks only
    where it decodes in-process (isolated decoders exit with their child after each task)."""
    recycle = cfg.max_calls and not cfg.isolate
    return {"num_cpus": 1, **({"max_calls": cfg.max_calls} if recycle else {})}


def _ray_decode(records: list[VideoRecord], spec: ClipSpec, cfg: DecodeConfig, tmp: Path) -> None:
    import ray

    (tmp / "manifest_parts").mkdir(parents=True, exist_ok=True)
    (tmp / "shards").mkdir(exist_ok=True)
    if not records:
        return
    # Ray Data reserves half of the cluster for each operator by default; on a small node that
    # runs one decode task at a time. Decoding is the only heavy operator here, so let it use all.
    ray.data.DataContext.get_current().op_resource_reservation_enabled = False
    items = [asdict(r) for r in records]
    blocks = task_count(len(items), cfg.videos_per_task, int(ray.cluster_resources().get("CPU", 1)))
    ds = ray.data.from_items(items, override_num_blocks=blocks)
    remote_args = task_options(cfg)
    ds = ds.map_batches(decode_batch, batch_size=None, batch_format="pyarrow",  # a block per task
                        fn_kwargs={"spec": spec, "cfg": cfg, "manifest_dir": str(tmp / "manifest_parts")},
                        **remote_args)
    # The same task options let Ray Data fuse the write into the decode task: with others (Ray
    # Data's default for writes) every decoded block crossed the object store to a write task of
    # its own CPU.
    ds.write_parquet(str(tmp / "shards"), row_group_size=1, ray_remote_args=remote_args)  # any video read alone


def _collect_manifest(tmp: Path, records: RecordSet) -> list[dict]:
    seen: dict[str, dict] = {}
    for part in sorted((tmp / "manifest_parts").glob("*.json")):
        for entry in json.loads(part.read_text()):
            seen[entry["video_id"]] = entry  # a retried task may report a video twice
    rows = [seen.get(r.video_id) or {**asdict(r), "status": "lost", "reason": "no decode result came back",
                                        "backend": "", "frames": 0} for r in records.records]
    rows = [{k: row.get(k, "") for k in MANIFEST_FIELDS} for row in rows]
    rows += [{**{k: getattr(rej, k) for k in ("video_id", "path", "split", "label_name", "status", "reason")},
              "backend": "", "frames": 0} for rej in records.rejects]
    return rows


LOST_ROW = "decoded, but its row was lost with a killed write task, twice"


def _rows_settled(records: RecordSet, spec: ClipSpec, cfg: DecodeConfig, tmp: Path) -> list[dict]:
    """The manifest rows once the shards hold exactly one row per decoded video: what killed
    tasks left is removed (:mod:`pipelines.decode.settle`), videos whose row was lost are decoded
    once more, and any still without a row are ``lost`` in the manifest, with the reason."""
    def without_row(rows: list[dict]) -> set[str]:
        return {r["video_id"] for r in rows if r["status"] == "ok"} - settle_shards(tmp / "shards")

    rows = _collect_manifest(tmp, records)
    missing = without_row(rows)
    if missing:
        print(f"[decode] {len(missing)} decoded videos of {tmp.name} have no row (a write task was killed); "
              f"decoding them again", file=sys.stderr, flush=True)
        _ray_decode([r for r in records.records if r.video_id in missing], spec, cfg, tmp)
        rows = _collect_manifest(tmp, records)
        missing = without_row(rows)
    return [{**r, "status": "lost", "reason": LOST_ROW, "frames": 0} if r["video_id"] in missing else r for r in rows]


def _write_outputs(tmp: Path, rows: list[dict], records: RecordSet, key: str, cfg: DecodeConfig,
                   spec: ClipSpec, seconds: float) -> dict:
    with open(tmp / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, MANIFEST_FIELDS)
        w.writeheader()
        w.writerows(rows)
    (tmp / "classes.txt").write_text("".join(f"{c}\n" for c in records.classes))
    ok = [r for r in rows if r["status"] == "ok"]
    summary = {
        "key": key, "videos": len(rows), "decoded": len(ok), "frames": sum(int(r["frames"]) for r in ok),
        "by_status": dict(Counter(r["status"] for r in rows)),
        "by_backend": dict(Counter(r["backend"] for r in ok)),
        "per_label": {c: n for c, n in sorted(Counter(r["label_name"] for r in ok).items())},
        "spec": asdict(spec), "backends": list(cfg.backends), "seconds": round(seconds, 2),
    }
    (tmp / "summary.json").write_text(json.dumps(summary, indent=2))
    shutil.rmtree(tmp / "manifest_parts")
    return summary


def read_records(inputs: DecodeInputs) -> RecordSet:
    """The split's records, screened (:mod:`pipelines.decode.screen`); nothing is opened yet.
    Bad names and annotation files are errors here, before any Ray work starts."""
    check_name(inputs.dataset, "dataset name")
    check_name(inputs.split, "split name")
    records = get_reader(inputs.reader)(inputs.video_root, inputs.annotation_root, inputs.split)
    return screen(records, inputs.video_root)


def run(cfg: DecodeConfig, inputs: DecodeInputs, records: RecordSet | None = None) -> DecodeOutput:
    """Decode one split of one dataset into shards, or reuse the verified shards of an
    identical run (:mod:`pipelines.decode.cache`)."""
    records = read_records(inputs) if records is None else records
    spec = clip_spec(cfg, SYNTHETIC if inputs.synthetic else inputs.reader)
    key = cache_key(cfg, spec, records, inputs.video_root)
    final = Path(inputs.out_root) / inputs.dataset / inputs.split / key
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned(final)
    if reusable(final, records.classes):
        return DecodeOutput(final, key, records.classes, json.loads((final / "summary.json").read_text()), True)
    tmp = final.with_name(f"{key}.partial-{uuid.uuid4().hex[:8]}")
    start = time.perf_counter()
    lock = hold(tmp)
    try:
        _ray_decode(records.records, spec, cfg, tmp)
        rows = _rows_settled(records, spec, cfg, tmp)
        summary = _write_outputs(tmp, rows, records, key, cfg, spec, time.perf_counter() - start)
        (tmp / LOCK).unlink()
        write_completion(tmp)
        if final.exists():  # a concurrent run finished first: keep its folder
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        lock.close()
    return DecodeOutput(final, key, records.classes, summary, False)
