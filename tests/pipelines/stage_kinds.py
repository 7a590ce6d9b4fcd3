"""A stage kind for the runner's tests: it records that it ran, and can wait or fail on request.

Its config is a dict: ``value`` (folded into its output), ``sleep`` (seconds), ``fail``, and
``meet`` (another stage's name: wait, up to a minute, until that stage has started too, which
only stages running at the same time can do), ``leave_group`` (make a placement group, note it
as a Ray Train run whose controller died would have, and fail). A stage with ``data_cpus``
returns its placement group's bundles instead of recording its run.
"""

from __future__ import annotations

import json
import time

from pipelines.stages.base import StageContext


def run(ctx: StageContext) -> dict:
    cfg = ctx.config
    start = time.time()
    time.sleep(cfg.get("sleep", 0))
    if cfg.get("meet"):
        (ctx.output_dir / f"{ctx.spec.name}.started").touch()
        other = ctx.output_dir / f"{cfg['meet']}.started"
        while not other.exists():
            if time.time() - start > 60:
                raise TimeoutError(f"{ctx.spec.name}: {cfg['meet']} did not run at the same time")
            time.sleep(0.05)
    if cfg.get("leave_group"):
        from ray.util.placement_group import placement_group

        from pipelines.train.placement_notes import note_group

        group = placement_group([{"CPU": 0.5}])
        (ctx.output_dir / "left_group").write_text(group.id.hex())
        note_group(ctx.dir, group.id.hex())
        raise ValueError(f"{ctx.spec.name}: failing with a placement group left behind")
    if cfg.get("fail"):
        raise ValueError(f"{ctx.spec.name}: failing as asked")
    total = cfg.get("value", 0) + sum(r.outputs["total"] for r in ctx.inputs.values())
    if ctx.data_group is not None:  # the bundles of the placement group the stage runs in
        return {"total": total, "bundles": ctx.data_group.bundle_specs, "group": ctx.data_group.id.hex()}
    with open(ctx.output_dir / "runs.jsonl", "a") as f:
        f.write(json.dumps({"stage": ctx.spec.name, "start": start, "end": time.time()}) + "\n")
    return {"total": total, "metrics": {"total": total}}
