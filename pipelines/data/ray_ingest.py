"""The Ray Data input of a training stage: a fresh 1-s clip per video every epoch, sampled,
cropped and flipped by Ray Data tasks on any node's CPUs, streamed into Ray Train.

The dataset is the range of video positions. Each task asks the run's :class:`EpochClock`
which epoch it serves, maps positions to videos through that epoch's order, reads each video's
row group and cuts its clip (:func:`pipelines.data.clips.train_item`): draws depend on (seed,
epoch, video) only. Ray Train splits the stream equally over its workers
(``streaming_split(equal=True)``), so every worker takes the same number of steps.

Test clips stream the same way, without the clock (:func:`test_dataset`, used by
:class:`pipelines.data.inference_stream.InferenceStream`).
"""

from __future__ import annotations

import math
import time

import numpy as np

from drl_core.config import ClipConfig
from pipelines.data.cutting import epoch_order, test_batch, train_item
from pipelines.data.shards import SplitIndex

DATASET = "train"  # the name Ray Train's workers ask get_dataset_shard for
_ORDERS: dict[tuple[int, int, int], np.ndarray] = {}  # per data worker: the last epoch's order


def epoch_clock():
    """An actor that holds the epoch being streamed; set by the training workers, read by tasks."""
    import ray

    @ray.remote(num_cpus=0)
    class EpochClock:
        def __init__(self) -> None:
            self.epoch = 0

        def set(self, epoch: int) -> None:
            self.epoch = epoch

        def get(self) -> int:
            return self.epoch

    return EpochClock.remote()


IDLE_SLEEP_S = (0.001, 0.05)  # the idle back-off's first and longest sleep


def idle_backoff_class():
    """A Ray Data execution callback: sleep in a scheduling step that finds no task running,
    1 ms at first and doubling up to 50 ms while it stays idle. Ray Data's loop blocks in
    ``ray.wait`` only while some task runs; when all are done and their outputs wait for the
    consumer (training slower than sampling, the usual case), it spins: measured at 87% of a core
    in the split coordinator beside a 2-core CPU training stage, 9.5-11.5 s epochs instead of 16-23 s."""
    from ray.data._internal.execution.execution_callback import ExecutionCallback

    class IdleBackoff(ExecutionCallback):
        def __init__(self) -> None:
            self.sleep = IDLE_SLEEP_S[0]

        def on_execution_step(self, executor) -> None:
            topology = getattr(executor, "_topology", None) or {}
            if not topology or any(op.num_active_tasks() for op in topology):
                self.sleep = IDLE_SLEEP_S[0]
                return
            time.sleep(self.sleep)
            self.sleep = min(2 * self.sleep, IDLE_SLEEP_S[1])

    IdleBackoff.__qualname__ = IdleBackoff.__name__ = "IdleBackoff"
    return IdleBackoff


def task_limit(max_tasks: int) -> dict:
    """``map_batches`` arguments for at most ``max_tasks`` tasks at once (0: no limit)."""
    from ray.data import TaskPoolStrategy

    return {"compute": TaskPoolStrategy(size=max_tasks)} if max_tasks else {}


def _order(seed: int, epoch: int, count: int) -> np.ndarray:
    key = (seed, epoch, count)
    if key not in _ORDERS:
        _ORDERS.clear()
        _ORDERS[key] = epoch_order(seed, epoch, count)
    return _ORDERS[key]


def sample_clips(batch: dict[str, np.ndarray], index: SplitIndex, clip: ClipConfig, seed: int,
                 clock) -> dict[str, np.ndarray]:
    """Ray Data map function: positions ``batch["id"]`` → their videos' training clips of the
    clock's epoch (``clips`` uint8 B×T×S×S×3, ``label``, ``video``, ``start``, ``jitter`` B×4 or B×8)."""
    import ray

    epoch = ray.get(clock.get.remote())
    order = _order(seed, epoch, len(index))
    positions = batch["id"].tolist()
    size = clip.crop_size
    clips = np.empty((len(positions), index.clip_frames, size, size, 3), np.uint8)  # cut straight into the batch
    items = [train_item(index, int(order[p]), clip, seed, epoch, clips[k]) for k, p in enumerate(positions)]
    rest = {k: np.stack([np.asarray(item[k]) for item in items]) for k in ("label", "video", "start", "jitter")}
    return {"clips": clips, **rest}


def train_dataset(index: SplitIndex, clip: ClipConfig, seed: int, clock, cpus_per_task: float,
                  videos_per_task: int, max_tasks: int = 0):
    """The stage's training stream (a lazy ``ray.data.Dataset``, executed afresh every epoch), at
    most ``max_tasks`` sampling tasks at once (0: as many as the CPUs allow); fewer tasks reuse
    their worker processes more."""
    import ray

    blocks = max(1, math.ceil(len(index) / videos_per_task))
    # positions as in-memory blocks: a read task would hold a whole CPU of its own
    ds = ray.data.from_items([{"id": p} for p in range(len(index))], override_num_blocks=blocks)
    ds.context.custom_execution_callback_classes = [*ds.context.custom_execution_callback_classes,
                                                    idle_backoff_class()]
    # Ray Data reserves part of the CPUs for each operator's own use; with one map operator that
    # left a single sampling task running at a time on 2 CPUs (measured: 0.9 tasks on average,
    # 105-115 clips/s; without the reservation 1.8 tasks, about 200 clips/s).
    ds.context.op_resource_reservation_enabled = False
    limit = task_limit(max_tasks)
    return ds.map_batches(sample_clips, batch_size=videos_per_task, batch_format="numpy", num_cpus=cpus_per_task,
                          fn_kwargs={"index": index, "clip": clip, "seed": seed, "clock": clock}, **limit)


def cut_test_clips(batch: dict[str, np.ndarray], index: SplitIndex, clip: ClipConfig) -> dict[str, np.ndarray]:
    """Ray Data map function: positions ``batch["id"]`` → those videos' test clips
    (``clips`` uint8 B×N×T×S×S×3, ``label``, ``video``)."""
    return test_batch(index, batch["id"].tolist(), clip)


def test_dataset(index: SplitIndex, clip: ClipConfig, videos_per_task: int, cpus_per_task: float,
                 max_tasks: int = 0, group=None):
    """Every video's test clips as a lazy ``ray.data.Dataset`` in index order, cut by tasks of
    ``videos_per_task`` videos, at most ``max_tasks`` at once (0: as many as the CPUs allow), in
    the second bundle of the placement group ``group`` if given (the CPUs a stage reserved)."""
    import ray
    from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

    blocks = max(1, math.ceil(len(index) / videos_per_task))
    ds = ray.data.from_items([{"id": p} for p in range(len(index))], override_num_blocks=blocks)
    ds.context.execution_options.preserve_order = True
    ds.context.op_resource_reservation_enabled = False  # as train_dataset's
    ds.context.custom_execution_callback_classes = [*ds.context.custom_execution_callback_classes,
                                                    idle_backoff_class()]
    limit = task_limit(max_tasks)
    if group is not None:  # (a plain scheduling_strategy argument is deprecated in Ray 2.60)
        inside = PlacementGroupSchedulingStrategy(group, placement_group_bundle_index=1)
        limit["ray_remote_args_fn"] = lambda: {"scheduling_strategy": inside}
    return ds.map_batches(cut_test_clips, batch_size=videos_per_task, batch_format="numpy", num_cpus=cpus_per_task,
                          fn_kwargs={"index": index, "clip": clip}, **limit)


def host_batches(source, batch_size: int, prefetch_batches: int, pin_memory: bool):
    """``source.iter_torch_batches`` (a Dataset or a worker's shard) whose batches stay on the host,
    pinned with ``pin_memory``: the step moves clips and labels to its device itself, without
    waiting (:func:`drl_core.engine.to_model`). Ray's default device inside a Ray Train worker is
    the worker's GPU, for every column: the jitter parameters too, from which the device transform
    plans its steps on the CPU, so every step would wait for the GPU to read them back."""
    return source.iter_torch_batches(batch_size=batch_size, prefetch_batches=prefetch_batches, pin_memory=pin_memory,
                                     drop_last=False, device="cpu")


def data_config():
    """Ray Train's DataConfig: an equal split, and blocks in order so a rerun is identical."""
    from ray.data import ExecutionOptions
    from ray.train import DataConfig

    return DataConfig(execution_options=ExecutionOptions(preserve_order=True))
