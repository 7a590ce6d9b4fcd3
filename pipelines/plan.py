"""``full_study.py --plan``: what every stage of a study reads, its shards' bytes on disk, its
peak memory per worker and the workers and devices it needs, before anything runs.

Sizes come from the config and the datasets' published sizes (``NOMINAL``; the built-in
benchmark's from its config). Memory is arithmetic on those sizes, the models' parameter counts
and the input pipeline's buffers: an estimate that shows what grows with what, not a
measurement (``pipelines.benchmarks.memory_scaling`` measures).
"""

from __future__ import annotations

import dataclasses
import statistics
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from drl_core.config import ModelConfig
from pipelines.config.schema import SYNTHETIC, DatasetConfig, StudyConfig
from pipelines.data.cutting import test_shape
from pipelines.study_graph import STATIC, build_study, decoded_splits
from pipelines.synthetic.generate import static_classes

GIB = 2**30
# (videos, mean seconds) per split kind, and classes, from each dataset's paper or release notes.
NOMINAL: dict[str, tuple[dict[str, tuple[int, float]], int]] = {
    "kinetics400": ({"train": (240_000, 10.0), "test": (20_000, 10.0)}, 400),
    "minikinetics200": ({"train": (80_000, 10.0), "test": (5_000, 10.0)}, 200),
    "ucf101": ({"train": (9_537, 7.2), "test": (3_783, 7.2)}, 101),
    "hmdb51": ({"train": (3_570, 3.2), "test": (1_530, 3.2)}, 51),
    "diving48": ({"train": (15_027, 5.0), "test": (1_970, 5.0)}, 48),
    "ssv2": ({"train": (168_913, 4.0), "test": (24_777, 4.0)}, 174),
    "jester": ({"train": (118_562, 3.0), "test": (14_787, 3.0)}, 27),
    "mimetics": ({"train": (0, 0.0), "test": (713, 10.0)}, 50),
}
ASPECT = 4 / 3  # width / height of real videos, for the resized frame size
JPEG_RATIO = 0.15  # JPEG bytes per raw byte at quality ~90 on natural frames
WORKER_BASE = {False: 1.5 * GIB, True: 3.0 * GIB}  # Python, torch, Ray (and the CUDA host side)


@dataclass(frozen=True)
class SplitSize:
    videos: int
    seconds: float
    classes: int
    stored_per_video: float  # bytes in the shards
    decoded_per_video: float  # bytes of its uint8 frames
    clip_frames: int  # frames of one clip (the decode's num_frames for this dataset)


@dataclass(frozen=True)
class StagePlan:
    stage: str
    reads: tuple[str, ...]
    shard_gib: float
    peak_gib: float
    workers: str


def split_size(cfg: StudyConfig, ds: DatasetConfig, split: str) -> SplitSize:
    """Videos, length and bytes per video of one split."""
    d, b = cfg.decode_of(ds), cfg.benchmark
    if ds.reader == SYNTHETIC:
        per_class = b.source_train_per_class if split == ds.train_split else b.source_test_per_class
        classes = 10
        if ds.name == STATIC.name:
            per_class = b.static_train_per_class if split == ds.train_split else b.static_test_per_class
            classes = len(static_classes())
        elif ds.name != cfg.data.source.name:
            per_class = b.downstream_train_per_class if split == ds.train_split else b.downstream_test_per_class
        videos, seconds, width = per_class * classes, statistics.fmean(b.duration), d.short_side
    else:
        sizes, classes = NOMINAL[ds.reader]
        videos, seconds = sizes["train" if split == ds.train_split else "test"]
        width = round(d.short_side * ASPECT)
    frames = max(d.num_frames, round(seconds * d.num_frames / d.clip_seconds))
    decoded = frames * d.short_side * width * 3
    stored = decoded * (JPEG_RATIO if d.encoding(ds.reader) == "jpeg" else 1.0)
    return SplitSize(videos, seconds, classes, stored, decoded, d.num_frames)


@lru_cache(maxsize=None)
def model_size(model: ModelConfig, classes: int) -> tuple[int, int]:
    """(parameters, feature dimension) of a model (its checkpoint is not read)."""
    from drl_core.models import build_model

    net = build_model(dataclasses.replace(model, checkpoint=""), classes)
    return sum(p.numel() for p in net.parameters()), net.feature_dim


def _train_peak(cfg: StudyConfig, job, size: SplitSize) -> float:
    res, gpu = cfg.resources, cfg.resources.use_gpu
    params, _ = model_size(job.model, size.classes)
    state = params * 20  # weights, gradients, two optimizer moments, DDP buckets (fp32)
    if job.kind == "distill":
        state += model_size(cfg.pretrain.model, size.classes)[0] * 4  # the frozen teacher
    if job.algorithm.name in ("adversarial", "spatial_adversary"):
        state += model_size(job.algorithm.spatial, size.classes)[0] * 20
    local = max(1, job.optim.batch_size // res.num_workers)
    clip = size.clip_frames * job.clip.crop_size ** 2 * 3
    buffers = (job.prefetch_batches + 2) * local * clip * 2  # uint8 batches, pageable and pinned
    host_activations = 0 if gpu else local * clip / 3 * job.model.width * 4 * 24  # forward and backward
    return WORKER_BASE[gpu] + state + buffers + host_activations + size.videos * 256


def _eval_peak(cfg: StudyConfig, model: ModelConfig, sizes: list[SplitSize], clip, per_clip: bool = False) -> float:
    gpu = cfg.resources.use_gpu
    classes = max(s.classes for s in sizes)
    params, dim = model_size(model, classes)
    videos = sum(s.videos for s in sizes)
    kept = videos * (dim + classes) * 4 * 3  # per-video features and logits (teacher, student, probe)
    frames = max(s.clip_frames for s in sizes)
    items = test_shape(clip, frames)[0]
    kept += videos * items * dim * 4 * 2 if per_clip else 0  # each item's features, and their concatenation
    stream = cfg.resources.inference_stream()
    clips = stream.batch_size * clip.test_clips * frames * clip.crop_size ** 2 * 3  # uint8
    batch = clips if gpu else clips * (1 + 4 * 24)  # on a CPU, float input and activations on the host
    # cut here: one decoded row at a time; by Ray Data tasks: their prefetched batches
    loading = stream.prefetch_batches * clips if stream.ray_data else max(s.decoded_per_video for s in sizes)
    return WORKER_BASE[gpu] + params * 8 + kept + batch * 2 + loading


def plan_study(cfg: StudyConfig) -> list[StagePlan]:
    """One row per stage (the report's last)."""
    splits = decoded_splits(cfg)
    sizes = {name: split_size(cfg, ds, split) for name, (ds, split) in splits.items()}
    res = cfg.resources
    gpu = f", {res.gpus_per_worker:g} GPU" if res.use_gpu else ""
    rows = []
    for spec in build_study(cfg):
        reads = tuple(n for _, n in spec.deps if n in sizes)
        read_sizes = [sizes[n] for n in reads]
        shard = sum(s.videos * s.stored_per_video for s in read_sizes) / GIB
        if spec.kind == "decode":
            s = sizes[spec.name]
            peak = 1.0 * GIB + spec.config.decode.videos_per_task * (s.decoded_per_video + s.stored_per_video) * 2
            rows.append(StagePlan(spec.name, (), s.videos * s.stored_per_video / GIB, peak / GIB,
                                  "tasks of 1 CPU"))
        elif spec.kind == "train":
            train = sizes[dict(spec.deps)["train"]]
            task = 0.5 * GIB + res.videos_per_task * (train.stored_per_video + train.decoded_per_video * 2)
            peak = max(_train_peak(cfg, spec.config, train), task)
            feed = (f" + data tasks of {res.data_cpus:g} CPU" if spec.config.ingest == "ray_data"
                    else ", clips cut in the worker")
            rows.append(StagePlan(spec.name, reads, shard, peak / GIB,
                                  f"{res.num_workers}× ({res.cpus_per_worker:g} CPU{gpu}){feed}"))
        elif spec.kind in ("evaluate", "linear_probe", "fewshot"):
            per_clip = spec.kind == "fewshot" and spec.config.fewshot.items == "clip"
            clips = [spec.config.clip, *(c for _, c in getattr(spec.config, "mapped_clips", ()))]
            peak = max(_eval_peak(cfg, cfg.pretrain.model, read_sizes, c, per_clip) for c in clips)
            feed = (f" + {res.inference_tasks} data tasks of {res.data_cpus:g} CPU" if spec.data_cpus
                    else ", clips cut in the task")
            rows.append(StagePlan(spec.name, reads, shard, peak / GIB,
                                  f"1× ({res.eval_cpus:g} CPU{', 1 GPU' if res.use_gpu else ''}){feed}"))
        else:
            rows.append(StagePlan(spec.name, reads, shard, WORKER_BASE[False] / GIB, "1 CPU"))
    return rows


def format_plan(rows: list[StagePlan]) -> str:
    """The plan as a terminal table, with the largest per-worker peak last."""
    lines = [f"{'stage':44s} {'shards read (GiB)':>17s} {'peak/worker (GiB)':>17s}  workers and devices  |  reads"]
    for r in rows:
        lines.append(f"{r.stage:44s} {r.shard_gib:17.1f} {r.peak_gib:17.1f}  {r.workers}  |  {', '.join(r.reads) or '-'}")
    top = max(rows, key=lambda r: r.peak_gib)
    lines.append(f"largest peak per worker: {top.peak_gib:.1f} GiB ({top.stage}); estimates from the config and "
                 f"the datasets' published sizes (pipelines/plan.py)")
    return "\n".join(lines)


def folder_bytes(folder: Path) -> int:
    """Bytes of the files under ``folder`` (0 if it does not exist)."""
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) if folder.is_dir() else 0


def disk_plan(rows: list[StagePlan], out: Path) -> str:
    """One line: the shard bytes the decode stages write under ``out``, what is there already,
    and the room its disk has before Ray's threshold (:mod:`pipelines.disk_space`)."""
    import shutil

    from pipelines.disk_space import existing, threshold, used_fraction

    write = sum(r.shard_gib for r in rows if r.stage.startswith("decode/"))
    there = folder_bytes(out / "shards") / GIB
    usage = shutil.disk_usage(existing(out))
    room = max(0.0, threshold() - used_fraction(out)) * usage.total / GIB
    verdict = ("room enough" if write - there <= room else
               "not enough: the study would stop for lack of space (an --output-dir on a larger disk, or free some)")
    return (f"disk: the decode stages write about {write:.1f} GiB of shards under {out / 'shards'} "
            f"({there:.1f} GiB there now); its disk has {usage.free / GIB:.1f} GiB free, {room:.1f} GiB "
            f"before Ray's {threshold():.0%} line: {verdict}")
