"""What one training stage trains: plain, picklable, and the input of its cache key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drl_core.config import ADDED_OPTION, AlgorithmConfig, ClipConfig, ModelConfig, OptimConfig
from pipelines.data.inference_stream import InferenceStream
from pipelines.stages.base import RUNTIME


@dataclass(frozen=True)
class TrainJob:
    """One run of the shared training loop (:mod:`pipelines.train.loop`).

    ``kind`` is ``classify`` (train ``model`` with ``algorithm`` on labelled clips) or
    ``distill`` (train the spatial ``model`` to mimic the frozen video model in ``teacher``).
    ``init`` is a model file (:mod:`pipelines.train.model_file`) to start from; with
    ``reset_head`` its classifier is replaced (fine-tuning on new classes), otherwise copied.
    ``spatial_init`` is a model file whose weights (less its head) start the job's spatial
    model: the distillation's student, or Alg. 1/2's spatial model.
    After training, rank 0 evaluates on each of ``eval_splits`` (name → decoded split folder).
    ``epoch_probe`` (a :class:`pipelines.train.epoch_probe.EpochProbe`, set by Tune trials)
    makes rank 0 measure the network after every epoch and report those metrics too.
    ``deterministic`` asks for deterministic kernels (the CPU configs); off, cuDNN autotunes
    (the GPU configs). ``workers`` is the number of Ray Train workers (``resources.num_workers``),
    part of the key: each worker's BatchNorm sees its share of a batch and each worker its share
    of the videos, so another count trains another model. The runtime fields size the input pipeline: CPUs and videos per Ray Data
    sampling task, how many such tasks at once, and batches prefetched ahead of the device;
    ``alone`` marks a stage no other training stage waits beside (the baseline), which on CPUs
    then takes the cluster's free CPUs less ``beside``, those of the training stages that may run
    beside it (the static-task pretraining) (:func:`pipelines.train.launcher.stage_resources`); ``ingest``
    is ``ray_data`` (clips streamed by Ray Data tasks) or ``worker`` (cut in the one worker);
    ``inference_stream`` brings the test clips of the evaluation after training and of the Tune probe.
    ``test_clip``, if set, cuts the evaluation's test items in place of ``clip`` (a fine-tuning
    dataset's own ``test_clip``).
    """

    kind: str
    train_split: str
    model: ModelConfig
    optim: OptimConfig
    clip: ClipConfig
    algorithm: AlgorithmConfig = field(default_factory=AlgorithmConfig)
    eval_splits: tuple[tuple[str, str], ...] = ()
    init: str = ""
    reset_head: bool = False
    teacher: str = ""
    spatial_init: str = ""
    seed: int = 0
    deterministic: bool = True
    workers: int = 1
    test_clip: ClipConfig | None = field(default=None, metadata=ADDED_OPTION)  # session 19
    inference_stream: InferenceStream = field(default_factory=InferenceStream, metadata=RUNTIME)
    data_cpus: float = field(default=0.25, metadata=RUNTIME)
    videos_per_task: int = field(default=32, metadata=RUNTIME)
    data_tasks: int = field(default=1, metadata=RUNTIME)
    prefetch_batches: int = field(default=2, metadata=RUNTIME)
    label: str = field(default="train", metadata=RUNTIME)
    alone: bool = field(default=False, metadata=RUNTIME)
    beside: float = field(default=0.0, metadata=RUNTIME)
    ingest: str = field(default="ray_data", metadata=RUNTIME)
    epoch_probe: Any = None

    def __post_init__(self) -> None:
        if self.kind not in ("classify", "distill"):
            raise ValueError(f"kind: must be classify or distill, got {self.kind!r}")
        if self.workers < 1:
            raise ValueError(f"workers: must be at least 1, got {self.workers}")
        if self.kind == "distill" and not self.teacher:
            raise ValueError("teacher: a distill job needs the video model to mimic")
