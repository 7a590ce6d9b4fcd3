"""The ``search:`` block of a study config as a Ray Tune param space, and back.

Sampled values travel under one key, ``params``, with the config's dotted names
(``{"params": {"algorithm.lam": 0.3}}``), so a trial applies them with
:func:`pipelines.config.loader.with_values` and MLflow records them under the same names.
"""

from __future__ import annotations

from typing import Any

from pipelines.config.loader import with_values
from pipelines.config.schema import StudyConfig
from pipelines.config.search import Distribution


def tune_domain(dist: Distribution) -> Any:
    """One Tune search domain (or grid) for a :class:`Distribution`."""
    from ray import tune

    if dist.kind == "uniform":
        return tune.uniform(*dist.uniform)
    if dist.kind == "loguniform":
        return tune.loguniform(*dist.loguniform)
    if dist.kind == "choice":
        return tune.choice(list(dist.choice))
    return tune.grid_search(list(dist.grid))


def param_space(cfg: StudyConfig) -> dict[str, Any]:
    """``{"params": {dotted name: domain}}`` for every entry of ``cfg.search``."""
    if not cfg.search:
        raise ValueError("search: the config's search block is empty; name at least one key to search "
                         "(e.g. algorithm.lam: {loguniform: [0.05, 2.0]})")
    return {"params": {name: tune_domain(dist) for name, dist in cfg.search.items()}}


def trial_config(cfg: StudyConfig, params: dict[str, Any]) -> StudyConfig:
    """The study config of one trial: ``cfg`` with the sampled ``params`` (dotted names) set and
    the searched algorithm as the only DRL algorithm."""
    return with_values(cfg, {**params, "drl.algorithms": [cfg.tune.algorithm]})
