"""Test-time measurements on decoded splits: multi-clip accuracy, dynamic score, static probes.

Every test item is all stored clips of a video (``decode.test_clips`` uniformly spaced 1-s
clips, centre-cropped); the logits are averaged over them.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from drl_core.config import ClipConfig
from drl_core.engine import Predictions, predict
from drl_core.metrics.dynamic_score import DynamicScore, dynamic_score, static_probe
from pipelines.data.loaders import clip_loader, load_split


def test_loader(split_dir: str | Path, clip: ClipConfig, batch_size: int):
    """All clips of every video of a decoded split, centre crops, in a fixed order; and its classes."""
    data = load_split(split_dir)
    return clip_loader(data, clip, False, batch_size), data.classes


def score_summary(ds: DynamicScore, classes: tuple[str, ...]) -> dict:
    """A DynamicScore as JSON: mean KL, agreement and the KL of each class by name."""
    return {"kl": ds.kl, "agreement": ds.agreement,
            "per_class": {classes[c]: v for c, v in sorted(ds.per_class.items())}}


def predictions(model: nn.Module, split_dir: str | Path, clip: ClipConfig, batch_size: int,
                device: torch.device) -> tuple[Predictions, tuple[str, ...]]:
    loader, classes = test_loader(split_dir, clip, batch_size)
    return predict(model.to(device), loader, device), classes


def distilled_score(teacher: nn.Module, student: nn.Module, split_dir: str | Path, clip: ClipConfig,
                    batch_size: int, device: torch.device) -> dict:
    """DS of ``teacher`` (video model) against its distilled spatial ``student`` on one split."""
    loader, classes = test_loader(split_dir, clip, batch_size)  # read the shards once for both models
    pv = predict(teacher.to(device), loader, device)
    ps = predict(student.to(device), loader, device)
    return score_summary(dynamic_score(pv.logits, ps.logits, pv.labels), classes)


def probe_split(model: nn.Module, split_dir: str | Path, clip: ClipConfig, batch_size: int,
                device: torch.device) -> dict:
    """Accuracy and the frozen-frame and shuffled-frame KL probes of ``model`` on one split."""
    loader, classes = test_loader(split_dir, clip, batch_size)
    model = model.to(device)
    clean = predict(model, loader, device)
    out = {"acc1": clean.accuracy}
    for mode in ("freeze", "shuffle"):
        out[f"{mode}_kl"] = score_summary(static_probe(model, loader, mode, device, clean=clean), classes)["kl"]
    return out


def evaluate_job(job, algo: nn.Module, network: nn.Module, device: torch.device) -> dict:
    """After a training job: accuracy on each eval split (classify), or DS on each (distill)."""
    results: dict = {}
    for name, split_dir in job.eval_splits:
        if job.kind == "distill":
            results[name] = distilled_score(algo.teacher, network, split_dir, job.clip, job.eval_batch_size, device)
        else:
            pred, _ = predictions(network, split_dir, job.clip, job.eval_batch_size, device)
            results[name] = {"acc1": pred.accuracy}
    return results
