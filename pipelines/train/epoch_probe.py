"""What a Ray Tune trial measures after every epoch (on rank 0), inside the shared training loop.

The objective and what ASHA compares: the downstream linear-probe accuracy of the frozen
features, the dynamic score of a spatial model distilled from the current network, and the
source test accuracies.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from drl_core.algorithms import SpatialDistillation
from drl_core.config import ClipConfig, ModelConfig, OptimConfig
from drl_core.engine import fit
from drl_core.metrics import keys
from drl_core.metrics.linear_probe import fit_linear_probe
from drl_core.models import build_model
from pipelines.data.clips import train_loader
from pipelines.data.shards import open_split
from pipelines.data.inference_stream import InferenceStream
from pipelines.evaluation import distilled_score, inputs, predictions


@dataclass(frozen=True)
class EpochProbe:
    """``tests``: (name, decoded split) source test sets; ``downstream``: (name, train split,
    test split) for the linear probe, cut with the job's clips or, where ``downstream_clips``
    (name, clips) names a set, its own (a dataset's ``test_clip``); ``spatial``/``distill``: the
    student and its schedule."""

    tests: tuple[tuple[str, str], ...]
    downstream: tuple[tuple[str, str, str], ...]
    spatial: ModelConfig
    distill: OptimConfig
    probe_weight_decay: float = 1e-3
    probe_iters: int = 100
    temperature: float = 1.0
    downstream_clips: tuple[tuple[str, ClipConfig], ...] = ()


def linear_probe(model: nn.Module, train: str, test: str, clip: ClipConfig, probe: EpochProbe,
                 stream: InferenceStream, device: torch.device) -> tuple[float, float]:
    """Test accuracy and cross-entropy of a linear probe fitted on frozen train-split features."""
    tr, classes = predictions(model, train, clip, stream, device)
    te, _ = predictions(model, test, clip, stream, device)
    fitted = fit_linear_probe(tr.features, tr.labels, len(classes), probe.probe_weight_decay, probe.probe_iters)
    nll = float(F.cross_entropy(fitted.logits(te.features), te.labels)) if len(te.labels) else float("nan")
    return fitted.accuracy(te.features, te.labels), nll


def measure(probe: EpochProbe, network: nn.Module, num_classes: int, train_split: str, clip: ClipConfig,
            seed: int, stream: InferenceStream, device: torch.device) -> dict[str, float]:
    """Every per-epoch metric of a trial. ``network`` is left as it was (a copy is measured); the
    student is distilled on clips streamed from ``train_split`` in this process; test clips come
    through ``stream``."""
    model = copy.deepcopy(network).eval()
    out: dict[str, float] = {}
    accs, nlls = [], []
    own = dict(probe.downstream_clips)
    for name, train, test in probe.downstream:
        acc, nll = linear_probe(model, train, test, own.get(name, clip), probe, stream, device)
        out[keys.linear_probe_acc(name)], out[keys.linear_probe_nll(name)] = acc, nll
        accs.append(acc)
        nlls.append(nll)
    if accs:
        out[keys.LINEAR_PROBE_ACC], out[keys.LINEAR_PROBE_NLL] = sum(accs) / len(accs), sum(nlls) / len(nlls)
    student = build_model(probe.spatial, num_classes)
    loader = train_loader(open_split(train_split), clip, probe.distill.batch_size, seed)
    fit(SpatialDistillation(model, student, probe.temperature), loader, probe.distill, device, inputs=inputs(clip))
    for name, split in probe.tests:  # one read and one teacher pass per split give DS and accuracy
        ds = distilled_score(model, student, split, clip, stream, device)
        out[keys.acc(name)], out[keys.ds(name)], out[keys.agreement(name)] = \
            ds["teacher_acc1"], ds["kl"], ds["agreement"]
    return out
