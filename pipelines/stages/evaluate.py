"""Stage: a model's accuracy and its frozen-frame / shuffled-frame probes on the source tests
(in context and, where the source has one, out of context)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from drl_core.config import ClipConfig
from pipelines.evaluation import probe_split
from pipelines.stages.base import StageContext
from pipelines.train.model_file import load_model


@dataclass(frozen=True)
class EvaluateStage:
    """``splits``: (name, input role) pairs, e.g. ``("in_context", "test")``."""

    clip: ClipConfig
    batch_size: int
    splits: tuple[tuple[str, str], ...]


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def run(ctx: StageContext) -> dict:
    cfg: EvaluateStage = ctx.config
    model, _, _ = load_model(ctx.inputs["model"].outputs["model"])
    results, metrics = {}, {}
    for name, role in cfg.splits:
        res = probe_split(model, ctx.inputs[role].outputs["path"], cfg.clip, cfg.batch_size, device())
        results[name] = res
        metrics.update({f"eval/acc1_{name}": res["acc1"], f"probe/freeze_kl_{name}": res["freeze_kl"],
                        f"probe/shuffle_kl_{name}": res["shuffle_kl"]})
    return {"eval": results, "metrics": metrics}
