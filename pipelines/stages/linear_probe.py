"""Stage: a linear probe of a frozen model on a downstream dataset.

Pooled features come from pipelines.features (extracted once, cached); the probe is a
multinomial logistic regression (drl_core.metrics.linear_probe).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from drl_core.config import ClipConfig
from drl_core.metrics import keys
from pipelines.config.schema import LinearProbeConfig
from pipelines.data.inference_stream import InferenceStream
from pipelines.stages.base import RUNTIME, StageContext


@dataclass(frozen=True)
class LinearProbeStage:
    probe: LinearProbeConfig
    clip: ClipConfig
    stream: InferenceStream = field(metadata=RUNTIME)


def run(ctx: StageContext) -> dict:
    import numpy as np
    import torch

    from drl_core.metrics.linear_probe import fit_linear_probe
    from pipelines.features import cached_features
    from pipelines.train.model_file import load_model

    cfg: LinearProbeStage = ctx.config
    model, _, _ = load_model(ctx.inputs["model"].outputs["model"])
    train = cached_features(ctx, "train", model, cfg.clip, cfg.stream.within(ctx.data_group))
    test = cached_features(ctx, "test", model, cfg.clip, cfg.stream.within(ctx.data_group))
    classes = ctx.inputs["train"].outputs["classes"]
    probe = fit_linear_probe(torch.from_numpy(train["features"]), torch.from_numpy(train["labels"]).long(),
                             len(classes), cfg.probe.weight_decay, cfg.probe.max_iter)
    acc = probe.accuracy(torch.from_numpy(test["features"]), torch.from_numpy(test["labels"]).long())
    feats = Path(ctx.dir) / "test_features.npz"
    np.savez(feats, **test)
    return {"acc1": acc, "features": str(feats), "metrics": {keys.LINEAR_PROBE_ACC: acc,
            keys.LINEAR_PROBE_TRAIN_ACC: probe.accuracy(torch.from_numpy(train["features"]),
                                                      torch.from_numpy(train["labels"]).long())}}
