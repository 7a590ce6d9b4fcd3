"""The one train/eval loop shared by every algorithm."""

from __future__ import annotations

import contextlib
import os
import random
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from drl_core.algorithms.base import Algorithm
from drl_core.config import OptimConfig
from drl_core.data.transforms import DeviceTransform
from drl_core.metrics import keys


def seed_everything(seed: int, deterministic: bool = True) -> None:
    """Seed Python, NumPy and torch. ``deterministic``: ask torch for deterministic kernels where
    it has them (the CPU configs); otherwise let cuDNN pick the fastest (``cudnn.benchmark``, the
    GPU configs). Deterministic cuBLAS needs a fixed workspace, set here unless the environment
    sets one (``CUBLAS_WORKSPACE_CONFIG``, read when the first cuBLAS handle is made)."""
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(deterministic, warn_only=True)
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cudnn.benchmark = not deterministic


@dataclass(frozen=True)
class Precision:
    """Speed options; each only takes effect on CUDA."""

    bf16: bool = True
    channels_last: bool = True

    def autocast(self, device: torch.device):
        if device.type == "cuda" and self.bf16:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def prepare_model(self, module: nn.Module, device: torch.device) -> nn.Module:
        """Move ``module`` to ``device``; on CUDA its 5-D weights take the channels-last-3d layout
        of the inputs, so that cuDNN need not convert them every step."""
        module.to(device)
        if device.type == "cuda" and self.channels_last:
            for p in module.parameters():
                if p.dim() == 5:
                    p.data = p.data.contiguous(memory_format=torch.channels_last_3d)
        return module

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


def to_model(batch: dict, device: torch.device, inputs: DeviceTransform | None,
             precision: Precision, jitter: bool = True) -> torch.Tensor:
    """A batch's clips as the model's float input on ``device``: uint8 clips travel as uint8 and
    are normalised (and colour-jittered, with the batch's ``jitter``) there by ``inputs``."""
    clips = batch["clips"].to(device, non_blocking=True)
    if inputs is not None:
        params = batch.get("jitter") if jitter else None
        clips = inputs(clips, params)  # moved by ``inputs``: the pil jitter plans its steps on the CPU
    return precision.prepare(clips, device)


def train_one_epoch(algo: Algorithm, loader: Iterable[dict], optimizer: torch.optim.Optimizer,
                    device: torch.device, accumulate: int = 1, freeze_bn: bool = False,
                    precision: Precision = Precision(), inputs: DeviceTransform | None = None,
                    on_step: Callable[[int], None] | None = None) -> dict[str, float]:
    """One pass over ``loader`` (dicts with ``clips`` and ``label`` B; ``clips`` float
    B×C×T×H×W, or uint8 B×T×H×W×3 with ``inputs`` and an optional ``jitter`` B×4 or B×8).

    Gradients are accumulated over ``accumulate`` batches before each optimizer step, so the
    effective batch is ``accumulate × B``. ``freeze_bn`` fixes the BN statistics of ``algo.video``
    (the network being trained), as the reference's fine-tuning and DRL phase do. Sums stay on
    the device and are read once, at the end: no step waits for the host. ``on_step(i)`` runs
    after each batch (progress lines). Returns mean loss, accuracy and loss components, the
    epoch's seconds, and of those the seconds spent waiting for batches (all, and the first's).
    """
    algo.train()
    if freeze_bn:  # the trained network's BN (Alg. 1/2's spatial models keep training theirs)
        freeze_batchnorm(getattr(algo, "video", algo))
    sums: dict[str, torch.Tensor] = {}
    correct = torch.zeros((), device=device)
    seen = pending = 0
    waits: list[float] = []
    start = time.perf_counter()
    optimizer.zero_grad(set_to_none=True)
    for i, batch in enumerate(timed(loader, waits)):
        clips, labels = to_model(batch, device, inputs, precision), batch["label"].to(device, non_blocking=True)
        with precision.autocast(device):
            out = algo(clips, labels)
        (out.loss / accumulate).backward()
        pending += 1
        if pending == accumulate:
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            pending = 0
        n = labels.shape[0]
        seen += n
        correct += (out.logits.argmax(1) == labels).sum()
        for name, value in {"loss": out.loss.detach(), **out.components}.items():
            sums[name] = sums.get(name, 0.0) + torch.as_tensor(value, device=device).detach().float() * n
        if on_step is not None:
            on_step(i)
    if pending:
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    names = sorted(sums)
    values = read_back(torch.stack([sums[k] for k in names] + [correct.float()])) if names else [0.0]
    metrics = {f"{keys.TRAIN_PREFIX}{k}": v / max(seen, 1) for k, v in zip(names, values)}
    metrics[keys.TRAIN_ACC] = values[-1] / max(seen, 1)
    metrics[keys.LR] = optimizer.param_groups[0]["lr"]
    metrics[keys.EPOCH_SECONDS] = time.perf_counter() - start
    metrics[keys.DATA_WAIT_SECONDS] = sum(waits)
    metrics[keys.FIRST_BATCH_SECONDS] = waits[0]
    metrics[keys.EPOCH_CLIPS] = seen
    return metrics


def read_back(sums: torch.Tensor) -> list[float]:
    """An epoch's device-side sums (K,) on the host: the one point at which an epoch waits for its device."""
    return sums.cpu().tolist()


def timed(loader: Iterable[dict], waits: list[float]) -> Iterator[dict]:
    """``loader``'s batches; appends to ``waits`` the seconds the caller waited for each, and
    for the end of the loader (a stream's epoch ends when its last task does)."""
    batches = iter(loader)
    while True:
        start = time.perf_counter()
        batch = next(batches, None)
        waits.append(time.perf_counter() - start)
        if batch is None:
            return
        yield batch


@dataclass
class Predictions:
    """Outputs of a model over a loader: logits V×K, features V×D, labels V, video ids V; and,
    when asked for, each test clip's features V×N×D (``clip_features``, their mean is ``features``)."""

    logits: torch.Tensor
    features: torch.Tensor
    labels: torch.Tensor
    videos: torch.Tensor
    clip_features: torch.Tensor | None = None

    @property
    def accuracy(self) -> float:
        """Top-1 accuracy, exactly correct / videos (a float32 mean would put 270 of 300 under 0.9)."""
        return int((self.logits.argmax(1) == self.labels).sum()) / len(self.labels) if len(self.labels) else 0.0


View = Callable[[torch.Tensor], torch.Tensor] | None  # a change of the model's input (None: as it is)


@torch.no_grad()
def predict_many(heads: dict[str, tuple[nn.Module, View]], loader: Iterable[dict], device: torch.device,
                 precision: Precision = Precision(), inputs: DeviceTransform | None = None,
                 per_clip: bool = False) -> dict[str, Predictions]:
    """:func:`predict` of several (model, view) pairs, reading ``loader`` once: every batch is
    cut, moved and normalised once, then seen by each pair. One :class:`Predictions` per name;
    ``per_clip`` keeps each clip's features too (``clip_features``)."""
    for model, _ in heads.values():
        model.eval()
    outs: dict[str, dict[str, list[torch.Tensor]]] = {h: {"logits": [], "features": []} for h in heads}
    labels: list[torch.Tensor] = []
    videos: list[torch.Tensor] = []
    for batch in loader:
        clips = to_model(batch, device, inputs, precision, jitter=False)
        for name, (model, view) in heads.items():
            with precision.autocast(device):
                x = clips if view is None else view(clips)
                logits, feats = model(x, return_features=True, per_clip=True) if per_clip else \
                    model(x, return_features=True)
            outs[name]["logits"].append(logits.float().cpu())
            outs[name]["features"].append(feats.float().cpu())
        labels.append(batch["label"].cpu())
        videos.append(torch.as_tensor(batch["video"]).cpu())

    def cat(parts: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(parts) if parts else torch.empty(0)

    def made(o: dict[str, list[torch.Tensor]]) -> Predictions:
        feats = cat(o["features"])
        if not per_clip:
            return Predictions(cat(o["logits"]), feats, cat(labels), cat(videos))
        return Predictions(cat(o["logits"]), feats.mean(1), cat(labels), cat(videos), clip_features=feats)

    return {name: made(o) for name, o in outs.items()}


def predict_views(model: nn.Module, loader: Iterable[dict], device: torch.device, views: dict[str, View],
                  precision: Precision = Precision(), inputs: DeviceTransform | None = None) -> dict[str, Predictions]:
    """:func:`predict` of several views of every batch (e.g. the clips and their static
    versions), reading ``loader`` once: one :class:`Predictions` per view name."""
    return predict_many({name: (model, view) for name, view in views.items()}, loader, device, precision, inputs)


def predict(model: nn.Module, loader: Iterable[dict], device: torch.device, transform: View = None,
            precision: Precision = Precision(), inputs: DeviceTransform | None = None,
            per_clip: bool = False) -> Predictions:
    """Run ``model`` (a VideoClassifier) in eval mode; multi-clip items are averaged by the model.
    ``inputs`` turns uint8 clips into the model's input on the device; ``transform`` then
    changes them (e.g. a static-input probe). Only per-video logits and features are kept, and
    with ``per_clip`` each clip's features (V×N×D)."""
    return predict_many({"clips": (model, transform)}, loader, device, precision, inputs, per_clip)["clips"]


def evaluate(model: nn.Module, loader: Iterable[dict], device: torch.device,
             precision: Precision = Precision(), inputs: DeviceTransform | None = None) -> dict[str, float]:
    """Validation loss and top-1 accuracy."""
    pred = predict(model, loader, device, precision=precision, inputs=inputs)
    loss = float(F.cross_entropy(pred.logits, pred.labels)) if len(pred.labels) else float("nan")
    return {keys.VAL_LOSS: loss, keys.VAL_ACC: pred.accuracy}


def fit(algo: Algorithm, train_loader, cfg: OptimConfig, device: torch.device,
        on_epoch: Callable[[int, dict[str, float]], None] | None = None,
        val_loader=None, precision: Precision = Precision(), start_epoch: int = 0,
        optimizer: torch.optim.Optimizer | None = None, scheduler=None,
        inputs: DeviceTransform | None = None, on_step: Callable[[int, int], None] | None = None) -> dict[str, float]:
    """Train ``algo`` for ``cfg.epochs`` epochs with SGD and a step schedule: the one epoch loop
    of every training path (a Ray Train worker runs it too).

    ``train_loader`` is an iterable of batches (its ``set_epoch(epoch)`` is called first, when it
    has one) or a callable ``epoch -> iterable`` (a fresh stream per epoch). ``on_epoch(epoch,
    metrics)`` runs after every epoch (checkpointing, reporting); ``on_step(epoch, i)`` after
    every batch. Pass the ``optimizer``, ``scheduler`` and ``start_epoch`` of a checkpoint to
    resume. Returns the last epoch's metrics.
    """
    precision.prepare_model(algo, device)
    optimizer = optimizer or make_optimizer(algo.parameters(), cfg)
    scheduler = scheduler or make_scheduler(optimizer, cfg)
    metrics: dict[str, float] = {}
    for epoch in range(start_epoch, cfg.epochs):
        batches = epoch_batches(train_loader, epoch)
        step = None if on_step is None else (lambda i, e=epoch: on_step(e, i))
        metrics = train_one_epoch(algo, batches, optimizer, device, cfg.accumulate, cfg.freeze_bn, precision,
                                  inputs, step)
        scheduler.step()
        if val_loader is not None:
            metrics.update(evaluate(algo.video, val_loader, device, precision, inputs))
        if on_epoch is not None:
            on_epoch(epoch, metrics)
    return metrics


def epoch_batches(source, epoch: int) -> Iterable[dict]:
    """The batches of one epoch from a loader (told the epoch) or an ``epoch -> iterable`` callable."""
    if callable(source) and not hasattr(source, "__iter__"):
        return source(epoch)
    for target in (source, getattr(source, "dataset", None), getattr(source, "sampler", None)):
        if hasattr(target, "set_epoch"):
            target.set_epoch(epoch)
    return source
