"""Test clips cut by Ray Data tasks: the same batches as cut in-process, the same predictions,
and no deadlock when every CPU is held by stage tasks that wait on them."""

import numpy as np
import torch

from drl_core.config import ClipConfig
from drl_core.models import create_model
from pipelines.data.shards import open_split
from pipelines.data.inference_stream import InferenceStream
from pipelines.evaluation import distilled_score, predictions

CLIP = ClipConfig(crop_size=16, test_clips=3)


def batches(stream: InferenceStream, split) -> list[dict[str, np.ndarray]]:
    return [{k: np.asarray(v) for k, v in b.items()} for b in stream.batches(split, CLIP)]


def test_ray_data_cuts_the_same_batches_in_the_same_order(ray_local, tmp_path, make_split):
    split = open_split(make_split(tmp_path / "test", num_classes=3, videos_per_class=4, frames=14, size=20))
    local = batches(InferenceStream(5), split)
    remote = batches(InferenceStream(5, ray_data=True, cpus_per_task=0.25, max_tasks=2), split)
    assert [len(b["video"]) for b in local] == [len(b["video"]) for b in remote] == [5, 5, 2]
    for a, b in zip(local, remote):
        assert set(a) == set(b) == {"clips", "label", "video"}
        for k in a:
            assert a[k].shape == b[k].shape and np.array_equal(a[k], b[k]), k
    assert local[0]["clips"].shape == (5, 3, 4, 16, 16, 3) and local[0]["clips"].dtype == np.uint8
    assert np.concatenate([b["video"] for b in remote]).tolist() == list(range(12))


def test_scores_are_bit_identical_however_the_clips_are_cut(ray_local, tmp_path, make_split):
    path = make_split(tmp_path / "test", num_classes=3, videos_per_class=3, frames=14, size=20)
    torch.manual_seed(0)
    teacher = create_model("r3d10", num_classes=3, width=4)
    student = create_model("r2d10", num_classes=3, width=4)
    cpu = torch.device("cpu")
    here, there = InferenceStream(4), InferenceStream(4, ray_data=True)
    a, _ = predictions(teacher, path, CLIP, here, cpu)
    b, _ = predictions(teacher, path, CLIP, there, cpu)
    assert torch.equal(a.logits, b.logits) and torch.equal(a.features, b.features)
    assert torch.equal(a.labels, b.labels) and torch.equal(a.videos, b.videos)
    assert distilled_score(teacher, student, path, CLIP, here, cpu) == distilled_score(teacher, student, path, CLIP,
                                                                                       there, cpu)


def test_stages_that_could_hold_every_cpu_still_get_their_clips_cut(ray_local, tmp_path, make_split):
    """Three 1-CPU stage tasks on the 2-CPU cluster, each waiting on Ray Data tasks of its own.
    Unreserved, two of them held both CPUs and waited forever (seen before the fix). Each now
    reserves its tasks' CPUs with its own (``data_cpus``), and every stage finishes."""
    import ray

    from pipelines.stages.base import StageSpec
    from pipelines.stages.runner import task_options

    path = make_split(tmp_path / "test", num_classes=2, videos_per_class=3, frames=10, size=20)

    def videos_seen() -> list[int]:
        stream = InferenceStream(2, ray_data=True, max_tasks=2).within(ray.util.get_current_placement_group())
        return [v for b in stream.batches(open_split(path), CLIP) for v in b["video"].tolist()]

    spec = StageSpec("evaluate/x", "evaluate", None, resources={"num_cpus": 1}, data_cpus=0.5)
    groups = {}
    for _ in range(3):
        options, group = task_options(spec)
        groups[ray.remote(videos_seen).options(**options).remote()] = group
    seen = []
    try:
        while len(seen) < 3:  # as the runner does: a finished stage's group is removed
            done, _ = ray.wait(list(groups), num_returns=1, timeout=300)
            assert done, "a stage waited five minutes"
            seen.append(ray.get(done[0]))
            ray.util.remove_placement_group(groups.pop(done[0]))
    finally:
        for group in groups.values():
            ray.util.remove_placement_group(group)
    assert seen == [list(range(6))] * 3
