"""Stage: few-shot episodes on a frozen model's pooled features of one dataset's test split.

The episodes draw from the classes held out from pretraining: those whose names the model's
class list (recorded in its model file) lacks (all of SSv2 / Jester for a Kinetics model). A
sample is a video or each of its test clips (``fewshot.items``). One result per shot count: mean
accuracy and the 95% confidence interval over the seeded episodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from drl_core.config import ClipConfig
from drl_core.metrics import keys
from pipelines.config.schema import FewShotConfig
from pipelines.data.inference_stream import InferenceStream
from pipelines.stages.base import RUNTIME, StageContext


@dataclass(frozen=True)
class FewShotStage:
    fewshot: FewShotConfig
    clip: ClipConfig
    stream: InferenceStream = field(metadata=RUNTIME)


def setting(ways: int, shots: int) -> str:
    """``5way1shot``: the metric-name part of an episode setting."""
    return f"{ways}way{shots}shot"


def held_out(classes: list[str], seen_classes: list[str]) -> np.ndarray:
    """Indices of ``classes`` whose names ``seen_classes`` (the pretraining classes) lack."""
    seen = set(seen_classes)
    return np.array([i for i, c in enumerate(classes) if c not in seen], dtype=np.int64)


def run(ctx: StageContext) -> dict:
    import torch

    from drl_core.metrics.few_shot import evaluate_few_shot
    from pipelines.evaluation import device
    from pipelines.features import cached_features
    from pipelines.train.model_file import load_model

    cfg: FewShotStage = ctx.config
    fs = cfg.fewshot
    model, _, model_classes = load_model(ctx.inputs["model"].outputs["model"])
    per_clip = fs.items == "clip"
    test = cached_features(ctx, "test", model, cfg.clip, cfg.stream.within(ctx.data_group), per_clip)
    items = torch.from_numpy(test["clip_features" if per_clip else "features"])
    pool = held_out(ctx.inputs["test"].outputs["classes"], list(model_classes))
    results, metrics = {}, {}
    for shots in fs.shots:
        res = evaluate_few_shot(items, torch.from_numpy(test["labels"]), fs.ways, shots,
                                fs.queries, fs.episodes, fs.seed, fs.classifier, pool, device())
        name = setting(fs.ways, shots)
        results[name] = {"acc": res.mean, "ci95": res.ci95, "episodes": fs.episodes, "classes": len(res.classes)}
        metrics.update({keys.fewshot_acc(name): res.mean, keys.fewshot_ci95(name): res.ci95})
    return {"fewshot": results, "metrics": metrics}
