"""The anatomy of the distilled dynamic score, for explaining when the dynamic measures disagree.

``python -m pipelines.report.ds_anatomy --store DIR --bias B [--out FILE]`` takes every
finished study at bias ``B`` in the store (the newest per seed), reloads each model and the
spatial model its dynamic-score stage distilled, predicts both on the source test sets and
writes, mean ± std over seeds, per model and test set:

- DS split as DS = H(p, q) − H(p) (``drl_core.metrics.dynamic_score.ds_parts``): a model can
  lower DS by spreading its own prediction p as well as by being easier to imitate;
- both models' accuracy and their agreement, DS on the clips the video model gets right/wrong;
- scene following: among clips whose scene is another class's home scene, the share that each
  model labels as that scene's class (the static cue of the benchmark, docs/BENCHMARK.md).

Nothing is trained: it reads the stage folders the MLflow runs point to (``drl.key`` tags).
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import statistics
from typing import Any
from pathlib import Path

import torch

from drl_core.config import ClipConfig
from drl_core.engine import Predictions, predict_many
from drl_core.metrics.dynamic_score import ds_parts
from pipelines import names, run_tags
from pipelines.data.inference_stream import InferenceStream
from pipelines.data.shards import SplitIndex, open_split
from pipelines.evaluation import inputs
from pipelines.mlflow_store import open_store
from pipelines.report.cli import emit
from pipelines.report.seeds import EXPERIMENT, newest_per_seed, read_store
from pipelines.report.table import VARIANT, model_label, model_order

SPLITS = ("test_in_context", "test_out_of_context")
COLUMNS = (("ds", "DS"), ("cross_entropy", "H(p,q)"), ("video_entropy", "H(p)"), ("spatial_entropy", "H(q)"),
           ("video_acc1", "video acc"), ("spatial_acc1", "spatial acc"), ("agreement", "agreement"),
           ("ds_video_right", "DS, video right"), ("ds_video_wrong", "DS, video wrong"),
           ("video_scene", "video follows scene"), ("spatial_scene", "spatial follows scene"))


def stage_dirs(store: Path, run_id: str) -> dict[str, Path]:
    """A study's stage folders by stage name (``<store>/stages/<name>/<drl.key>``)."""

    client = open_store(store, write=False)
    exp = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs([exp.experiment_id], f"tags.mlflow.parentRunId = '{run_id}'", max_results=5000)
    return {r.info.run_name: store / "stages" / r.info.run_name / r.data.tags[run_tags.KEY]
            for r in runs if run_tags.KEY in r.data.tags}


def param_value(text: str) -> Any:
    """A config value back from its MLflow param: a Python literal (numbers, lists, booleans), or
    the text itself for a string (params hold ``str(value)``: ``float``, not ``'float'``)."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def clip_config(store: Path, run_id: str) -> ClipConfig:
    """The study's test clip transform, from its run's ``pretrain.clip.*`` params."""

    params = open_store(store, write=False).get_run(run_id).data.params
    prefix = "pretrain.clip."
    values = {k[len(prefix):]: param_value(v) for k, v in params.items() if k.startswith(prefix)}
    return ClipConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def shard_dir(store: Path, decode_stage: Path) -> Path:
    """The decoded split a decode stage wrote (``<store>/shards/<dataset>/<split>/<content key>``,
    the key from the stage's result.json; the store may have moved since)."""
    dataset, split = decode_stage.relative_to(store / "stages" / "decode").parts[:2]
    key = json.loads((decode_stage / "result.json").read_text())["outputs"]["key"]
    return store / "shards" / dataset / split / key


def scene_classes(split_dir: Path, video_ids: list[str]) -> torch.Tensor:
    """Per video (in ``video_ids`` order) the class whose home scene it shows (−1: none), from
    the benchmark's ``<split>_meta.csv`` beside the videos the split was decoded from."""
    with open(split_dir / "manifest.csv", newline="") as f:
        first = next(csv.DictReader(f))
    video = Path(first["path"])  # <dataset>/videos/<split>/<label>/<file>
    meta = video.parents[3] / "annotations" / f"{first['split']}_meta.csv"
    if not meta.is_file():
        raise FileNotFoundError(f"{meta}: no scene annotations (only the built-in benchmark has them)")
    with open(meta, newline="") as f:
        by_id = {row["youtube_id"]: int(row["scene_class"]) for row in csv.DictReader(f)}
    try:
        return torch.tensor([by_id[v[:-14]] for v in video_ids])  # ids end in _<start:06d>_<end:06d>
    except KeyError as err:
        raise ValueError(f"{meta}: no row for video {err.args[0]!r} of {split_dir}") from None


def scene_following(pred: Predictions, scenes: torch.Tensor) -> float:
    """Among clips whose scene is another class's home scene, the share predicted as that class."""
    scene = scenes[pred.videos]
    other = (scene >= 0) & (scene != pred.labels)
    if not other.any():
        return float("nan")
    return float((pred.logits.argmax(1)[other] == scene[other]).float().mean())


def model_anatomy(teacher: torch.nn.Module, student: torch.nn.Module, data: SplitIndex, scenes: torch.Tensor,
                  clip: ClipConfig, batch_size: int = 32) -> dict[str, float]:
    """``ds_parts`` and both models' scene following on one decoded split (``scenes``: the
    scene class of each of its videos)."""
    loader = InferenceStream(batch_size).batches(data, clip)
    device = torch.device("cpu")
    preds = predict_many({"video": (teacher, None), "spatial": (student, None)}, loader, device, inputs=inputs(clip))
    pv, ps = preds["video"], preds["spatial"]
    return {**ds_parts(pv.logits, ps.logits, pv.labels),
            "video_scene": scene_following(pv, scenes), "spatial_scene": scene_following(ps, scenes)}


def study_anatomy(study: dict) -> dict[str, dict[str, dict[str, float]]]:
    """model → test split → measures, for every model of a study (and of its variants, as
    ``<model>@<variant>``, but their shared baseline) that has a dynamic score."""
    out = run_anatomy(study)
    for run in study.get("variants", []):
        out.update({f"{model}{VARIANT}{run['variant']}": parts
                    for model, parts in run_anatomy(run, skip=("baseline",)).items()})
    return out


def run_anatomy(study: dict, skip: tuple[str, ...] = ()) -> dict[str, dict[str, dict[str, float]]]:
    """model → test split → measures, for every model of one study run with a dynamic score
    (but those in ``skip``); each test split is read once."""
    from pipelines.train.model_file import load_model

    store = Path(study["store"])
    dirs, clip = stage_dirs(store, study["run"]), clip_config(store, study["run"])
    source = next(n.rsplit("/", 2)[1] for n in dirs if names.kind(n) == names.DECODE and n.endswith("/" + SPLITS[0]))
    splits = {}
    for split in SPLITS:
        split_dir = shard_dir(store, dirs[names.decode_stage(source, split)])
        data = open_split(split_dir)
        splits[split] = (data, scene_classes(split_dir, data.video_ids))
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name in sorted(n for n in dirs if names.kind(n) == names.DYNAMIC_SCORE and n.split("/", 1)[1] not in skip):
        model = name.split("/", 1)[1]
        teacher, _, _ = load_model(dirs[names.pretrain_stage(model)] / "model.pt")
        student, _, _ = load_model(dirs[name] / "model.pt")
        out[model] = {split: model_anatomy(teacher, student, *splits[split], clip) for split in SPLITS}
    return out


def markdown(per_seed: dict[int, dict[str, dict[str, dict[str, float]]]]) -> str:
    """One table per test split, a row per model: mean ± std over seeds of every measure and,
    with several seeds, each seed's own values below it (a mean can hide opposite moves)."""
    lines = []
    models = sorted({m for s in per_seed.values() for m in s}, key=model_order)
    for split in SPLITS:
        lines += [f"#### {split.replace('_', ' ')}", "",
                  "| model | " + " | ".join(title for _, title in COLUMNS) + " |", "|" + "---|" * (len(COLUMNS) + 1)]
        for model in models:
            seeds = [seed for seed, s in per_seed.items() if model in s]
            cells = []
            for key, _ in COLUMNS:
                vals = [per_seed[seed][model][split][key] for seed in seeds]
                std = statistics.stdev(vals) if len(vals) > 1 else float("nan")
                cells.append(f"{statistics.fmean(vals):.3f} ± {std:.3f}")
            lines.append(f"| {model_label(model)} | " + " | ".join(cells) + " |")
            for seed in seeds if len(seeds) > 1 else []:
                lines.append(f"| {model_label(model)}, seed {seed} | "
                             + " | ".join(f"{per_seed[seed][model][split][k]:.3f}" for k, _ in COLUMNS) + " |")
        lines.append("")
    return "\n".join(lines)


def group_anatomy(bias: float, group: list[dict]) -> str:
    """The Markdown tables for one bias's studies (one per seed)."""
    group = sorted(group, key=lambda s: s["seed"])
    seeds = ", ".join(str(s["seed"]) for s in group)
    return f"### DS anatomy at bias {bias:g}: mean ± std over seeds {seeds}\n\n" + markdown(
        {s["seed"]: study_anatomy(s) for s in group})


def anatomy_section(store: Path, bias: float) -> str:
    """``group_anatomy`` of the finished studies (newest per seed) at ``bias`` in ``store``."""
    groups = newest_per_seed(read_store(store))
    if bias not in groups:
        raise ValueError(f"{store}: no finished study at bias {bias:g} (biases: "
                         f"{', '.join(f'{b:g}' for b in groups)})")
    return group_anatomy(bias, groups[bias])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--store", required=True, help="a study output folder (holds mlflow.db and stages/)")
    p.add_argument("--bias", type=float, required=True, help="the benchmark bias of the studies to dissect")
    p.add_argument("--out", help="write the tables here (default: print them)")
    args = p.parse_args(argv)
    return emit(lambda: anatomy_section(Path(args.store), args.bias), args.out)


if __name__ == "__main__":
    raise SystemExit(main())
