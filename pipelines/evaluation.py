"""Test-time measurements on decoded splits: multi-clip accuracy, dynamic score, static probes.

Every test item is one of a video's ``clip.test_clips`` uniformly spaced 1-s clips, centre crops,
cut from its row (or, ``clip.test_sparse``, one frame of each); the logits are averaged over them. Splits stream in batches of videos, cut in the
calling process or by Ray Data tasks (:class:`pipelines.data.inference_stream.InferenceStream`): only
per-video logits and features are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from torch import nn

from drl_core.config import ClipConfig
from drl_core.data.transforms import DeviceTransform
from drl_core.engine import Predictions, predict, predict_many
from drl_core.metrics.dynamic_score import DynamicScore, dynamic_score, static_probes
from pipelines.data.inference_stream import InferenceStream
from pipelines.data.shards import open_split


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def test_loader(split_dir: str | Path, clip: ClipConfig, stream: InferenceStream):
    """Every video's test clips (uint8), streamed in a fixed order; and the split's classes."""
    index = open_split(split_dir)
    return stream.batches(index, clip), index.classes


def inputs(clip: ClipConfig) -> DeviceTransform:
    """uint8 clips → the model's normalised input, on the device."""
    return DeviceTransform.of(clip)


def score_summary(ds: DynamicScore, classes: tuple[str, ...]) -> dict:
    """A DynamicScore as JSON: mean KL, agreement and the KL of each class by name."""
    return {"kl": ds.kl, "agreement": ds.agreement,
            "per_class": {classes[c]: v for c, v in sorted(ds.per_class.items())}}


def predictions(model: nn.Module, split_dir: str | Path, clip: ClipConfig, stream: InferenceStream,
                device: torch.device, per_clip: bool = False) -> tuple[Predictions, tuple[str, ...]]:
    """``model``'s predictions on every video of a split (each clip's features too, with
    ``per_clip``), and the split's classes."""
    loader, classes = test_loader(split_dir, clip, stream)
    return predict(model.to(device), loader, device, inputs=inputs(clip), per_clip=per_clip), classes


def distilled_score(teacher: nn.Module, student: nn.Module, split_dir: str | Path, clip: ClipConfig,
                    stream: InferenceStream, device: torch.device) -> dict:
    """DS of ``teacher`` (video model) against its distilled spatial ``student`` on one split,
    and the teacher's own accuracy there (``teacher_acc1``, from the same predictions). The
    split is read once: each batch goes through both models."""
    loader, classes = test_loader(split_dir, clip, stream)
    preds = predict_many({"teacher": (teacher.to(device), None), "student": (student.to(device), None)}, loader,
                         device, inputs=inputs(clip))
    pv, ps = preds["teacher"], preds["student"]
    return {**score_summary(dynamic_score(pv.logits, ps.logits, pv.labels), classes), "teacher_acc1": pv.accuracy}


def probe_split(model: nn.Module, split_dir: str | Path, clip: ClipConfig, stream: InferenceStream,
                device: torch.device, wrap: Callable[[Iterable[dict]], Iterable[dict]] | None = None) -> dict:
    """Accuracy and the frozen-frame and shuffled-frame KL probes of ``model`` on one split.

    The split is read once: each batch is seen clean and in both static views. ``wrap`` wraps
    its loader (``drl score``'s progress bar)."""
    loader, _ = test_loader(split_dir, clip, stream)
    loader = wrap(loader) if wrap else loader
    clean, probes = static_probes(model.to(device), loader, ("freeze", "shuffle"), device, inputs=inputs(clip))
    return {"acc1": clean.accuracy, **{f"{mode}_kl": probe.kl for mode, probe in probes.items()}}


def mapped_accuracy(pred: Predictions, split_classes: tuple[str, ...], model_classes: tuple[str, ...],
                    split_name: str = "test set") -> dict:
    """Accuracy of a model's own head on a test set labelled in another class list, classes
    matched by name (e.g. Mimetics on a Kinetics-400 model).

    ``acc1``: argmax over all the model's classes. ``acc1_subset``: argmax over only the
    classes the test set contains (Mimetics: its 50). Every class present in the test set must
    be one of the model's; otherwise a ValueError lists those that are not.
    """
    index = {name: i for i, name in enumerate(model_classes)}
    present = sorted(set(pred.labels.tolist()))
    unknown = [split_classes[c] for c in present if split_classes[c] not in index]
    if unknown:
        raise ValueError(f"{split_name}: classes not in the model's class list: {', '.join(map(repr, unknown[:10]))}"
                         + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""))
    target = torch.tensor([index[split_classes[c]] for c in pred.labels.tolist()], dtype=torch.long)
    subset = torch.tensor(sorted({index[split_classes[c]] for c in present}), dtype=torch.long)
    restricted = subset[pred.logits[:, subset].argmax(1)]
    def exact(right: torch.Tensor) -> float:  # correct / videos, as Predictions.accuracy
        return int(right.sum()) / len(right) if len(right) else float("nan")

    return {"acc1": exact(pred.logits.argmax(1) == target), "acc1_subset": exact(restricted == target),
            "classes": len(subset)}


def evaluate_job(job, algo: nn.Module, network: nn.Module, device: torch.device) -> dict:
    """After a training job: accuracy on each eval split (classify), or DS on each (distill), on
    test items cut with ``job.test_clip`` if set, else ``job.clip``."""
    results: dict = {}
    clip = job.test_clip or job.clip
    for name, split_dir in job.eval_splits:
        if job.kind == "distill":
            results[name] = distilled_score(algo.teacher, network, split_dir, clip, job.inference_stream, device)
        else:
            pred, _ = predictions(network, split_dir, clip, job.inference_stream, device)
            results[name] = {"acc1": pred.accuracy}
    return results
