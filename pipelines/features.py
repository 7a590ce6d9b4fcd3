"""Frozen pooled features of a model on a decoded split, extracted once and cached.

Features are averaged over each video's test clips (centre crops); on request each clip's own
are kept too (the few-shot stage's ``items: clip``). The cache lives in
``<output dir>/features/<hash>.npz``, keyed by the model stage's key, the split's decode key, the
clip settings and whether clips are kept, so the linear probe and the few-shot stage share one
extraction.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import torch

from drl_core.config import ClipConfig
from pipelines.data.inference_stream import InferenceStream
from pipelines.evaluation import device, predictions
from pipelines.stages.base import StageContext, key_form


def cached_features(ctx: StageContext, role: str, model: torch.nn.Module, clip: ClipConfig,
                    stream: InferenceStream, per_clip: bool = False) -> dict[str, np.ndarray]:
    """``features`` V×D and ``labels`` V of the split bound to ``role``, from the cache or computed
    now; with ``per_clip`` also ``clip_features`` V×N×D (N test items: :func:`pipelines.data.cutting.test_shape`)."""
    # key_form: an added clip option at its default (jitter_mode) leaves the files' names as they were
    ident = {"model": ctx.inputs["model"].key, "split": ctx.inputs[role].key, "clip": key_form(clip)}
    if per_clip:  # a file of its own; the video-only files keep their names
        ident["per_clip"] = True
    name = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]
    path = ctx.output_dir / "features" / f"{name}.npz"
    if path.is_file():
        return dict(np.load(path))
    pred, _ = predictions(model, ctx.inputs[role].outputs["path"], clip, stream, device(), per_clip)
    arrays = {"features": pred.features.numpy(), "labels": pred.labels.numpy()}
    if per_clip:
        arrays["clip_features"] = pred.clip_features.numpy()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)
    return arrays
