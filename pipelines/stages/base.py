"""The shape every stage has: a spec (what to run), a context (what it gets), a result.

A stage module exposes ``run(ctx: StageContext) -> dict``. The dict holds ``metrics`` (flat
name → number, logged to the stage's MLflow run), ``artifacts`` (paths to log) and anything
later stages read. The runner writes it to ``<stage dir>/result.json``, which marks the stage
finished: a later study with the same key reuses it instead of running the stage again.

The study's driver imports the modules whose config classes its DAG names (evaluate, fewshot,
linear_probe, decode, report) and never runs them: those import torch, MLflow and Ray Train
inside ``run``, not at the top (``tests/pipelines/test_driver.py``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drl_core.config import added_at_default
from pipelines.config.loader import to_dict


STAGE_VERSION = 2  # bump to invalidate every cached stage after a change in what stages compute
RESULT_FILE = "result.json"
# Field metadata of a setting that cannot change a stage's result (batch size of inference, loader
# workers): it is a param of the stage's MLflow run but no part of its cache key.
RUNTIME = {"runtime": True}


def key_form(value: Any) -> Any:
    """The plain form of a stage config for its cache key: :func:`to_dict` without the fields
    marked :data:`RUNTIME`, nor those marked ``ADDED_OPTION`` (:mod:`drl_core.config`) that hold
    their default, at any depth."""
    def skip(f: Any, v: Any) -> bool:
        return bool(f.metadata.get("runtime")) or added_at_default(f, v)

    return to_dict(value, skip=skip)


@dataclass(frozen=True)
class StageSpec:
    """One node of the study's DAG.

    Attributes:
        name: unique, readable, ``/``-separated (``pretrain/baseline``); also its MLflow run name.
        kind: which stage module runs it (see :data:`pipelines.stages.KINDS`).
        config: the stage's own config (a dataclass); its params and part of its key.
        deps: ``(role, stage name)`` pairs: the stage reads each dependency's result by role.
        always_run: for self-caching data stages, which check their inputs' content themselves.
        resources: Ray task options (``num_cpus``, ``num_gpus``) of the stage's task.
        pool: stages of one pool share a concurrency limit (``train``: as many Ray Train runs as
            the cluster can host at once, so that no run waits for workers while holding a slot).
        data_cpus: CPUs reserved beside the task for the Ray Data tasks it starts (test clips):
            the task and they share a placement group, the task's bundle first, so stages that
            hold every CPU cannot starve their own data tasks (:attr:`StageContext.data_group`).
    """

    name: str
    kind: str
    config: Any
    deps: tuple[tuple[str, str], ...] = ()
    always_run: bool = False
    resources: dict = field(default_factory=dict)
    pool: str = ""
    data_cpus: float = 0.0


@dataclass
class StageResult:
    """A finished stage: its key, folder and outputs. ``key`` is what dependants hash."""

    name: str
    key: str
    dir: str
    outputs: dict
    cached: bool = False
    seconds: float = 0.0


@dataclass
class StageContext:
    """Everything a stage's ``run`` gets: its spec and key, its own folder, its inputs by role,
    the study (config and output folder), where to log (tracker actor and MLflow run id), and
    the placement group whose second bundle holds its ``data_cpus`` (None without)."""

    spec: StageSpec
    key: str
    dir: Path
    inputs: dict[str, StageResult]
    study: Any
    output_dir: Path
    tracker: Any = None
    run_id: str | None = None
    data_group: Any = None

    @property
    def config(self) -> Any:
        return self.spec.config


def stage_key(spec: StageSpec, input_keys: dict[str, str]) -> str:
    """Hash of the stage's kind, config (less its runtime fields) and its inputs' keys."""
    payload = {"kind": spec.kind, "config": key_form(spec.config), "inputs": dict(sorted(input_keys.items())),
               "version": STAGE_VERSION}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def stage_dir(output_dir: Path, name: str, key: str) -> Path:
    return output_dir / "stages" / name / key


def read_result(folder: Path, name: str) -> StageResult | None:
    """The result a finished stage left in ``folder``, or None."""
    path = folder / RESULT_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    return StageResult(name, data["key"], str(folder), data["outputs"], True, data.get("seconds", 0.0))


def write_result(result: StageResult) -> None:
    """Write ``result.json`` atomically (a killed stage never leaves a half-written marker)."""
    folder = Path(result.dir)
    tmp = folder / (RESULT_FILE + ".tmp")
    tmp.write_text(json.dumps({"key": result.key, "outputs": result.outputs, "seconds": result.seconds},
                              indent=1, default=str))
    tmp.replace(folder / RESULT_FILE)
