"""Write the synthetic benchmark to disk in the Kinetics-400 layout.

Layout, for each dataset (``synth_source``, ``synth_paths``, ``synth_tempo``)::

    <root>/<dataset>/annotations/label_map.txt          class names, one per line, in label order
    <root>/<dataset>/annotations/<split>.csv            label,youtube_id,time_start,time_end,split
    <root>/<dataset>/annotations/<split>_meta.csv       generation parameters of every video
    <root>/<dataset>/videos/<split>/<label>/<ytid>_<start:06d>_<end:06d>.mp4

The source dataset has splits ``train``, ``test_in_context`` and ``test_out_of_context``; the
downstream datasets have ``train`` and ``test``. Output is a pure function of the config.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from pipelines.config.loader import to_dict
from pipelines.config.schema import BenchmarkConfig
from pipelines.synthetic.motions import DOWNSTREAM_CLASSES, SOURCE_CLASSES, place
from pipelines.synthetic.render import SHAPES, draw_object, random_colour
from pipelines.synthetic.scenes import render_scene, scene_bank

SOURCE = "synth_source"
DOWNSTREAM = tuple(DOWNSTREAM_CLASSES)
# The static task: the benchmark's counterpart of ImageNet for the spatial models. Its label is
# the scene and the object's shape, both visible in any single frame; the object moves as a
# source class chosen at random, independent of the label. Its videos lie outside every split.
STATIC = "synth_static"
EXTRA_SCENES = 2  # scenes that belong to no source class, for downstream variety
_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
CSV_HEADER = ("label", "youtube_id", "time_start", "time_end", "split")
META_HEADER = ("youtube_id", "label", "scene", "scene_class", "shape", "fps", "num_frames", "duration")


@dataclass(frozen=True)
class VideoPlan:
    """Everything needed to render one video, drawn up front so that output is deterministic."""

    dataset: str
    split: str
    label: str
    label_index: int
    youtube_id: str
    scene: int
    scene_class: int  # the source class whose home scene this is, or -1
    shape: str
    fps: int
    num_frames: int
    time_start: int
    seed: int
    motion: str = ""  # the source motion class it moves as, where that is not its label (the static task)

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps

    def relpath(self) -> str:
        end = self.time_start + math.ceil(self.duration)
        return f"videos/{self.split}/{self.label}/{self.youtube_id}_{self.time_start:06d}_{end:06d}.mp4"


@dataclass(frozen=True)
class GeneratedBenchmark:
    """Where the benchmark lies and which datasets it holds."""

    root: Path
    datasets: dict[str, tuple[str, ...]]  # dataset name -> split names
    key: str

    def annotations(self, dataset: str) -> Path:
        return self.root / dataset / "annotations"

    def videos(self, dataset: str) -> Path:
        return self.root / dataset / "videos"


def config_key(cfg: BenchmarkConfig) -> str:
    """A hash of every parameter that changes the generated files (``root`` excluded)."""
    payload = {k: v for k, v in to_dict(cfg).items() if k != "root"}
    payload["generator_version"] = 4  # 4: the static task (synth_static)
    payload["encoder"] = {"codec": "libx264", "pts": "frame index", **X264_OPTIONS}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def static_classes() -> tuple[str, ...]:
    """The static task's classes: every scene × every object shape."""
    return tuple(f"scene{s:02d} {shape}" for s in range(len(SOURCE_CLASSES) + EXTRA_SCENES) for shape in SHAPES)


def dataset_classes(dataset: str) -> tuple[str, ...]:
    """The class names of one of the benchmark's datasets."""
    if dataset == SOURCE:
        return tuple(SOURCE_CLASSES)
    return static_classes() if dataset == STATIC else tuple(DOWNSTREAM_CLASSES[dataset])


def _youtube_id(rng: np.random.Generator) -> str:
    return "".join(_ID_ALPHABET[i] for i in rng.integers(0, len(_ID_ALPHABET), size=11))


def _scene_for(split: str, label_index: int, n_source: int, bias: float, rng: np.random.Generator) -> int:
    """The scene of a source video: its own with probability ``bias``, else uniform at random.

    ``test_out_of_context`` always shows the home scene of another source class.
    """
    if split == "test_out_of_context":
        return int((label_index + rng.integers(1, n_source)) % n_source)
    if rng.uniform() < bias:
        return label_index
    return int(rng.integers(0, n_source))


def _plan_split(cfg: BenchmarkConfig, dataset: str, split: str, labels: list[str], per_class: int) -> list[VideoPlan]:
    ds_index = [SOURCE, *DOWNSTREAM, STATIC].index(dataset)
    split_index = ["train", "test_in_context", "test_out_of_context", "test"].index(split)
    rng = np.random.default_rng([cfg.seed, ds_index, split_index])
    n_source = len(SOURCE_CLASSES)
    plans = []
    for label_index, label in enumerate(labels):
        for _ in range(per_class):
            motion = ""
            if dataset == SOURCE:
                scene = _scene_for(split, label_index, n_source, cfg.bias, rng)
            elif dataset == STATIC:
                scene = label_index // len(SHAPES)
                motion = str(rng.choice(list(SOURCE_CLASSES)))
            else:
                scene = int(rng.integers(0, n_source + EXTRA_SCENES))
            fps = int(rng.choice(cfg.fps))
            duration = rng.uniform(*cfg.duration)
            shape = SHAPES[label_index % len(SHAPES)] if dataset == STATIC else str(rng.choice(SHAPES))
            plans.append(
                VideoPlan(
                    dataset, split, label, label_index, _youtube_id(rng), scene,
                    scene if scene < n_source else -1, shape, fps,
                    max(2, round(duration * fps)), int(rng.integers(0, 3000)),
                    int(rng.integers(0, 2**31 - 1)), motion,
                )
            )
    return plans


def plan_benchmark(cfg: BenchmarkConfig) -> list[VideoPlan]:
    """Every video of every dataset and split, in a fixed order."""
    plans = []
    source_labels = list(SOURCE_CLASSES)
    plans += _plan_split(cfg, SOURCE, "train", source_labels, cfg.source_train_per_class)
    for split in ("test_in_context", "test_out_of_context"):
        plans += _plan_split(cfg, SOURCE, split, source_labels, cfg.source_test_per_class)
    for name, classes in DOWNSTREAM_CLASSES.items():
        plans += _plan_split(cfg, name, "train", list(classes), cfg.downstream_train_per_class)
        plans += _plan_split(cfg, name, "test", list(classes), cfg.downstream_test_per_class)
    plans += _plan_split(cfg, STATIC, "train", list(static_classes()), cfg.static_train_per_class)
    plans += _plan_split(cfg, STATIC, "test", list(static_classes()), cfg.static_test_per_class)
    return plans


def render_video(plan: VideoPlan, size: int) -> np.ndarray:
    """The frames of one planned video: uint8 array of shape (F, size, size, 3)."""
    rng = np.random.default_rng(plan.seed)
    if plan.motion:
        motion = SOURCE_CLASSES[plan.motion]
    else:
        motion = (SOURCE_CLASSES if plan.dataset == SOURCE else DOWNSTREAM_CLASSES[plan.dataset])[plan.label]
    t = np.arange(plan.num_frames) / plan.fps - plan.duration / 2
    path = motion(rng, t)
    cx, cy = place(path, rng)
    background = render_scene(scene_bank(len(SOURCE_CLASSES) + EXTRA_SCENES)[plan.scene], size, rng)
    colour = random_colour(rng)
    return np.stack([
        draw_object(background, plan.shape, colour, cx[i], cy[i], path.radius[i], path.angle[i])
        for i in range(plan.num_frames)
    ])


X264_OPTIONS = {"preset": "veryfast", "threads": "1",
                "x264-params": "threads=1:lookahead-threads=1:sliced-threads=0:mbtree=0"}


def write_mp4(frames: np.ndarray, fps: int, path: Path, crf: int) -> None:
    """Encode frames (F×H×W×3 uint8) as H.264 in an .mp4, byte-identical on every machine.

    Measured: with x264's defaults a few percent of the videos differ between two encodes of the
    same frames, even on one thread; unset frame timestamps and the macroblock-tree rate control
    (its lookahead) were the causes. Every setting that shapes the bytes is fixed here
    (:data:`X264_OPTIONS`), and the benchmark's key names them.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), **X264_OPTIONS}
        for i, frame in enumerate(frames):
            video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
            video_frame.pts = i  # unset, the encoder's timestamps (and rate control) vary run to run
            for packet in stream.encode(video_frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _render_and_write(job: tuple[VideoPlan, int, int, str]) -> None:
    plan, size, crf, root = job
    write_mp4(render_video(plan, size), plan.fps, Path(root) / plan.dataset / plan.relpath(), crf)


def _write_annotations(root: Path, plans: list[VideoPlan]) -> dict[str, tuple[str, ...]]:
    datasets: dict[str, list[str]] = {}
    for plan in plans:
        splits = datasets.setdefault(plan.dataset, [])
        if plan.split not in splits:
            splits.append(plan.split)
    for dataset, splits in datasets.items():
        ann = root / dataset / "annotations"
        ann.mkdir(parents=True, exist_ok=True)
        labels = list(dataset_classes(dataset))
        (ann / "label_map.txt").write_text("".join(f"{name}\n" for name in labels))
        for split in splits:
            rows = [p for p in plans if p.dataset == dataset and p.split == split]
            with open(ann / f"{split}.csv", "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(CSV_HEADER)
                for p in rows:
                    w.writerow([p.label, p.youtube_id, p.time_start, p.time_start + math.ceil(p.duration), split])
            with open(ann / f"{split}_meta.csv", "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(META_HEADER)
                for p in rows:
                    w.writerow([p.youtube_id, p.label, p.scene, p.scene_class, p.shape, p.fps,
                                p.num_frames, f"{p.duration:.4f}"])
    return {k: tuple(v) for k, v in datasets.items()}


def generate_benchmark(cfg: BenchmarkConfig, root: str | Path, workers: int | None = None) -> GeneratedBenchmark:
    """Generate the benchmark under ``root`` unless the same config already lies there.

    Files are written to a temporary sibling folder and moved into place at the end, so an
    interrupted run never leaves a half-written benchmark that looks complete.
    """
    root = Path(root)
    key = config_key(cfg)
    marker = root / "GENERATED.json"
    if marker.exists():
        info = json.loads(marker.read_text())
        if info.get("key") == key:
            return GeneratedBenchmark(root, {k: tuple(v) for k, v in info["datasets"].items()}, key)
        raise FileExistsError(
            f"{root}: holds a benchmark generated with another config (key {info.get('key')}, "
            f"wanted {key}); choose another folder or delete it"
        )
    tmp = root.with_name(root.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    plans = plan_benchmark(cfg)
    jobs = [(p, cfg.size, cfg.crf, str(tmp)) for p in plans]
    workers = workers or min(len(os.sched_getaffinity(0)), 8)
    # A pool that raises if a worker dies (multiprocessing.Pool would wait forever instead).
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
        list(pool.map(_render_and_write, jobs, chunksize=16))
    datasets = _write_annotations(tmp, plans)
    info = {"key": key, "config": to_dict(cfg), "datasets": datasets, "videos": len(plans)}
    (tmp / "GENERATED.json").write_text(json.dumps(info, indent=2))
    root.parent.mkdir(parents=True, exist_ok=True)
    if root.exists():
        root.rmdir()  # only an empty folder may be replaced; anything else raised above
    tmp.rename(root)
    return GeneratedBenchmark(root, datasets, key)

