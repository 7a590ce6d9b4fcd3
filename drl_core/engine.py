"""The one train/eval loop shared by every algorithm."""

from __future__ import annotations

import contextlib
import random
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Sized

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from drl_core.algorithms.base import Algorithm
from drl_core.config import OptimConfig
from drl_core.metrics import keys


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch, and ask torch for deterministic kernels where it has them."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


@dataclass(frozen=True)
class Precision:
    """Speed options; each only takes effect on CUDA."""

    bf16: bool = True
    channels_last: bool = True

    def autocast(self, device: torch.device):
        if device.type == "cuda" and self.bf16:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def prepare(self, x: torch.Tensor, device: torch.device) -> torch.Tensor:
        x = x.to(device, non_blocking=True)
        if device.type == "cuda" and self.channels_last and x.dim() == 5:
            x = x.contiguous(memory_format=torch.channels_last_3d)
        return x


def make_optimizer(params: Iterable[nn.Parameter], cfg: OptimConfig) -> torch.optim.Optimizer:
    trainable = [p for p in params if p.requires_grad]
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(trainable, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.SGD(trainable, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


def make_scheduler(optimizer: torch.optim.Optimizer, cfg: OptimConfig) -> torch.optim.lr_scheduler.StepLR:
    return torch.optim.lr_scheduler.StepLR(optimizer, cfg.step_size, cfg.gamma)


def freeze_batchnorm(module: nn.Module) -> None:
    """Put every BatchNorm in eval mode (running statistics fixed), as fine-tuning does."""
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()


def train_one_epoch(algo: Algorithm, loader: Sized, optimizer: torch.optim.Optimizer,
                    device: torch.device, accumulate: int = 1, freeze_bn: bool = False,
                    precision: Precision = Precision()) -> dict[str, float]:
    """One pass over ``loader`` (dicts with ``clips`` B×C×T×H×W and ``label`` B).

    Gradients are accumulated over ``accumulate`` batches before each optimizer step, so the
    effective batch is ``accumulate × B``. ``freeze_bn`` fixes the BN statistics of ``algo.video``
    (the network being trained), as the reference's fine-tuning and DRL phase do. Returns mean loss, accuracy and loss components.
    """
    algo.train()
    if freeze_bn:  # the trained network's BN (Alg. 1/2's spatial models keep training theirs)
        freeze_batchnorm(getattr(algo, "video", algo))
    sums: dict[str, float] = {}
    correct = seen = 0
    start = time.perf_counter()
    optimizer.zero_grad(set_to_none=True)
    n_batches = len(loader)
    for i, batch in enumerate(loader):
        clips, labels = precision.prepare(batch["clips"], device), batch["label"].to(device)
        with precision.autocast(device):
            out = algo(clips, labels)
        (out.loss / accumulate).backward()
        if (i + 1) % accumulate == 0 or i + 1 == n_batches:
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        n = len(labels)
        seen += n
        correct += int((out.logits.argmax(1) == labels).sum())
        for name, value in {"loss": out.loss.detach(), **out.components}.items():
            sums[name] = sums.get(name, 0.0) + float(value) * n
    metrics = {f"{keys.TRAIN_PREFIX}{k}": v / max(seen, 1) for k, v in sums.items()}
    metrics[keys.TRAIN_ACC] = correct / max(seen, 1)
    metrics[keys.LR] = optimizer.param_groups[0]["lr"]
    metrics[keys.EPOCH_SECONDS] = time.perf_counter() - start
    return metrics


@dataclass
class Predictions:
    """Outputs of a model over a loader: logits V×K, features V×D, labels V, video ids V."""

    logits: torch.Tensor
    features: torch.Tensor
    labels: torch.Tensor
    videos: torch.Tensor

    @property
    def accuracy(self) -> float:
        return float((self.logits.argmax(1) == self.labels).float().mean()) if len(self.labels) else 0.0


@torch.no_grad()
def predict(model: nn.Module, loader: Iterable[dict], device: torch.device,
            transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
            precision: Precision = Precision()) -> Predictions:
    """Run ``model`` (a VideoClassifier) in eval mode; multi-clip items are averaged by the model."""
    model.eval()
    outs: dict[str, list[torch.Tensor]] = {"logits": [], "features": [], "labels": [], "videos": []}
    for batch in loader:
        clips = precision.prepare(batch["clips"], device)
        if transform is not None:
            clips = transform(clips)
        with precision.autocast(device):
            logits, feats = model(clips, return_features=True)
        outs["logits"].append(logits.float().cpu())
        outs["features"].append(feats.float().cpu())
        outs["labels"].append(batch["label"].cpu())
        outs["videos"].append(torch.as_tensor(batch["video"]).cpu())
    return Predictions(*(torch.cat(outs[k]) if outs[k] else torch.empty(0) for k in outs))


def evaluate(model: nn.Module, loader: Iterable[dict], device: torch.device,
             precision: Precision = Precision()) -> dict[str, float]:
    """Validation loss and top-1 accuracy."""
    pred = predict(model, loader, device, precision=precision)
    loss = float(F.cross_entropy(pred.logits, pred.labels)) if len(pred.labels) else float("nan")
    return {keys.VAL_LOSS: loss, keys.VAL_ACC: pred.accuracy}


def fit(algo: Algorithm, train_loader, cfg: OptimConfig, device: torch.device,
        on_epoch: Callable[[int, dict[str, float]], None] | None = None,
        val_loader=None, precision: Precision = Precision(), start_epoch: int = 0,
        optimizer: torch.optim.Optimizer | None = None, scheduler=None) -> dict[str, float]:
    """Train ``algo`` for ``cfg.epochs`` epochs with SGD and a step schedule.

    ``on_epoch(epoch, metrics)`` runs after every epoch (checkpointing, reporting). Pass the
    ``optimizer``, ``scheduler`` and ``start_epoch`` of a checkpoint to resume. Returns the
    last epoch's metrics.
    """
    algo.to(device)
    optimizer = optimizer or make_optimizer(algo.parameters(), cfg)
    scheduler = scheduler or make_scheduler(optimizer, cfg)
    metrics: dict[str, float] = {}
    for epoch in range(start_epoch, cfg.epochs):
        if hasattr(train_loader, "dataset") and hasattr(train_loader.dataset, "set_epoch"):
            train_loader.dataset.set_epoch(epoch)
        metrics = train_one_epoch(algo, train_loader, optimizer, device, cfg.accumulate, cfg.freeze_bn, precision)
        scheduler.step()
        if val_loader is not None:
            metrics.update(evaluate(algo.video, val_loader, device, precision))
        if on_epoch is not None:
            on_epoch(epoch, metrics)
    return metrics
