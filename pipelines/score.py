"""The dynamic score of one model you already have, on one decoded split (`drl score`).

``drl score --model NAME [--checkpoint FILE] --data DIR --split SPLIT [--train-split train]``

The score is the study's own dynamic-score stage, run alone: a spatial model (the config's
``dynamic_score`` block, started from ``--spatial-checkpoint`` if given) is distilled from the
model on ``--train-split`` through the same Ray Train job, then both are compared on ``--split``. It prints the DS (mean KL, nats), the
agreement, the model's accuracy where the split's classes are the model's, the frozen-frame and
shuffled-frame probes, and the DS of every class; ``--json`` prints the same as JSON.

``FILE`` is a model file of this project (``model.pt`` of a training stage) or, for R2D and
TSM, a torchvision ImageNet ResNet as downloaded (its 1000-class head is kept, and ImageNet's
mean and std are used). ``DIR`` holds decoded splits (``DIR/SPLIT/<key>/``, as a study's
``shards/<dataset>`` folder does), or, with ``--dataset READER``, it is a dataset root that is
decoded first into ``--output-dir``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from drl_core.config import AlgorithmConfig, ClipConfig, ModelConfig
from drl_core.names import MODEL_NAMES
from pipelines.config.loader import ConfigError, load_config
from pipelines.config.schema import StudyConfig
from pipelines.data.inference_stream import InferenceStream
from pipelines.disk_space import DiskFull
from pipelines.driver import parse_sets

IMAGENET_CLASSES = tuple(f"imagenet_{i:04d}" for i in range(1000))


def find_split(data: Path, split: str) -> Path:
    """The decoded split ``split`` under ``data``: ``data/split`` itself, or the newest finished
    ``data/split/<key>``. A ValueError names what is missing."""
    folder = data / split
    if (folder / "summary.json").is_file():
        return folder
    done = sorted((d for d in folder.glob("*") if (d / "complete.json").is_file()), key=lambda d: d.stat().st_mtime)
    if not done:
        raise ValueError(f"{data}: no decoded split {split!r} (expected {folder}/<key>/shards/*.parquet, "
                         "as `drl decode` or a study writes)")
    return done[-1]


@dataclasses.dataclass(frozen=True)
class Teacher:
    """The model to score: its file (read by the distillation's worker), the model itself (for
    the probes), the classes its head knows, whether it holds ImageNet weights, and what it is."""

    path: Path
    model: Any
    classes: tuple[str, ...]
    imagenet: bool
    what: str


def teacher_file(name: str, checkpoint: str, classes: tuple[str, ...], out: Path) -> Teacher:
    """The model to score, as a model file of this project (the checkpoint is read once).

    A project file is used as it is (its architecture must be ``name``); a torchvision ResNet is
    loaded head and all into ``name`` at the file's width; no checkpoint gives ``name`` at the
    default width with random weights and ``classes`` (a floor to compare with)."""
    from drl_core.models import build_model
    from drl_core.models.checkpoints import load_checkpoint, read_file, torchvision_width
    from pipelines.train.model_file import load_model, save_model

    def saved(model, cfg: ModelConfig, classes: tuple[str, ...], imagenet: bool, what: str) -> Teacher:
        out.mkdir(parents=True, exist_ok=True)
        save_model(out / "teacher.pt", model, cfg, classes)
        return Teacher(out / "teacher.pt", model, classes, imagenet, what)

    if not checkpoint:
        cfg = ModelConfig(name=name)
        return saved(build_model(cfg, len(classes)), cfg, classes, False, f"{name}, random weights (no --checkpoint)")
    if not Path(checkpoint).is_file():
        raise ValueError(f"--checkpoint {checkpoint}: no such file")
    try:
        payload = read_file(checkpoint)
    except Exception as err:  # torch.load raises many kinds on a file that is not a model
        raise ValueError(f"{checkpoint}: not a model file of this project nor a torchvision ResNet "
                         f"({str(err).splitlines()[0]})") from None
    if not isinstance(payload, dict):
        raise ValueError(f"{checkpoint}: not a model file of this project nor a torchvision ResNet")
    width = torchvision_width(payload)
    if width is None:
        model, cfg, model_classes = load_model(checkpoint, payload)
        if cfg.name != name:
            raise ValueError(f"{checkpoint}: holds a {cfg.name} model, not {name}")
        return Teacher(Path(checkpoint), model, model_classes, False, f"{checkpoint} ({cfg.name}, width {cfg.width})")
    if not name.startswith(("r2d", "tsm")):
        raise ValueError(f"{checkpoint}: a torchvision ImageNet ResNet fits R2D and TSM models, not {name}")
    cfg = ModelConfig(name=name, width=width, stem_pool=True, dropout=0.0)
    model = build_model(cfg, len(IMAGENET_CLASSES))
    load_checkpoint(model, checkpoint, name, width, keep_head=True, payload=payload)
    return saved(model, cfg, IMAGENET_CLASSES, True, f"{checkpoint} (torchvision ImageNet ResNet in {name}, width {width})")


def probes(teacher: Teacher, split_dir: Path, classes: tuple[str, ...], videos: int, clip: ClipConfig,
           stream: InferenceStream) -> dict:
    """:func:`pipelines.evaluation.probe_split` with a progress bar; no accuracy unless the
    split's ``classes`` are the model's."""
    from pipelines.evaluation import device, probe_split
    from pipelines.terminal import Bar, Counted

    bar = Bar("[score] probes", videos)
    out = probe_split(teacher.model, split_dir, clip, stream, device(), wrap=lambda loader: Counted(loader, bar))
    return {**out, "acc1": out["acc1"] if tuple(teacher.classes) == tuple(classes) else None}


def score(args: argparse.Namespace, cfg: StudyConfig) -> dict:
    """Distil and score (the dynamic-score stage's Ray Train job), then probe; the result as JSON."""
    from pipelines.data.shards import open_split
    from pipelines.driver import init_ray, require_disks
    from pipelines.study_graph import job_resources
    from pipelines.train.job import TrainJob
    from pipelines.train.launcher import run_train_job

    data, out = Path(args.data).expanduser(), Path(args.output_dir).expanduser().resolve()
    if args.dataset:
        data = decode_dataset(args, cfg, data, out)
    split_dir, train_dir = find_split(data, args.split), find_split(data, args.train_split)
    split = open_split(split_dir)
    teacher = teacher_file(args.model, args.checkpoint or "", open_split(train_dir).classes, out)
    clip = cfg.pretrain.clip
    if teacher.imagenet:
        from drl_core.models.checkpoints import IMAGENET_MEAN, IMAGENET_STD

        clip = dataclasses.replace(clip, mean=IMAGENET_MEAN, std=IMAGENET_STD)
    ds = cfg.dynamic_score
    spatial = ds.spatial
    if args.spatial_checkpoint:
        if not Path(args.spatial_checkpoint).is_file():
            raise ValueError(f"--spatial-checkpoint {args.spatial_checkpoint}: no such file")
        spatial = dataclasses.replace(spatial, checkpoint=args.spatial_checkpoint)
    job = TrainJob("distill", str(train_dir), spatial, ds.optim, clip, AlgorithmConfig(temperature=ds.temperature),
                   eval_splits=(("split", str(split_dir)),), teacher=str(teacher.path), seed=cfg.seed,
                   label="score", **job_resources(cfg.resources))
    print(f"[score] {teacher.what}: distilling {ds.spatial.name} on {train_dir} for {ds.optim.epochs} epoch(s)",
          file=sys.stderr, flush=True)
    init_ray()
    require_disks(out)
    result = run_train_job(job, out / "distill", cfg.resources)["eval"]["split"]
    probe = probes(teacher, split_dir, split.classes, len(split), clip, cfg.resources.inference_stream())
    return {"model": teacher.what, "split": str(split_dir), "videos": len(split),
            "ds": result["kl"], "agreement": result["agreement"], "acc1": probe["acc1"],
            "freeze_kl": probe["freeze_kl"], "shuffle_kl": probe["shuffle_kl"], "per_class": result["per_class"],
            "student": str(out / "distill" / "model.pt")}


def decode_dataset(args: argparse.Namespace, cfg: StudyConfig, root: Path, out: Path) -> Path:
    """Decode ``--split`` and ``--train-split`` of the dataset at ``root``; returns the shard folder."""
    from pipelines.decode.stage import DecodeInputs, read_records, run
    from pipelines.driver import init_ray, require_disks

    shards = out / "shards"
    for split in dict.fromkeys((args.train_split, args.split)):
        inputs = DecodeInputs(args.dataset, split, str(root), args.annotations or str(root), str(shards),
                              reader=args.dataset)
        records = read_records(inputs)
        init_ray()
        require_disks(out)
        res = run(cfg.decode, inputs, records)
        if res.summary["decoded"] == 0:
            raise ValueError(f"{root}: no video of split {split!r} could be decoded; reasons in {res.manifest}")
    return shards / args.dataset


def render(result: dict) -> str:
    """The result as a terminal table: the summary, then the DS of every class, highest first."""
    acc = "n/a (the split's classes are not the model's)" if result["acc1"] is None else f"{result['acc1']:.3f}"
    lines = [f"model: {result['model']}", f"split: {result['split']} ({result['videos']} videos)", "",
             f"  {'DS (mean KL, nats)':28s} {result['ds']:.4f}", f"  {'agreement':28s} {result['agreement']:.3f}",
             f"  {'accuracy':28s} {acc}", f"  {'frozen-frame KL (nats)':28s} {result['freeze_kl']:.4f}",
             f"  {'shuffled-frame KL (nats)':28s} {result['shuffle_kl']:.4f}", "", "  DS per class:"]
    width = max((len(c) for c in result["per_class"]), default=5)
    for name, value in sorted(result["per_class"].items(), key=lambda kv: -kv[1]):
        lines.append(f"    {name:{width}s}  {value:.4f}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help=f"architecture: {', '.join(MODEL_NAMES)}")
    p.add_argument("--checkpoint", help="a model file of this project, or a torchvision ResNet (R2D, TSM)")
    p.add_argument("--data", required=True, help="folder of decoded splits (or a dataset root, with --dataset)")
    p.add_argument("--split", required=True, help="the split to score, e.g. test_out_of_context")
    p.add_argument("--train-split", default="train", help="the split the spatial model is distilled on")
    p.add_argument("--dataset", help="--data is this reader's dataset root: decode the splits first")
    p.add_argument("--annotations", help="with --dataset: folder of the annotation files (default: --data)")
    p.add_argument("--config", help="study YAML: its dynamic_score, pretrain.clip, decode and resources blocks")
    p.add_argument("--spatial-checkpoint", help="start the distilled spatial model from this file (default: the "
                   "config's dynamic_score.spatial.checkpoint); a study on the built-in benchmark starts it from "
                   "its stages/static_pretrain/<arch>/<key>/model.pt")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override one config value (repeatable)")
    p.add_argument("--output-dir", default="~/drl-score", help="where the distillation (and decoding) is written")
    p.add_argument("--json", action="store_true", help="print the result as one line of JSON")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.model not in MODEL_NAMES:
        print(f"error: --model {args.model!r}: unknown model (valid: {', '.join(MODEL_NAMES)})", file=sys.stderr)
        return 2
    try:
        cfg = load_config(StudyConfig, args.config, parse_sets(args.set))
        result = score(args, cfg)
    except (ConfigError, ValueError, FileNotFoundError, DiskFull) as err:
        print(f"error: {str(err).splitlines()[0]}", file=sys.stderr)
        return 2
    print(json.dumps(result) if args.json else render(result))  # --json: one line, for pipes and logs
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
