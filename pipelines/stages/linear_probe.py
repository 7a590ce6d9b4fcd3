"""Stage: a linear probe of a frozen model on a downstream dataset.

Pooled features (averaged over each video's test clips, centre crops) are extracted once per
(model, split, clip settings) and cached under ``<output dir>/features``; the probe itself is a
multinomial logistic regression (drl_core.metrics.linear_probe).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from drl_core.config import ClipConfig
from drl_core.metrics.linear_probe import fit_linear_probe
from pipelines.config.schema import LinearProbeConfig
from pipelines.evaluation import predictions
from pipelines.stages.base import StageContext
from pipelines.stages.evaluate import device
from pipelines.train.model_file import load_model


@dataclass(frozen=True)
class LinearProbeStage:
    probe: LinearProbeConfig
    clip: ClipConfig
    batch_size: int


def cached_features(ctx: StageContext, role: str, model: torch.nn.Module) -> dict[str, np.ndarray]:
    """Features V×D, labels V and video ids of one split, from the cache or computed now."""
    cfg: LinearProbeStage = ctx.config
    ident = {"model": ctx.inputs["model"].key, "split": ctx.inputs[role].key, "clip": asdict(cfg.clip)}
    name = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]
    path = ctx.output_dir / "features" / f"{name}.npz"
    if path.is_file():
        return dict(np.load(path))
    pred, _ = predictions(model, ctx.inputs[role].outputs["path"], cfg.clip, cfg.batch_size, device())
    arrays = {"features": pred.features.numpy(), "labels": pred.labels.numpy()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)
    return arrays


def run(ctx: StageContext) -> dict:
    cfg: LinearProbeStage = ctx.config
    model, _, _ = load_model(ctx.inputs["model"].outputs["model"])
    train = cached_features(ctx, "train", model)
    test = cached_features(ctx, "test", model)
    classes = ctx.inputs["train"].outputs["classes"]
    probe = fit_linear_probe(torch.from_numpy(train["features"]), torch.from_numpy(train["labels"]).long(),
                             len(classes), cfg.probe.weight_decay, cfg.probe.max_iter)
    acc = probe.accuracy(torch.from_numpy(test["features"]), torch.from_numpy(test["labels"]).long())
    feats = Path(ctx.dir) / "test_features.npz"
    np.savez(feats, **test)
    return {"acc1": acc, "features": str(feats), "metrics": {"linear_probe/acc1": acc,
            "linear_probe/train_acc1": probe.accuracy(torch.from_numpy(train["features"]),
                                                      torch.from_numpy(train["labels"]).long())}}
