"""The training input: a fresh clip per video every epoch, the same from Ray Data tasks and from
in-process loaders (with loader workers too), reproducible per seed."""

import dataclasses

import numpy as np
import pytest
import torch

from drl_core.config import ClipConfig
from pipelines.data.clips import train_loader
from pipelines.data.shards import open_split
from pipelines.data.ray_ingest import epoch_clock, train_dataset

CLIP = ClipConfig(crop_size=16, flip=True, jitter=0.2, hue=0.1)


def ray_epoch(ds, clock, epoch: int) -> dict[int, tuple]:
    import ray

    ray.get(clock.set.remote(epoch))
    out = {}
    for b in ds.iter_batches(batch_size=None, batch_format="numpy"):
        for k, v in enumerate(b["video"].tolist()):
            out[v] = (int(b["start"][k]), b["clips"][k].tobytes(), b["jitter"][k].tobytes())
    return out


def loader_epoch(loader, epoch: int) -> dict[int, tuple]:
    loader.dataset.set_epoch(epoch)
    out = {}
    for b in loader:
        for k, v in enumerate(b["video"].tolist()):
            out[v] = (int(b["start"][k]), b["clips"][k].numpy().tobytes(), b["jitter"][k].numpy().tobytes())
    return out


def test_clips_change_every_epoch_and_match_across_ray_data_and_loader_workers(ray_local, tmp_path, make_split):
    split = open_split(make_split(tmp_path / "train", num_classes=2, videos_per_class=5, frames=40, size=24))
    clock = epoch_clock()
    ds = train_dataset(split, CLIP, seed=3, clock=clock, cpus_per_task=0.25, videos_per_task=3)
    epochs = [ray_epoch(ds, clock, e) for e in range(3)]
    assert all(sorted(e) == list(range(10)) for e in epochs)  # every video once per epoch
    for v in range(10):
        assert len({epochs[e][v][1] for e in range(3)}) == 3  # a different clip each epoch
    starts = {epochs[e][v][0] for e in range(3) for v in range(10)}
    assert len(starts) > 5 and max(starts) <= 40 - 4
    again = train_dataset(split, CLIP, seed=3, clock=clock, cpus_per_task=0.25, videos_per_task=5)
    assert ray_epoch(again, clock, 1) == epochs[1]  # the same per seed, however tasks are cut
    other = train_dataset(split, CLIP, seed=4, clock=clock, cpus_per_task=0.25, videos_per_task=3)
    assert ray_epoch(other, clock, 1) != epochs[1]
    for workers in (0, 2):  # in-process loaders (the Tune probe, calibration) draw the same clips
        loader = train_loader(split, CLIP, batch_size=4, seed=3, num_workers=workers)
        assert loader_epoch(loader, 2) == epochs[2]
    pil = dataclasses.replace(CLIP, jitter_mode="pil")  # the reference's jitter: its order travels too
    ordered = ray_epoch(train_dataset(split, pil, seed=3, clock=clock, cpus_per_task=0.25, videos_per_task=3), clock, 1)
    assert {v: c[:2] for v, c in ordered.items()} == {v: c[:2] for v, c in epochs[1].items()}  # same clips
    params = {v: np.frombuffer(c[2], np.float32) for v, c in ordered.items()}
    assert all(len(p) == 8 and np.array_equal(p[:4], np.frombuffer(epochs[1][v][2], np.float32))
               and sorted(p[4:]) == [0, 1, 2, 3] for v, p in params.items())
    assert loader_epoch(train_loader(split, pil, batch_size=4, seed=3), 1) == ordered


@pytest.mark.parametrize("epoch", [0, 5])
def test_a_training_clip_is_the_drawn_window_and_crop_of_the_row(tmp_path, make_split, epoch):
    split = open_split(make_split(tmp_path / "train", num_classes=1, videos_per_class=2, frames=12, size=20))
    loader = train_loader(split, ClipConfig(crop_size=16, jitter=0.0), batch_size=2, seed=0)
    loader.dataset.set_epoch(epoch)
    batch = next(iter(loader))
    for k, v in enumerate(batch["video"].tolist()):
        frames, s = split.frames(v), int(batch["start"][k])
        clip = batch["clips"][k].numpy()
        found = [(t, l) for t in range(5) for l in range(5)
                 if np.array_equal(frames[s:s + 4, t:t + 16, l:l + 16], clip)]
        assert found, "the clip is not a crop of its window"
    assert torch.equal(batch["jitter"], torch.tensor([[1.0, 1.0, 1.0, 0.0]] * 2))


def test_the_idle_backoff_sleeps_only_while_no_sampling_task_runs(monkeypatch):
    """Ray Data's scheduling loop spins when every task is done and the trainer has not taken the
    outputs yet; the callback sleeps then (1 ms, doubling to 50 ms) and never while a task runs."""
    import types

    from pipelines.data import ray_ingest

    slept: list[float] = []
    monkeypatch.setattr(ray_ingest.time, "sleep", slept.append)
    callback = ray_ingest.idle_backoff_class()()
    class Operator:
        active = 0

        def num_active_tasks(self) -> int:
            return self.active

    op = Operator()
    executor = types.SimpleNamespace(_topology={op: None})
    for _ in range(8):
        callback.on_execution_step(executor)
    assert slept == [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.05, 0.05]
    op.active = 1
    callback.on_execution_step(executor)
    op.active = 0
    callback.on_execution_step(executor)
    assert slept[-1] == 0.001 and len(slept) == 9


@pytest.mark.parametrize("stream", ["training", "inference"])
def test_batches_reach_a_gpu_worker_on_the_host(ray_local, tmp_path, make_split, monkeypatch, stream):
    """Inside a Ray Train worker with a GPU, Ray's ``iter_torch_batches`` moves every column to the
    GPU unless told otherwise: the jitter parameters then had to be read back by every step. Here
    Ray resolves the worker's device to ``meta`` (a device whose tensors have no data), as it would
    to the worker's GPU, and the batches still arrive on the host."""
    from types import SimpleNamespace

    import ray.train.torch
    import ray.train.utils

    from pipelines.data.inference_stream import InferenceStream
    from pipelines.train.loop import epoch_stream

    split = open_split(make_split(tmp_path / "train", num_classes=2, videos_per_class=2, frames=8, size=20))
    monkeypatch.setattr(ray.train.utils, "_in_ray_train_worker", lambda: True)
    monkeypatch.setattr(ray.train.torch, "get_device", lambda: torch.device("meta"))
    if stream == "training":
        clock = epoch_clock()
        ds = train_dataset(split, CLIP, seed=0, clock=clock, cpus_per_task=0.25, videos_per_task=2)
        batches = list(epoch_stream(ds.iterator(), SimpleNamespace(prefetch_batches=1), clock, 0, 1, 2, False)(0))
        assert all(b["jitter"].shape == (2, 4) for b in batches)
    else:
        batches = list(InferenceStream(batch_size=2, ray_data=True).batches(split, CLIP))
    assert len(batches) == 2
    assert {t.device.type for b in batches for t in b.values()} == {"cpu"}
