"""The study's config tree. Field names are the dotted keys of the YAML and of Tune searches."""

from __future__ import annotations

from dataclasses import dataclass, field

from drl_core.config import ClipConfig, ModelConfig, OptimConfig
from drl_core.config import check as _check


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
    crf: int = 18

    def __post_init__(self) -> None:
        _check(0.0 <= self.bias <= 1.0, "bias", f"must lie in [0, 1], got {self.bias}")
        _check(16 <= self.size <= 512, "size", f"must lie in [16, 512], got {self.size}")
        _check(len(self.fps) > 0 and min(self.fps) > 0, "fps", "needs positive frame rates")
        _check(0 < self.duration[0] <= self.duration[1], "duration", "needs 0 < min <= max")
        for name in ("source_train_per_class", "source_test_per_class",
                     "downstream_train_per_class", "downstream_test_per_class"):
            _check(getattr(self, name) >= 1, name, "must be at least 1")
        _check(0 <= self.crf <= 51, "crf", "must lie in [0, 51]")


@dataclass(frozen=True)
class DecodeConfig:
    """Decoding videos into Arrow shards: clip sampling, resizing, robustness and batching."""

    num_frames: int = 8
    clip_seconds: float = 1.0
    train_clips: int = 4
    test_clips: int = 10
    short_side: int = 32
    backends: tuple[str, ...] = ("decord", "pyav")
    timeout_s: float = 60.0
    isolate: bool = True
    max_calls: int = 16
    videos_per_task: int = 8

    def __post_init__(self) -> None:
        _check(self.num_frames >= 1, "num_frames", "must be at least 1")
        _check(self.clip_seconds > 0, "clip_seconds", "must be positive")
        _check(self.train_clips >= 1 and self.test_clips >= 1, "train_clips", "clip counts must be >= 1")
        _check(self.short_side >= 8, "short_side", "must be at least 8")
        known = {"decord", "pyav"}
        for b in self.backends:
            _check(b in known, "backends", f"unknown backend {b!r} (valid: {', '.join(sorted(known))})")
        _check(len(self.backends) > 0, "backends", "needs at least one backend")
        _check(self.timeout_s > 0, "timeout_s", "must be positive")
        _check(self.max_calls >= 0, "max_calls", "must be >= 0 (0 means never recycle)")
        _check(self.videos_per_task >= 1, "videos_per_task", "must be at least 1")


@dataclass(frozen=True)
class CalibrationConfig:
    """The calibration runs that fix the benchmark's default bias before any study."""

    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(
        optimizer="adamw", epochs=25, lr=1e-3, step_size=20, batch_size=16, weight_decay=1e-4))
    clip: ClipConfig = field(default_factory=ClipConfig)
    seeds: tuple[int, ...] = (0,)


@dataclass(frozen=True)
class StudyConfig:
    """The whole study. ``output_dir`` defaults to the command line's ``--output-dir``."""

    seed: int = 0
    output_dir: str = ""
    benchmark: BenchmarkConfig = field(default_factory=BenchmarkConfig)
    decode: DecodeConfig = field(default_factory=DecodeConfig)
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)
