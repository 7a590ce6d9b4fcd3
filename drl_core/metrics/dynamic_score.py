"""The dynamic score (DS) of a video model, and static-input probes.

DS (Li & Vasconcelos, 2022) measures how much of a video model's prediction a spatial model
(which sees frames independently) cannot reproduce: distil a spatial model on the video model's
outputs, then DS = mean KL(p_video ‖ q_spatial) on held-out clips, in nats. A model that only
uses static appearance is mimicked well (DS ≈ 0); one that uses motion is not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from drl_core.algorithms.distillation import SpatialDistillation
from drl_core.algorithms.static_inputs import static_clips
from drl_core.config import OptimConfig
from drl_core.data.transforms import DeviceTransform
from drl_core.engine import Precision, Predictions, fit, predict, predict_views
from drl_core.losses import kl_per_sample


@dataclass
class DynamicScore:
    """DS summary: mean KL (nats), top-1 agreement, and the per-class and per-video KL."""

    kl: float
    agreement: float
    per_class: dict[int, float]
    per_video: torch.Tensor  # (V,) KL of each video, in loader order


def dynamic_score(video_logits: torch.Tensor, spatial_logits: torch.Tensor, labels: torch.Tensor) -> DynamicScore:
    """DS from matching logits V×K of the video and spatial models, and labels V."""
    kl = kl_per_sample(video_logits.float(), spatial_logits.float())
    agree = (video_logits.argmax(1) == spatial_logits.argmax(1)).float()
    per_class = {int(c): float(kl[labels == c].mean()) for c in labels.unique()}
    return DynamicScore(float(kl.mean()), float(agree.mean()), per_class, kl)


def distill_spatial(video: nn.Module, spatial: nn.Module, train_loader, cfg: OptimConfig,
                    device: torch.device, precision: Precision = Precision(), on_epoch=None,
                    inputs: DeviceTransform | None = None) -> nn.Module:
    """Train ``spatial`` to mimic the frozen ``video`` model over ``train_loader``; returns it."""
    algo = SpatialDistillation(video, spatial)
    fit(algo, train_loader, cfg, device, on_epoch=on_epoch, precision=precision, inputs=inputs)
    for p in video.parameters():
        p.requires_grad_(True)
    return spatial


def score_models(video: nn.Module, spatial: nn.Module, loader, device: torch.device,
                 precision: Precision = Precision(), inputs: DeviceTransform | None = None) -> DynamicScore:
    """DS of ``video`` against an already distilled ``spatial`` model on ``loader``."""
    pv = predict(video, loader, device, precision=precision, inputs=inputs)
    ps = predict(spatial, loader, device, precision=precision, inputs=inputs)
    return dynamic_score(pv.logits, ps.logits, pv.labels)


def static_probe(video: nn.Module, loader, mode: str, device: torch.device,
                 precision: Precision = Precision(), clean: Predictions | None = None,
                 inputs: DeviceTransform | None = None) -> DynamicScore:
    """KL(p_video(clip) ‖ p_video(static clip)): a fast DS proxy that needs no spatial model.

    ``mode`` is ``freeze`` (first frame repeated) or ``shuffle`` (frames permuted with a fixed
    seed). Multi-clip items (B×N×C×T×H×W) are made static clip by clip. Pass ``clean`` (the
    model's predictions on ``loader``, e.g. from evaluation) to skip predicting them again.
    """
    if clean is None:
        return static_probes(video, loader, (mode,), device, precision, inputs)[1][mode]
    ps = predict(video, loader, device, transform=static_view(mode), precision=precision, inputs=inputs)
    return dynamic_score(clean.logits, ps.logits, clean.labels)


def static_view(mode: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """The static version of a batch B×C×T×H×W (or B×N×C×T×H×W, clip by clip); ``shuffle`` draws
    its permutations from a generator of its own, seeded 0, one per batch."""
    gen = torch.Generator().manual_seed(0)

    def make_static(clips: torch.Tensor) -> torch.Tensor:
        if clips.dim() == 6:
            return static_clips(clips.flatten(0, 1), mode, gen).view_as(clips)
        return static_clips(clips, mode, gen)

    return make_static


def static_probes(video: nn.Module, loader, modes: tuple[str, ...], device: torch.device,
                  precision: Precision = Precision(), inputs: DeviceTransform | None = None,
                  ) -> tuple[Predictions, dict[str, DynamicScore]]:
    """The clean predictions and :func:`static_probe` of each of ``modes``, reading ``loader`` once
    (each batch is cut and decoded once, then seen clean and in each static view)."""
    preds = predict_views(video, loader, device, {"clean": None, **{m: static_view(m) for m in modes}},
                          precision, inputs)
    clean = preds["clean"]
    return clean, {m: dynamic_score(clean.logits, preds[m].logits, clean.labels) for m in modes}


def ds_parts(video_logits: torch.Tensor, spatial_logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """Why DS is what it is: DS = H(p, q) − H(p), for logits V×K of the video model (p) and its
    distilled spatial model (q) and labels V.

    Returns the mean ``ds``, ``cross_entropy`` H(p, q) and ``video_entropy`` H(p) in nats,
    ``spatial_entropy`` H(q), both models' top-1 accuracy and their ``agreement``; and DS over
    the clips the video model gets right and wrong (``ds_video_right`` / ``ds_video_wrong``,
    NaN where there are none). A video model can lower DS without using less motion by
    spreading its prediction (raising H(p)) or by erring where the spatial model errs.
    """
    logp, logq = torch.log_softmax(video_logits.float(), 1), torch.log_softmax(spatial_logits.float(), 1)
    p = logp.exp()
    cross, entropy = -(p * logq).sum(1), -(p * logp).sum(1)
    kl = cross - entropy
    right = video_logits.argmax(1) == labels

    def mean(x: torch.Tensor) -> float:
        return float(x.mean()) if len(x) else float("nan")

    return {"ds": mean(kl), "cross_entropy": mean(cross), "video_entropy": mean(entropy),
            "spatial_entropy": mean(-(logq.exp() * logq).sum(1)),
            "video_acc1": mean(right.float()), "spatial_acc1": mean((spatial_logits.argmax(1) == labels).float()),
            "agreement": mean((video_logits.argmax(1) == spatial_logits.argmax(1)).float()),
            "ds_video_right": mean(kl[right]), "ds_video_wrong": mean(kl[~right])}
