"""Run the study's DAG on Ray: every stage whose inputs are ready runs at once, as a Ray task,
within the cluster's resources; finished stages are reused by key; a failure stops only the
stages that depend on it."""

from __future__ import annotations

import importlib
import time
from pathlib import Path
from typing import Any, Callable

from pipelines import run_tags
from pipelines.config.loader import to_dict
from pipelines.stages.base import (StageContext, StageResult, StageSpec, read_result, stage_dir,
                                   stage_key, write_result)

KINDS = {
    "generate": "pipelines.stages.generate",
    "decode": "pipelines.stages.decode",
    "train": "pipelines.stages.train",
    "evaluate": "pipelines.stages.evaluate",
    "linear_probe": "pipelines.stages.linear_probe",
    "fewshot": "pipelines.stages.fewshot",
    "report": "pipelines.stages.report",
}


class StudyFailed(RuntimeError):
    """Some stages failed (and their dependants did not run); the message lists them."""


def execute(spec: StageSpec, module_name: str, key: str, folder: str, inputs: dict[str, StageResult],
            study: Any, output_dir: str, tracker: Any = None, run_id: str | None = None) -> StageResult:
    """Run one stage here (inside its Ray task) with ``module_name.run``, write its result and
    log it to MLflow."""
    module = importlib.import_module(module_name)
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    group = None
    if spec.data_cpus:
        import ray

        group = ray.util.get_current_placement_group()
    ctx = StageContext(spec, key, path, inputs, study, Path(output_dir), tracker, run_id, group)
    start = time.perf_counter()
    outputs = module.run(ctx)
    content_key = outputs.get("key") or key
    result = StageResult(spec.name, content_key, folder, outputs, bool(outputs.get("cached")),
                         time.perf_counter() - start)
    write_result(result)
    if tracker is not None:
        import ray

        metrics = {**outputs.get("metrics", {}), "stage_seconds": result.seconds}
        ray.get(tracker.log_metrics.remote(run_id, metrics, 0))
        for artifact in outputs.get("artifacts", []):
            ray.get(tracker.log_artifact.remote(run_id, str(artifact)))
    return result


def task_options(spec: StageSpec) -> tuple[dict, Any]:
    """The Ray task options of ``spec``'s task, and the placement group made for it (None unless
    it has ``data_cpus``: then its own resources and those CPUs, in two bundles, the task in the
    first, so that it starts only once its data tasks are sure of their CPUs)."""
    if not spec.data_cpus:
        return dict(spec.resources), None
    import ray
    from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

    own = {"CPU": float(spec.resources.get("num_cpus", 1)), "GPU": float(spec.resources.get("num_gpus", 0))}
    group = ray.util.placement_group([{k: v for k, v in own.items() if v}, {"CPU": spec.data_cpus}], strategy="PACK")
    options = {k: v for k, v in spec.resources.items() if k not in ("num_cpus", "num_gpus")}
    options.update(num_cpus=own["CPU"], num_gpus=own["GPU"],
                   scheduling_strategy=PlacementGroupSchedulingStrategy(group, placement_group_bundle_index=0))
    return options, group


def validate(specs: list[StageSpec]) -> None:
    """Unique names, known kinds, dependencies that exist and come earlier (no cycles)."""
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise ValueError(f"stage {spec.name!r} appears twice")
        if spec.kind not in KINDS:
            raise ValueError(f"stage {spec.name!r}: unknown kind {spec.kind!r}")
        for role, dep in spec.deps:
            if dep not in seen:
                raise ValueError(f"stage {spec.name!r}: input {role!r} names {dep!r}, which is not an earlier stage")
        seen.add(spec.name)


class StudyRunner:
    """Schedules the stages of one study; see :meth:`run`."""

    def __init__(self, specs: list[StageSpec], study: Any, output_dir: Path, tracker: Any = None,
                 parent_id: str | None = None, log: Callable[[str], None] = print,
                 limits: dict[str, int] | None = None) -> None:
        validate(specs)
        self.specs, self.study, self.output_dir = specs, study, Path(output_dir)
        self.limits = limits or {}
        self.tracker, self.parent_id, self.log = tracker, parent_id, log
        self.done: dict[str, StageResult] = {}
        self.failed: dict[str, str] = {}
        self.running: dict[Any, tuple[StageSpec, str | None]] = {}
        self.folders: dict[Any, Path] = {}  # a running stage's folder
        self.groups: dict[Any, Any] = {}  # a running stage's placement group (with data_cpus)
        self.run_ids: dict[str, str] = {}  # stage name → its MLflow run in this study

    def run(self) -> dict[str, StageResult]:
        """Run every stage (reusing finished ones); raise :class:`StudyFailed` if any failed."""
        import ray

        pending = list(self.specs)
        while pending or self.running:
            pending = self._launch_ready(pending)
            if not self.running:
                continue
            ready, _ = ray.wait(list(self.running), num_returns=1)
            self._collect(ready[0])
        if self.failed:
            failed = {n: why for n, why in self.failed.items() if not why.startswith("skipped")}
            skipped = len(self.failed) - len(failed)
            raise StudyFailed("; ".join(f"{n}: {why}" for n, why in failed.items())
                              + (f" ({skipped} dependent stages did not run)" if skipped else ""))
        return self.done

    def _launch_ready(self, pending: list[StageSpec]) -> list[StageSpec]:
        waiting = []
        for spec in pending:
            deps = [dep for _, dep in spec.deps]
            if any(d in self.failed for d in deps):
                self.failed[spec.name] = "skipped: an input stage failed"
            elif all(d in self.done for d in deps) and self._has_slot(spec):
                self._start(spec)
            else:
                waiting.append(spec)
        return waiting

    def _has_slot(self, spec: StageSpec) -> bool:
        if spec.pool not in self.limits:
            return True
        busy = sum(1 for s, _ in self.running.values() if s.pool == spec.pool)
        return busy < self.limits[spec.pool]

    def _start(self, spec: StageSpec) -> None:
        import ray

        inputs = {role: self.done[dep] for role, dep in spec.deps}
        key = stage_key(spec, {role: r.key for role, r in inputs.items()})
        folder = stage_dir(self.output_dir, spec.name, key)
        cached = None if spec.always_run else read_result(folder, spec.name)
        if cached is not None:
            self._record_cached(spec, cached)
            return
        run_id = self._create_run(spec, key, {})
        options, group = task_options(spec)
        task = ray.remote(execute).options(max_retries=1, **options)
        ref = task.remote(spec, KINDS[spec.kind], key, str(folder), inputs, self.study, str(self.output_dir),
                          self.tracker, run_id)
        self.running[ref] = (spec, run_id)
        self.folders[ref] = folder
        if group is not None:
            self.groups[ref] = group
        self.log(f"[study] started {spec.name}")

    def _collect(self, ref: Any) -> None:
        import ray

        spec, run_id = self.running.pop(ref)
        folder = self.folders.pop(ref)
        if ref in self.groups:
            ray.util.remove_placement_group(self.groups.pop(ref))
        try:
            result = ray.get(ref)
        except Exception as err:  # noqa: BLE001 - any stage failure is reported, the rest goes on
            from pipelines.train.placement_notes import remove_noted_groups  # (imports ray.train: only here)

            remove_noted_groups(folder)  # its Ray Train runs' groups, if their controllers died with it
            reason = str(err).strip().splitlines()[-1][:500] if str(err).strip() else type(err).__name__
            self.failed[spec.name] = reason
            self._end_run(run_id, "FAILED")
            self.log(f"[study] FAILED {spec.name}:\n{err}")
            return
        self.done[spec.name] = result
        self._end_run(run_id, "FINISHED")
        self.log(f"[study] finished {spec.name} in {result.seconds:.1f} s" + (" (reused)" if result.cached else ""))

    def _record_cached(self, spec: StageSpec, result: StageResult) -> None:
        import ray

        self.done[spec.name] = result
        run_id = self._create_run(spec, result.key, {run_tags.CACHED: "true", run_tags.STAGE_DIR: result.dir})
        if run_id is not None:
            ray.get(self.tracker.log_metrics.remote(run_id, result.outputs.get("metrics", {}), 0))
            self._end_run(run_id, "FINISHED")
        self.log(f"[study] reused {spec.name} ({result.dir})")

    def _create_run(self, spec: StageSpec, key: str, tags: dict[str, str]) -> str | None:
        import ray

        if self.tracker is None:
            return None
        params = to_dict(spec.config) if not isinstance(spec.config, dict) else spec.config
        tags = {run_tags.STAGE: spec.name, run_tags.KIND: spec.kind, run_tags.KEY: key, **tags}
        run_id = ray.get(self.tracker.create_run.remote(spec.name, self.parent_id, params, tags))
        self.run_ids[spec.name] = run_id
        return run_id

    def _end_run(self, run_id: str | None, status: str) -> None:
        import ray

        if run_id is not None:
            ray.get(self.tracker.end_run.remote(run_id, status))

    def stop(self) -> None:
        """Cancel running stages and end their runs KILLED (the driver is being stopped)."""
        import ray

        for ref, (_, run_id) in list(self.running.items()):
            ray.cancel(ref, force=True)
            self._end_run(run_id, "KILLED")
        for group in self.groups.values():
            ray.util.remove_placement_group(group)
        from pipelines.train.placement_notes import remove_noted_groups

        for folder in self.folders.values():
            remove_noted_groups(folder)
        self.running.clear()
        self.groups.clear()
        self.folders.clear()
