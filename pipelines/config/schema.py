"""The study's config tree. Field names are the dotted keys of the YAML and of Tune searches."""

from __future__ import annotations

from dataclasses import dataclass, field

from drl_core.config import ADDED_OPTION, AlgorithmConfig, ClipConfig, ModelConfig, OptimConfig
from drl_core.config import check as _check
from drl_core.names import ALGORITHM_NAMES, FEWSHOT_CLASSIFIERS, FEWSHOT_ITEMS, RESIZE_MODES
from pipelines.config.merge import MERGE_ONTO
from pipelines.config.resources import ResourcesConfig
from pipelines.config.search import Distribution, TuneConfig, default_search


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
    built-in benchmark (its calibration is not disturbed), JPEG for real datasets. ``resize``:
    ``bilinear`` (Pillow's filter, the long side rounded) or ``reference`` (the reference's
    ``resize_clip``: nearest neighbour, the long side truncated; :func:`pipelines.decode.video.resize_short_side`). Training clips
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
    resize: str = field(default="bilinear", metadata=ADDED_OPTION)  # session 19

    def __post_init__(self) -> None:
        _check(self.num_frames >= 1, "num_frames", "must be at least 1")
        _check(self.clip_seconds > 0, "clip_seconds", "must be positive")
        _check(self.frame_format in ("auto", "jpeg", "raw"), "frame_format",
               f"must be auto, jpeg or raw, got {self.frame_format!r}")
        _check(1 <= self.jpeg_quality <= 100, "jpeg_quality", f"must lie in [1, 100], got {self.jpeg_quality}")
        _check(self.short_side >= 8, "short_side", "must be at least 8")
        _check(self.resize in RESIZE_MODES, "resize", f"must be {' or '.join(RESIZE_MODES)}, got {self.resize!r}")
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
    # Both session 19, added options: unset, they leave every stage's cache key as it was.
    decode: DecodeConfig | None = field(default=None, metadata={MERGE_ONTO: "decode", **ADDED_OPTION})
    test_clip: ClipConfig | None = field(default=None, metadata={MERGE_ONTO: "pretrain.clip", **ADDED_OPTION})

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
    """Fine-tuning each model on each downstream dataset (a dataset's ``finetune`` overrides
    ``optim``). ``clip``: the fine-tuning clips, where they differ from the study's
    ``pretrain.clip`` (the reference jitters its downstream datasets at 0.4, Kinetics at 0.2); a
    partial block starts from ``pretrain.clip``, and its normalisation must stay that of the
    pretrained models."""

    optim: OptimConfig = field(default_factory=lambda: OptimConfig(
        optimizer="adamw", epochs=2, lr=1e-3, step_size=2, batch_size=8, weight_decay=1e-4, freeze_bn=True))
    clip: ClipConfig | None = field(default=None, metadata={MERGE_ONTO: "pretrain.clip"})


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
    ``nearest_centroid`` (cosine, the default), ``logistic`` (L-BFGS), or ``closer_softmax``, the
    reference's (a linear layer trained by SGD on each episode's support set, as its
    ``CloserBaseline``; the real-data configs use it). ``items``: ``video``, one sample per video
    (its features averaged over its test clips), or ``clip``, the reference's: every test clip of a
    support video is a sample of its own, and a query video's class is the argmax of its clips'
    mean score (the real-data configs).
    """

    ways: int = 5
    shots: tuple[int, ...] = (1, 5)
    queries: int = 10
    episodes: int = 1000
    classifier: str = "nearest_centroid"
    items: str = field(default="video", metadata=ADDED_OPTION)  # session 18
    seed: int = 0

    def __post_init__(self) -> None:
        _check(self.ways >= 2, "ways", "must be at least 2")
        _check(len(self.shots) > 0 and all(k >= 1 for k in self.shots), "shots", "needs shot counts >= 1")
        _check(self.queries >= 1, "queries", "must be at least 1")
        _check(self.episodes >= 2, "episodes", "must be at least 2 (a confidence interval needs two)")
        _check(self.classifier in FEWSHOT_CLASSIFIERS, "classifier",
               f"unknown classifier {self.classifier!r} (valid: {', '.join(FEWSHOT_CLASSIFIERS)})")
        _check(self.items in FEWSHOT_ITEMS, "items", f"must be {' or '.join(FEWSHOT_ITEMS)}, got {self.items!r}")


@dataclass(frozen=True)
class ReportConfig:
    """The report: which downstream dataset the t-SNE figure shows, and its size."""

    tsne_dataset: str = ""
    tsne_points: int = 400
    tsne_perplexity: float = 20.0

    def __post_init__(self) -> None:
        _check(self.tsne_points >= 10, "tsne_points", "must be at least 10")
        _check(self.tsne_perplexity > 1, "tsne_perplexity", "must be > 1")


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
    search: dict[str, Distribution] = field(default_factory=default_search)

    @property
    def finetune_clip(self) -> ClipConfig:
        """The clips every fine-tuning stage trains on (and tests on, but for a dataset's ``test_clip``)."""
        return self.finetune.clip or self.pretrain.clip

    def decode_of(self, ds: DatasetConfig) -> DecodeConfig:
        """How ``ds``'s splits are decoded: its own ``decode`` block, else the study's."""
        return ds.decode or self.decode

    def test_clip_of(self, ds: DatasetConfig) -> ClipConfig:
        """How ``ds``'s videos are cut as test items: its own ``test_clip``, else ``pretrain.clip``."""
        return ds.test_clip or self.pretrain.clip

    def _check_normalisation(self, clip: ClipConfig | None, key: str) -> None:
        """Another block's clips (if set) must normalise as ``pretrain.clip``, as the models were trained."""
        for stat in ("mean", "std"):
            _check(clip is None or tuple(getattr(clip, stat)) == tuple(getattr(self.pretrain.clip, stat)),
                   f"{key}.{stat}", f"must be pretrain.clip.{stat}, the normalisation the models were "
                   f"pretrained with ({list(getattr(self.pretrain.clip, stat))})")

    def __post_init__(self) -> None:
        for name, dist in self.search.items():
            _check_search(name, dist)
        self._check_normalisation(self.finetune.clip, "finetune.clip")
        _check(self.data.source.test_clip is None, "data.source.test_clip",
               "the source's test clips are pretrain.clip's: set them there")
        for group in ("downstream", "fewshot", "evaluation"):
            for i, d in enumerate(getattr(self.data, group)):
                self._check_normalisation(d.test_clip, f"data.{group}[{i}].test_clip")
        names = {d.name for d in self.data.downstream}
        _check(not self.report.tsne_dataset or self.report.tsne_dataset in names, "report.tsne_dataset",
               f"{self.report.tsne_dataset!r} is not a downstream dataset ({', '.join(sorted(names))})")
