"""The study's config tree. Field names are the dotted keys of the YAML and of Tune searches."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from drl_core.config import AlgorithmConfig, ClipConfig, ModelConfig, OptimConfig
from drl_core.config import check as _check
from drl_core.metrics import keys
from drl_core.names import ALGORITHM_NAMES
from pipelines.config.merge import MERGE_ONTO

if TYPE_CHECKING:
    from pipelines.data.inference_stream import InferenceStream


@dataclass(frozen=True)
class BenchmarkConfig:
    """The built-in synthetic benchmark (see docs/BENCHMARK.md for what each knob does)."""

    seed: int = 0
    size: int = 64
    fps: tuple[int, ...] = (12, 15, 24, 30)
    duration: tuple[float, float] = (1.1, 1.4)
    bias: float = 0.85
    source_train_per_class: int = 120
    source_test_per_class: int = 30
    downstream_train_per_class: int = 8
    downstream_test_per_class: int = 15
    # The static task (synth_static: scene × object shape, 60 classes) the spatial models are
    # pretrained on, as the paper's start from ImageNet (see spatial_init).
    static_train_per_class: int = 4
    static_test_per_class: int = 1
    crf: int = 18

    def __post_init__(self) -> None:
        _check(0.0 <= self.bias <= 1.0, "bias", f"must lie in [0, 1], got {self.bias}")
        _check(16 <= self.size <= 512, "size", f"must lie in [16, 512], got {self.size}")
        _check(len(self.fps) > 0 and min(self.fps) > 0, "fps", "needs positive frame rates")
        _check(0 < self.duration[0] <= self.duration[1], "duration", "needs 0 < min <= max")
        for name in ("source_train_per_class", "source_test_per_class", "downstream_train_per_class",
                     "downstream_test_per_class", "static_train_per_class", "static_test_per_class"):
            _check(getattr(self, name) >= 1, name, "must be at least 1")
        _check(0 <= self.crf <= 51, "crf", "must lie in [0, 51]")


@dataclass(frozen=True)
class DecodeConfig:
    """Decoding videos into Arrow shards: one row per video holding ``num_frames`` frames per
    ``clip_seconds`` over its whole length, resized to ``short_side``; robustness and batching.

    ``frame_format``: ``jpeg`` (at ``jpeg_quality``), ``raw`` uint8, or ``auto``: raw for the
    built-in benchmark (its calibration is not disturbed), JPEG for real datasets. Training clips
    are drawn from the rows every epoch and the test clips (``pretrain.clip.test_clips``) cut
    from the same rows, so one decode serves both.
    """

    num_frames: int = 8
    clip_seconds: float = 1.0
    short_side: int = 32
    frame_format: str = "auto"
    jpeg_quality: int = 90
    backends: tuple[str, ...] = ("decord", "pyav")
    timeout_s: float = 60.0
    isolate: bool = True
    # A decode task takes ``videos_per_task`` videos. Without ``isolate`` its worker process,
    # which then holds the decoders' memory, is replaced after ``max_calls`` tasks; isolated
    # decoders live in a child that exits after each task, so workers are kept (recycling them
    # cost 15% of the stage's throughput: decode_throughput 0.72-0.74 against 0.84-0.88). Small
    # tasks with recycling were 15× slower on 2 cores (8 per task: 207 s for 1,200 benchmark
    # videos; 32 per task: 13.5 s), as each new worker imports anew. Each task also costs its
    # worker about 0.1 s of CPU (its child, its Parquet file): 64 per task decoded the same 400
    # videos 9% faster than 32 on 2 cores, and holds at most 64 videos' frames (Kinetics at 128 px,
    # raw: 0.7 GB; pipelines/plan.py counts it).
    max_calls: int = 16
    videos_per_task: int = 64
    # What counts as a video (pipelines/decode/video.py VideoChecks): fewer frames or seconds is
    # "not_a_video"; a larger frame (pixels, from the header) is "too_large".
    min_frames: int = 4
    min_seconds: float = 0.25
    max_pixels: int = 7680 * 4320

    def __post_init__(self) -> None:
        _check(self.num_frames >= 1, "num_frames", "must be at least 1")
        _check(self.clip_seconds > 0, "clip_seconds", "must be positive")
        _check(self.frame_format in ("auto", "jpeg", "raw"), "frame_format",
               f"must be auto, jpeg or raw, got {self.frame_format!r}")
        _check(1 <= self.jpeg_quality <= 100, "jpeg_quality", f"must lie in [1, 100], got {self.jpeg_quality}")
        _check(self.short_side >= 8, "short_side", "must be at least 8")
        known = {"decord", "pyav"}
        for b in self.backends:
            _check(b in known, "backends", f"unknown backend {b!r} (valid: {', '.join(sorted(known))})")
        _check(len(self.backends) > 0, "backends", "needs at least one backend")
        _check(self.timeout_s > 0, "timeout_s", "must be positive")
        _check(self.max_calls >= 0, "max_calls", "must be >= 0 (0 means never recycle)")
        _check(self.videos_per_task >= 1, "videos_per_task", "must be at least 1")
        _check(self.min_frames >= 1, "min_frames", "must be at least 1")
        _check(self.min_seconds >= 0, "min_seconds", "must be >= 0")
        _check(self.max_pixels >= 64, "max_pixels", "must be at least 64")

    def encoding(self, reader: str) -> str:
        """The frame encoding of ``reader``'s rows."""
        if self.frame_format != "auto":
            return self.frame_format
        return "raw" if reader == SYNTHETIC else "jpeg"


@dataclass(frozen=True)
class CalibrationConfig:
    """The calibration runs that fix the benchmark's default bias before any study."""

    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(
        optimizer="adamw", epochs=25, lr=1e-3, step_size=20, batch_size=16, weight_decay=1e-4))
    clip: ClipConfig = field(default_factory=ClipConfig)
    seeds: tuple[int, ...] = (0,)

    def __post_init__(self) -> None:
        _check(len(self.seeds) >= 1, "seeds", "needs at least one seed")


SYNTHETIC = "synthetic"
DATASET_READERS = (SYNTHETIC, "kinetics400", "minikinetics200", "ucf101", "hmdb51", "diving48",
                   "ssv2", "jester", "mimetics")


@dataclass(frozen=True)
class DatasetConfig:
    """One dataset the study reads.

    ``reader`` is ``synthetic`` (a dataset of the built-in benchmark, chosen by ``name``) or a
    reader of a real dataset layout (docs/DATASETS.md), which reads ``root`` with its
    annotations in ``annotations`` (default: ``root``). ``ooc_split`` is an optional second test
    split of the source, scored as "out of context". ``finetune`` overrides ``finetune.optim``
    for this dataset (Table 1 of the paper gives one schedule per dataset).
    """

    name: str = "synth_source"
    reader: str = SYNTHETIC
    root: str = ""
    annotations: str = ""
    train_split: str = "train"
    test_split: str = "test_in_context"
    ooc_split: str = "test_out_of_context"
    # A partial block here starts from the study's finetune.optim (pipelines/config/merge.py).
    finetune: OptimConfig | None = field(default=None, metadata={MERGE_ONTO: "finetune.optim"})

    def __post_init__(self) -> None:
        _check(bool(self.name) and "/" not in self.name, "name", f"must be a non-empty name without '/', got {self.name!r}")
        _check(self.reader in DATASET_READERS, "reader",
               f"unknown reader {self.reader!r} (valid: {', '.join(DATASET_READERS)})")
        _check(self.reader == SYNTHETIC or bool(self.root), "root", f"dataset {self.name!r} needs a root folder")


def _downstream(name: str) -> DatasetConfig:
    return DatasetConfig(name=name, test_split="test", ooc_split="")


def _synthetic_downstream() -> tuple[DatasetConfig, ...]:
    return (_downstream("synth_paths"), _downstream("synth_tempo"))


@dataclass(frozen=True)
class DataConfig:
    """The datasets of a study.

    ``source``: pretraining. ``downstream``: transfer by fine-tuning and linear probes.
    ``fewshot``: few-shot episodes on the test split (e.g. SSv2 / Jester validation).
    ``evaluation``: extra test sets scored with the source model's own head, classes matched by
    name (e.g. Mimetics for a Kinetics-400 model). A dataset named in several lists must have
    the same settings everywhere.
    """

    source: DatasetConfig = field(default_factory=DatasetConfig)
    downstream: tuple[DatasetConfig, ...] = field(default_factory=_synthetic_downstream)
    fewshot: tuple[DatasetConfig, ...] = field(default_factory=_synthetic_downstream)
    evaluation: tuple[DatasetConfig, ...] = ()

    def __post_init__(self) -> None:
        names = [self.source.name, *(d.name for d in self.downstream)]
        _check(len(set(names)) == len(names), "downstream", f"dataset names must be unique, got {names}")
        known = {d.name: d for d in (self.source, *self.downstream)}
        for key, group in (("fewshot", self.fewshot), ("evaluation", self.evaluation)):
            for i, d in enumerate(group):
                _check(known.get(d.name, d) == d, f"{key}[{i}]",
                       f"dataset {d.name!r} is defined elsewhere in data with other settings")
                known[d.name] = d

    @property
    def all(self) -> tuple[DatasetConfig, ...]:
        """Every dataset once, source first."""
        return tuple({d.name: d for d in (self.source, *self.downstream, *self.fewshot, *self.evaluation)}.values())

    @property
    def synthetic(self) -> bool:
        return any(d.reader == SYNTHETIC for d in self.all)


@dataclass(frozen=True)
class PretrainConfig:
    """The supervised baseline on the source dataset (default: a 2-core-CPU size)."""

    # The calibration's recipe (docs/CALIBRATION.md): long enough for the baseline to learn part of
    # the motion at the default bias, the regime where DRL can act (`drl calibrate --study`).
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(
        optimizer="adamw", epochs=25, lr=1e-3, step_size=20, batch_size=16, weight_decay=1e-4))
    # The built-in videos last 1.1-1.4 s, so ten 1-s test clips would be near-copies; the real-data
    # configs (pipelines/configs) use the paper's 10.
    clip: ClipConfig = field(default_factory=lambda: ClipConfig(test_clips=3))


@dataclass(frozen=True)
class DrlConfig:
    """The DRL algorithms the study trains, and how.

    ``second_phase`` (the reference code) starts each algorithm from the baseline checkpoint,
    head included, with ``optim``; ``control`` then also continues the baseline for the same
    epochs with plain cross-entropy. ``optim.freeze_bn`` (default on, as the reference's DRL phase
    and Table 1's fine-tuning schedule, which that phase is) applies to the control too; it
    freezes the BN of the video model, not of Alg. 1/2's spatial models. ``from_scratch`` trains each algorithm with the pretrain
    schedule instead. The weights α, β, λ, ε come from the top-level ``algorithm`` block.
    """

    algorithms: tuple[str, ...] = ("adversarial", "spatial_adversary", "static_inputs")
    mode: str = "second_phase"
    control: bool = True
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(
        optimizer="adamw", epochs=1, lr=1e-4, step_size=1, batch_size=16, weight_decay=1e-4, freeze_bn=True))

    def __post_init__(self) -> None:
        _check(self.mode in ("second_phase", "from_scratch"), "mode",
               f"must be second_phase or from_scratch, got {self.mode!r}")
        for name in self.algorithms:
            _check(name in ALGORITHM_NAMES and name != "supervised", "algorithms",
                   f"unknown DRL algorithm {name!r} (valid: {', '.join(a for a in ALGORITHM_NAMES if a != 'supervised')})")


@dataclass(frozen=True)
class DynamicScoreConfig:
    """Distil a spatial model from each video model, then score it (and probe it) on the tests.

    ``temperature`` is the distillation's softmax temperature (the study's DS stages and the Tune
    probe both use it); the score itself is the KL at temperature 1, as in the paper.
    """

    spatial: ModelConfig = field(default_factory=lambda: ModelConfig(name="r2d10", dropout=0.0))
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(
        optimizer="adamw", epochs=1, lr=1e-3, step_size=1, batch_size=16, weight_decay=1e-4))
    temperature: float = 1.0

    def __post_init__(self) -> None:
        _check(self.temperature > 0, "temperature", f"must be positive, got {self.temperature}")


@dataclass(frozen=True)
class SpatialInitConfig:
    """Where the spatial models start (the dynamic score's student and Alg. 1/2's spatial
    models) when their ``checkpoint`` names no file.

    ``static`` (default): on the built-in benchmark, from an R2D of the same architecture
    pretrained (``optim``) on the benchmark's static task, ``synth_static`` (scene × object shape
    on single frames of videos outside every split): the benchmark's counterpart of the ImageNet
    ResNets the reference code and the real-data configs start them from. One cached stage per
    spatial architecture (``static_pretrain/<name>-w<width>``). ``from_scratch``: random weights.
    Real datasets have no static task: their configs name ImageNet files in ``checkpoint``.
    """

    mode: str = "static"
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(
        optimizer="adamw", epochs=30, lr=2e-3, step_size=25, batch_size=32, weight_decay=1e-4))

    def __post_init__(self) -> None:
        _check(self.mode in ("static", "from_scratch"), "mode", f"must be static or from_scratch, got {self.mode!r}")


@dataclass(frozen=True)
class FinetuneConfig:
    """Fine-tuning each model on each downstream dataset (a dataset's ``finetune`` overrides it)."""

    optim: OptimConfig = field(default_factory=lambda: OptimConfig(
        optimizer="adamw", epochs=2, lr=1e-3, step_size=2, batch_size=8, weight_decay=1e-4, freeze_bn=True))


@dataclass(frozen=True)
class LinearProbeConfig:
    """A multinomial logistic regression on frozen, standardised pooled features (L-BFGS)."""

    weight_decay: float = 1e-3
    max_iter: int = 200

    def __post_init__(self) -> None:
        _check(self.weight_decay >= 0, "weight_decay", "must be >= 0")
        _check(self.max_iter >= 1, "max_iter", "must be >= 1")


@dataclass(frozen=True)
class FewShotConfig:
    """N-way K-shot episodes on frozen pooled features of each ``data.fewshot`` test split.

    Episodes draw from the classes held out from pretraining (names the source dataset lacks)
    that have at least ``shots + queries`` videos; they are seeded by ``seed``. ``classifier``:
    ``nearest_centroid`` (cosine, the default) or ``logistic``.
    """

    ways: int = 5
    shots: tuple[int, ...] = (1, 5)
    queries: int = 10
    episodes: int = 1000
    classifier: str = "nearest_centroid"
    seed: int = 0

    def __post_init__(self) -> None:
        _check(self.ways >= 2, "ways", "must be at least 2")
        _check(len(self.shots) > 0 and all(k >= 1 for k in self.shots), "shots", "needs shot counts >= 1")
        _check(self.queries >= 1, "queries", "must be at least 1")
        _check(self.episodes >= 2, "episodes", "must be at least 2 (a confidence interval needs two)")
        _check(self.classifier in ("nearest_centroid", "logistic"), "classifier",
               f"unknown classifier {self.classifier!r} (valid: nearest_centroid, logistic)")


@dataclass(frozen=True)
class ResourcesConfig:
    """Ray resources: Ray Train's ScalingConfig for training stages, and the other stages' share.

    ``concurrent_trainings`` caps how many training stages run at once (0: as many as the
    cluster's resources at start-up can host; set it on an autoscaling cluster). A training
    stage's input pipeline runs as Ray Data tasks of ``data_cpus`` CPUs each, on any node,
    ``videos_per_task`` videos per task, at most ``data_tasks`` at once (0: as many as the CPUs
    allow). ``deterministic``: deterministic kernels (the CPU configs), or
    cuDNN autotuning (the GPU configs set it false).

    ``ingest``: how a training stage gets its clips. ``ray_data``: Ray Data tasks sample them on
    any node's CPUs and stream them into Ray Train (``TorchTrainer(datasets=...)``), the path
    for GPUs and several workers. ``worker``: the one training worker cuts them itself, the same
    clips in the same batches (tested bit-identical), without Ray Data's executor, which costs a
    third of a 2-core CPU (measured: 9-10 s epochs against 7 s). ``auto``: ``worker`` for one CPU
    worker, else ``ray_data``. Either way the result is the same, so it is no part of any key.

    ``inference``: how the test clips of every evaluation, dynamic score, feature extraction and
    Tune probe reach the model, ``eval_batch_size`` videos per batch. ``ray_data``: Ray Data tasks
    (``data_cpus`` each, at most ``inference_tasks`` at once) cut them and stream them to the
    process that holds the model; ``local``: that process cuts them itself; ``auto`` as
    ``ingest``. An evaluation, linear-probe or few-shot stage reserves its tasks' CPUs with its
    own in one placement group (so stages holding every CPU cannot starve them); the evaluation
    after training and the Tune probe run theirs on any free CPUs (the run's training stream,
    whose CPUs it reserved, is idle then; a run whose worker cuts its own clips cuts its test
    clips too, :meth:`worker_inference_stream`). The batches are the same either way (tested)
    (:mod:`pipelines.data.inference_stream`).

    ``poll_interval_s``: how often a Ray Train controller polls its workers (Ray's default 2 s
    adds up to that much to every stage's start and end). ``watch_preemption``: Ray Train's
    preemption watcher, one more process per run that logs node drains on spot-instance clusters
    (:mod:`pipelines.train.trainer`). ``pg_cleaner``: Ray Train's placement-group cleaner, a
    detached process per run that frees the run's CPUs and GPUs if its controller dies
    ungracefully (``on``, ``off``; ``auto``: on for Tune trials, which Tune stops by killing them,
    and on clusters of several nodes, where a node can die alone; off on one node, where a stage's
    controller dies only with its stage task and the stage's next attempt or the runner removes
    the group it noted). None changes a result.
    """

    num_workers: int = 1
    use_gpu: bool = False
    cpus_per_worker: float = 0.6  # three training stages at once on 2 CPUs: their start-ups overlap
    gpus_per_worker: float = 1.0
    max_failures: int = 2
    keep_checkpoints: int = 2
    eval_cpus: float = 1.0
    eval_batch_size: int = 16
    data_cpus: float = 0.25
    videos_per_task: int = 32
    data_tasks: int = 1
    deterministic: bool = True
    concurrent_trainings: int = 0
    ingest: str = "auto"
    inference: str = "auto"
    inference_tasks: int = 2
    poll_interval_s: float = 0.5
    watch_preemption: bool = False
    pg_cleaner: str = "auto"

    def __post_init__(self) -> None:
        _check(self.num_workers >= 1, "num_workers", "must be at least 1")
        _check(self.ingest in ("auto", "ray_data", "worker"), "ingest",
               f"must be auto, ray_data or worker, got {self.ingest!r}")
        _check(self.ingest != "worker" or self.num_workers == 1, "ingest",
               "worker reads the clips inside the one training worker; with num_workers > 1 use ray_data")
        _check(self.inference in ("auto", "ray_data", "local"), "inference",
               f"must be auto, ray_data or local, got {self.inference!r}")
        _check(self.inference_tasks >= 1, "inference_tasks", "must be at least 1")
        _check(self.pg_cleaner in ("auto", "on", "off"), "pg_cleaner",
               f"must be auto, on or off, got {self.pg_cleaner!r}")
        _check(self.cpus_per_worker > 0, "cpus_per_worker", "must be positive")
        _check(self.gpus_per_worker > 0, "gpus_per_worker", "must be positive")
        _check(self.max_failures >= -1, "max_failures", "must be >= -1 (-1 retries forever)")
        _check(self.keep_checkpoints >= 1, "keep_checkpoints", "must be at least 1")
        _check(self.eval_cpus > 0, "eval_cpus", "must be positive")
        _check(self.eval_batch_size >= 1, "eval_batch_size", "must be at least 1")
        _check(self.concurrent_trainings >= 0, "concurrent_trainings", "must be >= 0 (0: as many as fit)")
        _check(self.data_cpus > 0, "data_cpus", "must be positive")
        _check(self.videos_per_task >= 1, "videos_per_task", "must be at least 1")
        _check(self.data_tasks >= 0, "data_tasks", "must be >= 0 (0: as many as the CPUs allow)")
        _check(self.poll_interval_s > 0, "poll_interval_s", "must be positive")

    def ingest_mode(self) -> str:
        """``ray_data`` or ``worker`` (``auto``: worker for one CPU worker, else Ray Data)."""
        if self.ingest != "auto":
            return self.ingest
        return "worker" if self.num_workers == 1 and not self.use_gpu else "ray_data"

    def inference_stream(self) -> InferenceStream:
        """How test clips reach the model (``inference``; ``auto``: local where ``ingest`` is worker)."""
        from pipelines.data.inference_stream import InferenceStream

        ray_data = self.inference == "ray_data" or (self.inference == "auto" and self.ingest_mode() == "ray_data")
        return InferenceStream(self.eval_batch_size, ray_data, self.data_cpus, self.inference_tasks)

    def worker_inference_stream(self) -> InferenceStream:
        """The stream of a training worker's own inference (the evaluation after training, the
        Tune probe): Ray Data only where the run streams its training clips through Ray Data, whose
        task CPUs it reserved and which are idle then. A worker that cuts its clips itself cuts
        its test clips too: it has no CPUs for tasks, and on 2 CPUs three fine-tuning workers
        waited forever for theirs beside stages that held every other CPU (seen in a smoke study)."""
        from dataclasses import replace

        stream = self.inference_stream()
        return stream if self.ingest_mode() == "ray_data" else replace(stream, ray_data=False)

    def inference_cpus(self) -> float:
        """The CPUs an inference stage reserves for its Ray Data tasks (0 when it cuts clips itself)."""
        return self.data_cpus * self.inference_tasks if self.inference_stream().ray_data else 0.0

    def task_cpus(self) -> float:
        """The CPUs a training run's Ray Data tasks take beside its workers (none when the worker
        cuts its clips itself)."""
        return self.data_cpus * max(self.data_tasks, 1) if self.ingest_mode() == "ray_data" else 0.0

    def training_slots(self, cluster: dict[str, float]) -> int:
        """How many Ray Train runs may run at once: ``concurrent_trainings``, or as many as the
        cluster's current CPUs (and GPUs) can host, at least one."""
        if self.concurrent_trainings:
            return self.concurrent_trainings
        need = {"CPU": self.cpus_per_worker * self.num_workers + self.task_cpus()}
        if self.use_gpu:
            need["GPU"] = self.gpus_per_worker * self.num_workers
        return max(1, min(int(cluster.get(k, 0.0) // v) for k, v in need.items()))


@dataclass(frozen=True)
class ReportConfig:
    """The report: which downstream dataset the t-SNE figure shows, and its size."""

    tsne_dataset: str = ""
    tsne_points: int = 400
    tsne_perplexity: float = 20.0

    def __post_init__(self) -> None:
        _check(self.tsne_points >= 10, "tsne_points", "must be at least 10")
        _check(self.tsne_perplexity > 1, "tsne_perplexity", "must be > 1")


SEARCH_KINDS = ("uniform", "loguniform", "choice", "grid")


@dataclass(frozen=True)
class Distribution:
    """One searched config value: exactly one of ``uniform: [low, high]``, ``loguniform: [low,
    high]``, ``choice: [v, ...]`` (sampled) or ``grid: [v, ...]`` (every value, crossed with
    the other grids; ``tune.num_samples`` repeats the grid)."""

    uniform: tuple[float, float] | None = None
    loguniform: tuple[float, float] | None = None
    choice: tuple[Any, ...] | None = None
    grid: tuple[Any, ...] | None = None

    def __post_init__(self) -> None:
        given = [k for k in SEARCH_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(SEARCH_KINDS)} (got {', '.join(given) or 'none'})")
        if self.uniform is not None:
            _check(self.uniform[0] < self.uniform[1], "uniform", f"needs [low, high] with low < high, got {list(self.uniform)}")
        if self.loguniform is not None:
            low, high = self.loguniform
            _check(0 < low < high, "loguniform", f"needs [low, high] with 0 < low < high, got {[low, high]}")
        for k in ("choice", "grid"):
            _check(getattr(self, k) is None or len(getattr(self, k)) > 0, k, "needs at least one value")

    @property
    def kind(self) -> str:
        return next(k for k in SEARCH_KINDS if getattr(self, k) is not None)

    @property
    def values(self) -> tuple:
        return getattr(self, self.kind)


@dataclass(frozen=True)
class TuneConfig:
    """The Ray Tune search over the ``search`` block (``pipelines/tune_drl.py``).

    Each trial runs the DRL phase of ``algorithm`` (as the study would: from the baseline
    checkpoint in ``second_phase`` mode) with sampled values and reports, every epoch, the
    downstream linear-probe accuracy (``linear_probe/acc1``, the mean over the downstream
    datasets; ``linear_probe/nll`` is its test cross-entropy), the dynamic score of a spatial
    model distilled for ``ds_epochs`` (``ds/kl_<test>``) and the source test accuracies
    (``eval/acc1_<test>``). ``metric``/``mode`` pick the objective. ``max_concurrent`` 0 runs as
    many trials at once as the cluster's resources hold. ``scheduler``: ``asha`` (early
    stopping, by epoch) or ``fifo``. Values are drawn by random search (``grid`` entries are
    crossed), seeded by ``seed``.
    """

    algorithm: str = "static_inputs"
    num_samples: int = 8
    max_concurrent: int = 0
    metric: str = keys.LINEAR_PROBE_ACC
    mode: str = "max"
    scheduler: str = "asha"
    grace_period: int = 1
    reduction_factor: int = 2
    ds_epochs: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        _check(self.algorithm in ALGORITHM_NAMES and self.algorithm != "supervised", "algorithm",
               f"must be a DRL algorithm, got {self.algorithm!r}")
        _check(self.num_samples >= 1, "num_samples", "must be at least 1")
        _check(self.max_concurrent >= 0, "max_concurrent", "must be >= 0 (0: as the cluster allows)")
        _check(self.mode in ("max", "min"), "mode", f"must be max or min, got {self.mode!r}")
        _check(self.metric.startswith((keys.LINEAR_PROBE_PREFIX, keys.DS_PREFIX, keys.EVAL_PREFIX, keys.TRAIN_PREFIX)), "metric",
               f"must be a metric trials report (linear_probe/..., ds/..., eval/..., train/...), got {self.metric!r}")
        _check(self.scheduler in ("asha", "fifo"), "scheduler", f"must be asha or fifo, got {self.scheduler!r}")
        _check(self.grace_period >= 1 and self.reduction_factor >= 2, "grace_period",
               "needs grace_period >= 1 and reduction_factor >= 2")
        _check(self.ds_epochs >= 1, "ds_epochs", "must be at least 1")


def _check_search(name: str, dist: Distribution) -> None:
    """A searched key must be a config value and every value it may take must fit it."""
    from pipelines.config.loader import ConfigError, check_value, field_type

    try:
        tp = field_type(StudyConfig, name)
    except KeyError as err:
        raise ValueError(f"search.{name}: not a config key ({err.args[0]})") from None
    _check(not name.startswith(("search", "tune")), f"search.{name}", "the search settings cannot be searched")
    for i, v in enumerate(dist.values):
        try:
            check_value(v, tp, f"search.{name}.{dist.kind}[{i}]")
        except ConfigError as err:
            raise ValueError(str(err)) from None


def _default_search() -> dict[str, Distribution]:
    return {"algorithm.alpha": Distribution(uniform=(0.1, 0.9)), "algorithm.beta": Distribution(uniform=(0.1, 0.9)),
            "algorithm.lam": Distribution(loguniform=(0.05, 2.0))}


@dataclass(frozen=True)
class StudyConfig:
    """The whole study. ``output_dir`` defaults to the command line's ``--output-dir``."""

    seed: int = 0
    output_dir: str = ""
    # A name for a variant of the study (e.g. a remedy, ``--set variant=per_sample``): results pages
    # show its models as rows of their own ("Alg. 3 [per_sample]") beside the study without one.
    variant: str = ""
    data: DataConfig = field(default_factory=DataConfig)
    benchmark: BenchmarkConfig = field(default_factory=BenchmarkConfig)
    decode: DecodeConfig = field(default_factory=DecodeConfig)
    pretrain: PretrainConfig = field(default_factory=PretrainConfig)
    # Two FGSM steps keep Alg. 1 affordable on a CPU; the real-data configs use five.
    # Alg. 1/2's spatial model is the dynamic score's student architecture, so one static-task
    # pretraining serves both (the reference uses ResNet-18 for both).
    algorithm: AlgorithmConfig = field(default_factory=lambda: AlgorithmConfig(
        name="static_inputs", attack_steps=2, spatial=ModelConfig(name="r2d10", dropout=0.0)))
    drl: DrlConfig = field(default_factory=DrlConfig)
    dynamic_score: DynamicScoreConfig = field(default_factory=DynamicScoreConfig)
    spatial_init: SpatialInitConfig = field(default_factory=SpatialInitConfig)
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
    linear_probe: LinearProbeConfig = field(default_factory=LinearProbeConfig)
    fewshot: FewShotConfig = field(default_factory=FewShotConfig)
    resources: ResourcesConfig = field(default_factory=ResourcesConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)
    tune: TuneConfig = field(default_factory=TuneConfig)
    # The Tune search space, keyed by the dotted names of this config (``algorithm.lam``).
    search: dict[str, Distribution] = field(default_factory=_default_search)

    def __post_init__(self) -> None:
        for name, dist in self.search.items():
            _check_search(name, dist)
        names = {d.name for d in self.data.downstream}
        _check(not self.report.tsne_dataset or self.report.tsne_dataset in names, "report.tsne_dataset",
               f"{self.report.tsne_dataset!r} is not a downstream dataset ({', '.join(sorted(names))})")
