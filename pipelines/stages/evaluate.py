"""Stage: a model's accuracy and its frozen-frame / shuffled-frame probes on the source tests
(in context and, where the source has one, out of context), and its accuracy on the
``data.evaluation`` test sets (e.g. Mimetics), scored with its own head, classes matched by name."""

from __future__ import annotations

from dataclasses import dataclass, field

from drl_core.config import ADDED_OPTION, ClipConfig
from drl_core.metrics import keys
from pipelines.data.inference_stream import InferenceStream
from pipelines.stages.base import RUNTIME, StageContext


@dataclass(frozen=True)
class EvaluateStage:
    """``splits`` and ``mapped``: (name, input role) pairs, e.g. ``("in_context", "test")``.
    ``mapped`` sets are matched by class name to the classes the model file records; each is cut
    with ``clip``, or with its own clips where ``mapped_clips`` (name, clips) names it (a
    dataset's ``test_clip``)."""

    clip: ClipConfig
    stream: InferenceStream = field(metadata=RUNTIME)
    splits: tuple[tuple[str, str], ...]
    mapped: tuple[tuple[str, str], ...] = ()
    mapped_clips: tuple[tuple[str, ClipConfig], ...] = field(default=(), metadata=ADDED_OPTION)  # session 19


def run(ctx: StageContext) -> dict:
    from pipelines.evaluation import device, mapped_accuracy, predictions, probe_split
    from pipelines.train.model_file import load_model

    cfg: EvaluateStage = ctx.config
    model, _, model_classes = load_model(ctx.inputs["model"].outputs["model"])
    results, metrics = {}, {}
    stream = cfg.stream.within(ctx.data_group)
    for name, role in cfg.splits:
        res = probe_split(model, ctx.inputs[role].outputs["path"], cfg.clip, stream, device())
        results[name] = res
        metrics.update({keys.acc(name): res["acc1"], keys.freeze_kl(name): res["freeze_kl"],
                        keys.shuffle_kl(name): res["shuffle_kl"]})
    own = dict(cfg.mapped_clips)
    for name, role in cfg.mapped:
        pred, classes = predictions(model, ctx.inputs[role].outputs["path"], own.get(name, cfg.clip), stream, device())
        res = mapped_accuracy(pred, classes, model_classes, name)
        results[name] = res
        metrics.update({keys.acc(name): res["acc1"], keys.acc(f"{name}_subset"): res["acc1_subset"]})
    return {"eval": results, "metrics": metrics}
