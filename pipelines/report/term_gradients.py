"""Why a DRL algorithm does or does not move the video model: its terms' gradients, measured.

``python -m pipelines.report.term_gradients --store DIR --bias B [--batches 8] [--out FILE]``

For every finished study (newest per seed) at bias ``B`` and every DRL model of its second
phase, the algorithm is rebuilt as its training stage built it (the baseline's weights, the
spatial model from the static task with a fresh head), at the start of the phase and again with
the weights of its last epoch checkpoint. On ``--batches`` batches of the source training clips
it measures each term of the video model's objective (:mod:`drl_core.metrics.term_gradients`):
the norm of its gradient on the video model's parameters, the cosine with the CE term's, and
its value; and, for Alg. 1/2, the spatial model's accuracy on the source test sets.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
from pathlib import Path

import torch

from drl_core.engine import predict, seed_everything
from drl_core.metrics.term_gradients import term_gradients
from pipelines import names
from pipelines.config.loader import load_config
from pipelines.config.schema import StudyConfig
from pipelines.data.clips import train_loader
from pipelines.data.inference_stream import InferenceStream
from pipelines.data.shards import open_split
from pipelines.evaluation import inputs
from pipelines.mlflow_store import open_store
from pipelines.report.cli import emit
from pipelines.report.ds_anatomy import SPLITS, shard_dir, stage_dirs
from pipelines.report.seeds import newest_per_seed, read_store
from pipelines.report.table import model_label, model_order
from pipelines.stages.base import StageResult
from pipelines.stages.train import bind
from pipelines.study_graph import pretrain_stages, static_stages
from pipelines.train.job import TrainJob
from pipelines.train.loop import STATE_FILE, build_job_algorithm, read_state

WHEN = ("start", "end")


def study_config(store: Path, run_id: str) -> StudyConfig:
    """The config a study ran with (its parent run's ``config.yaml``)."""
    with tempfile.TemporaryDirectory() as tmp:
        return load_config(StudyConfig, open_store(store, write=False).download_artifacts(run_id, "config.yaml", tmp))


def bound_job(cfg: StudyConfig, model: str, dirs: dict[str, Path], store: Path) -> TrainJob:
    """``pretrain/<model>``'s TrainJob bound to this study's files, as its stage bound it."""
    specs = {s.name: s for s in pretrain_stages(cfg) + static_stages(cfg)}
    spec = specs[names.pretrain_stage(model)]
    results = {}
    for role, dep in spec.deps:
        if names.kind(dep) == names.DECODE:
            outputs = {"path": str(shard_dir(store, dirs[dep]))}
        else:
            outputs = {"model": str(dirs[dep] / "model.pt")}
        results[role] = StageResult(dep, "", str(dirs[dep]), outputs)
    return bind(spec.config, results)


def last_state(stage: Path) -> dict:
    """The training state of a stage's last epoch checkpoint."""
    checkpoints = sorted((d for d in (stage / "ray_train").glob("checkpoint_*") if d.is_dir()), key=lambda d: d.name)
    if not checkpoints:
        raise FileNotFoundError(f"{stage}/ray_train: no epoch checkpoint")
    return read_state(str(checkpoints[-1] / STATE_FILE))


def spatial_accuracy(spatial: torch.nn.Module, tests: dict[str, Path], job: TrainJob) -> dict[str, float]:
    """The spatial model's accuracy on each source test set (the study's test clips, centre crops)."""
    spatial.eval()
    return {split: predict(spatial, InferenceStream(16).batches(open_split(path), job.clip), torch.device("cpu"),
                           inputs=inputs(job.clip)).accuracy for split, path in tests.items()}


def model_terms(cfg: StudyConfig, model: str, dirs: dict[str, Path], store: Path, batches: int) -> dict:
    """``{when: {"terms": {term: TermGradient}, "spatial": {split: acc}}}`` for one DRL model."""
    job = bound_job(cfg, model, dirs, store)
    train = open_split(job.train_split)
    tests = {s: shard_dir(store, dirs[names.decode_stage(cfg.data.source.name, s)]) for s in SPLITS}
    out = {}
    for when in WHEN:
        seed_everything(job.seed)
        algo, _ = build_job_algorithm(job, train.classes)
        if when == "end":
            algo.load_state_dict(last_state(dirs[names.pretrain_stage(model)])["algorithm"])
        loader = train_loader(train, job.clip, job.optim.batch_size, job.seed)
        terms = term_gradients(algo, itertools.islice(loader, batches), torch.device("cpu"), inputs(job.clip),
                               freeze_bn=job.optim.freeze_bn)
        spatial = getattr(algo, "spatial", None)
        out[when] = {"terms": terms, "spatial": spatial_accuracy(spatial, tests, job) if spatial is not None else {},
                     "test_clips": job.clip.test_clips}
    return out


def measure_group(group: list[dict], batches: int) -> dict[int, dict[str, dict]]:
    """seed → DRL model → :func:`model_terms`, for studies as :func:`~pipelines.report.seeds.read_store`
    lists them (one per seed)."""
    out = {}
    for study in sorted(group, key=lambda s: s["seed"]):
        store = Path(study["store"])
        cfg = study_config(store, study["run"])
        dirs = stage_dirs(store, study["run"])
        out[study["seed"]] = {m: model_terms(cfg, m, dirs, store, batches) for m in cfg.drl.algorithms}
    return out


def measure(store: Path, bias: float, batches: int) -> dict[int, dict[str, dict]]:
    """:func:`measure_group` of the newest finished study per seed at ``bias`` in ``store``."""
    groups = newest_per_seed(read_store(store))
    if bias not in groups:
        raise ValueError(f"{store}: no finished study at bias {bias:g}")
    return measure_group(groups[bias], batches)


def _stat(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.3g}"
    return f"{statistics.fmean(values):.3g} ± {statistics.stdev(values):.2g}"


def markdown(per_seed: dict[int, dict[str, dict]], batches: int) -> str:
    """A table of term gradients and one of the spatial models' accuracy: mean ± std over seeds."""
    seeds = sorted(per_seed)
    models = sorted({m for s in per_seed.values() for m in s}, key=model_order)
    lines = [f"Mean ± std (if several) over seeds {', '.join(map(str, seeds))}, each on {batches} batches of source training "
             "clips. Gradients are on the video model's parameters; the cosine is with the CE term's gradient.", "",
             "| model | phase | term | value | gradient norm | cosine with CE | norm / CE norm |", "|---|---|---|---|---|---|---|"]
    for model in models:
        for when in WHEN:
            rows = [per_seed[s][model][when]["terms"] for s in seeds]
            for term in rows[0]:
                ratio = [r[term].norm / r["ce"].norm for r in rows if r["ce"].norm > 0]
                lines.append(f"| {model_label(model)} | {when} | {term} | {_stat([r[term].value for r in rows])} | "
                             f"{_stat([r[term].norm for r in rows])} | {_stat([r[term].cosine for r in rows])} | "
                             f"{_stat(ratio)} |")
    spatial = [m for m in models if per_seed[seeds[0]][m]["start"]["spatial"]]
    if spatial:
        clips = per_seed[seeds[0]][spatial[0]]["start"]["test_clips"]
        lines += ["", f"Spatial model's accuracy on the source test sets ({clips} centre clips per video):", "",
                  "| model | phase | " + " | ".join(s.replace("_", " ") for s in SPLITS) + " |",
                  "|---|---|" + "---|" * len(SPLITS)]
        for model in spatial:
            for when in WHEN:
                cells = [_stat([per_seed[s][model][when]["spatial"][split] for s in seeds]) for split in SPLITS]
                lines.append(f"| {model_label(model)} | {when} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--store", required=True, help="a study output folder (holds mlflow.db and stages/)")
    p.add_argument("--bias", type=float, required=True, help="the benchmark bias of the studies")
    p.add_argument("--batches", type=int, default=8, help="training batches per measurement")
    p.add_argument("--out", help="write the tables here (default: print them)")
    args = p.parse_args(argv)
    return emit(lambda: markdown(measure(Path(args.store), args.bias, args.batches), args.batches), args.out)


if __name__ == "__main__":
    raise SystemExit(main())
