"""The typed configs drl_core consumes. The pipelines load them from YAML; here they are plain.

All are frozen dataclasses; derive variants with ``dataclasses.replace``.
"""

from __future__ import annotations

from dataclasses import Field, dataclass, field
from typing import Any

from drl_core.names import ALGORITHM_NAMES, CENTRE_OFFSETS, JITTER_MODES, MODEL_NAMES, TEST_SPACINGS

# Field metadata of an option added after results were cached: while it holds its default it is
# no part of a stage's cache key, so stages cached before it existed (which ran as its default)
# stay valid (pipelines.stages.base.key_form reads it).
_ADDED = "added_option"
ADDED_OPTION = {_ADDED: True}


def added_at_default(f: Field, value: Any) -> bool:
    """Whether config field ``f``, holding ``value``, is an :data:`ADDED_OPTION` at its default."""
    return bool(f.metadata.get(_ADDED)) and value == f.default


def check(cond: bool, key: str, message: str) -> None:
    """Raise ``ValueError('key: message')`` unless ``cond``; the config loader prefixes the key path."""
    if not cond:
        raise ValueError(f"{key}: {message}")


@dataclass(frozen=True)
class ModelConfig:
    """A backbone from :func:`drl_core.models.create_model` and its width.

    ``width`` is the channel count of the first stage: 64 is the published ResNet; smaller
    values give the reduced-width variants used on CPUs. ``stem_pool`` keeps the stem's max-pool
    (the published models); the CPU defaults drop it, since at 28-pixel inputs it erases most of
    the motion (see docs/CALIBRATION.md). ``dropout`` before the classifier, in training only:
    0.5 as in every video config of the reference code; the spatial models use none.
    """

    name: str = "r3d18"
    width: int = 8
    stem_pool: bool = False
    checkpoint: str = ""
    dropout: float = 0.5

    def __post_init__(self) -> None:
        check(self.name in MODEL_NAMES, "name", f"unknown model {self.name!r} (valid: {', '.join(MODEL_NAMES)})")
        check(self.width >= 4 and self.width % 4 == 0, "width", f"must be a multiple of 4, >= 4; got {self.width}")
        check(0 <= self.dropout < 1, "dropout", f"must lie in [0, 1), got {self.dropout}")


@dataclass(frozen=True)
class OptimConfig:
    """SGD (the paper's) or AdamW, with a step schedule (lr × ``gamma`` every ``step_size`` epochs)."""

    optimizer: str = "sgd"
    epochs: int = 50
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    step_size: int = 20
    gamma: float = 0.1
    batch_size: int = 64
    accumulate: int = 1
    freeze_bn: bool = False

    def __post_init__(self) -> None:
        check(self.optimizer in ("sgd", "adamw"), "optimizer", f"must be sgd or adamw, got {self.optimizer!r}")
        check(self.epochs >= 0, "epochs", f"must be >= 0, got {self.epochs}")
        check(self.lr > 0, "lr", f"must be positive, got {self.lr}")
        check(0 <= self.momentum < 1, "momentum", f"must lie in [0, 1), got {self.momentum}")
        check(0 < self.gamma <= 1, "gamma", f"must lie in (0, 1], got {self.gamma}")
        check(self.weight_decay >= 0, "weight_decay", f"must be >= 0, got {self.weight_decay}")
        check(self.step_size >= 1, "step_size", f"must be >= 1, got {self.step_size}")
        check(self.batch_size >= 1, "batch_size", f"must be >= 1, got {self.batch_size}")
        check(self.accumulate >= 1, "accumulate", f"must be >= 1, got {self.accumulate}")


@dataclass(frozen=True)
class ClipConfig:
    """Training and test transforms applied to decoded clips (T×H×W×3 uint8).

    ``flip`` defaults off: on the synthetic benchmark a horizontal flip turns "moving right"
    into "moving left". The paper's real-data configs switch it on. ``jitter`` is the brightness,
    contrast and saturation strength, ``hue`` the largest hue shift (a fraction of a turn; the
    reference's Kinetics configs use 0.2 for all four). ``test_clips``: how many uniformly spaced
    clips a test video is scored on (the logits are averaged; centre crops; the paper uses 10).
    ``jitter_mode``: ``float``, the four operations in a fixed order in float on the device, or
    ``pil``, the reference's: torchvision's PIL functions in a random order per clip, bit for bit
    (:mod:`drl_core.data.pil_jitter`; still on the device). ``test_spacing``: where the test
    windows lie in a video's row, ``span`` (the first at its start, the last at its end) or
    ``segments`` (the reference's: the row less one clip and a frame cut into ``test_clips``
    equal segments, a window at each centre). ``test_sparse``: the reference's ``sparse``
    sampling, each test item made of frame m of every window (T items of ``test_clips`` frames).
    ``centre_offset``: the test crop's corner, ``floor`` of half the margin or ``round`` (Python's,
    half to even: the reference's ``CenterCrop``).
    """

    crop_size: int = 28
    flip: bool = False
    jitter: float = 0.2
    hue: float = 0.0
    mean: tuple[float, float, float] = (0.45, 0.45, 0.45)
    std: tuple[float, float, float] = (0.225, 0.225, 0.225)
    test_clips: int = 10
    jitter_mode: str = field(default="float", metadata=ADDED_OPTION)  # session 18
    test_spacing: str = field(default="span", metadata=ADDED_OPTION)  # session 19
    test_sparse: bool = field(default=False, metadata=ADDED_OPTION)  # session 19
    centre_offset: str = field(default="floor", metadata=ADDED_OPTION)  # session 19

    def __post_init__(self) -> None:
        check(self.test_clips >= 1, "test_clips", f"must be at least 1, got {self.test_clips}")
        check(self.jitter_mode in JITTER_MODES, "jitter_mode",
              f"must be {' or '.join(JITTER_MODES)}, got {self.jitter_mode!r}")
        check(self.test_spacing in TEST_SPACINGS, "test_spacing",
              f"must be {' or '.join(TEST_SPACINGS)}, got {self.test_spacing!r}")
        check(self.centre_offset in CENTRE_OFFSETS, "centre_offset",
              f"must be {' or '.join(CENTRE_OFFSETS)}, got {self.centre_offset!r}")
        check(self.crop_size >= 8, "crop_size", f"must be >= 8, got {self.crop_size}")
        check(0 <= self.jitter < 1, "jitter", f"must lie in [0, 1), got {self.jitter}")
        check(0 <= self.hue <= 0.5, "hue", f"must lie in [0, 0.5] (a fraction of a turn), got {self.hue}")
        check(min(self.std) > 0, "std", "must be positive")


@dataclass(frozen=True)
class AlgorithmConfig:
    """Which training objective to use and its weights (defaults from the paper's supplement).

    Names: ``supervised``, ``adversarial`` (Alg. 1), ``spatial_adversary`` (Alg. 2),
    ``static_inputs`` (Alg. 3). ``attack_target``: what Alg. 1's attack pushes the spatial model
    away from, the video model's prediction (``predicted``, the reference's) or the ``label``.
    """

    name: str = "supervised"
    alpha: float = 0.5
    beta: float = 0.5
    lam: float = 0.5
    epsilon: float = 8 / 255
    attack: str = "fgsm"
    attack_steps: int = 5
    attack_target: str = "predicted"
    static_mode: str = "freeze"
    per_sample_scaling: bool = False
    temperature: float = 1.0
    spatial: ModelConfig = field(default_factory=lambda: ModelConfig(name="r2d18", dropout=0.0))

    def __post_init__(self) -> None:
        check(self.name in ALGORITHM_NAMES, "name",
               f"unknown algorithm {self.name!r} (valid: {', '.join(ALGORITHM_NAMES)})")
        for key in ("alpha", "beta"):
            check(0.0 <= getattr(self, key) <= 1.0, key, f"must lie in [0, 1], got {getattr(self, key)}")
        check(self.lam >= 0, "lam", f"must be >= 0, got {self.lam}")
        check(self.epsilon >= 0, "epsilon", f"must be >= 0, got {self.epsilon}")
        check(self.attack in ("fgsm", "pgd"), "attack", f"must be fgsm or pgd, got {self.attack!r}")
        check(self.attack_steps >= 1, "attack_steps", "must be >= 1")
        check(self.attack_target in ("predicted", "label"), "attack_target",
              f"must be predicted (the video model's prediction, as the reference) or label, got {self.attack_target!r}")
        check(self.static_mode in ("freeze", "shuffle"), "static_mode",
               f"must be freeze or shuffle, got {self.static_mode!r}")
        check(self.temperature > 0, "temperature", "must be positive")
