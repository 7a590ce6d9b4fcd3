"""The ``tune`` and ``search`` blocks: how Ray Tune searches, and the distributions it searches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drl_core.config import check as _check
from drl_core.metrics import keys
from drl_core.names import ALGORITHM_NAMES


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


def default_search() -> dict[str, Distribution]:
    return {"algorithm.alpha": Distribution(uniform=(0.1, 0.9)), "algorithm.beta": Distribution(uniform=(0.1, 0.9)),
            "algorithm.lam": Distribution(loguniform=(0.05, 2.0))}
