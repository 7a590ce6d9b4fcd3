"""What one GPU does with this project, in at most 5 minutes: ``python -m pipelines.benchmarks.gpu_check``

1. One real training stage through Ray Train with ``use_gpu=True`` on generated JPEG rows.
2. clips/s of R3D-18 16×112², batch 64, bf16, for a supervised step and Alg. 1–3 steps, with the
   uint8 batch already on the device (normalisation and the real-data configs' PIL-exact jitter there too),
   and how often each step waits for the device (CUDA's sync debug mode; 0 is the design).
3. The input pipeline's supply in clips/s on this machine's CPUs, and its ratio to the model's
   supervised demand.
4. The GPU-busy fraction of that training stage's epochs (``nvidia-smi`` sampled every 0.2 s,
   over the span in which the GPU did any work).

Without a CUDA device it says so and exits with status 2; nothing else in the project needs one.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from drl_core.algorithms import build_algorithm
from drl_core.config import AlgorithmConfig, ClipConfig, ModelConfig, OptimConfig
from drl_core.data.draws import draw_clip
from drl_core.data.transforms import DeviceTransform
from drl_core.engine import Precision, make_optimizer, seed_everything, to_model
from drl_core.metrics import keys
from drl_core.models import build_model

VIDEO = ModelConfig(name="r3d18", width=64, stem_pool=True)
SPATIAL = ModelConfig(name="r2d18", width=64, stem_pool=True, dropout=0.0)
CLIP = ClipConfig(crop_size=112, flip=True, jitter=0.2, hue=0.2, jitter_mode="pil")  # the real-data configs' clips
ALGORITHMS = ("supervised", "adversarial", "spatial_adversary", "static_inputs")


def jitter_params(batch: int, pin: bool = False) -> torch.Tensor:
    """B×8 jitter parameters of ``CLIP`` as the training clips draw them (in pinned memory with ``pin``)."""
    params = torch.from_numpy(np.stack([draw_clip(0, 0, k, 32, 16, 128, 171, CLIP.crop_size, CLIP.flip, CLIP.jitter,
                                                  CLIP.hue, CLIP.jitter_mode).jitter_params() for k in range(batch)]))
    return params.pin_memory() if pin else params


def host_syncs(step: Callable[[], None], steps: int = 2) -> float:
    """Waits for the device per call of ``step`` (on CUDA): the operations that CUDA's sync debug
    mode reports as synchronizing, averaged over ``steps`` calls. 0 where no step waits."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            for _ in range(steps):
                step()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    return sum("synchroniz" in str(w.message) for w in caught) / steps


def step_throughput(name: str, device: torch.device, batch: int = 64, frames: int = 16, steps: int = 10,
                    video: ModelConfig = VIDEO, spatial: ModelConfig = SPATIAL,
                    crop: int = 112) -> tuple[float, float | None]:
    """Training clips/s of one algorithm's step, the uint8 batch already on ``device``, and (on
    CUDA, after the timed steps) the step's waits for the device (:func:`host_syncs`)."""
    seed_everything(0, deterministic=False)
    precision = Precision()
    algo = build_algorithm(AlgorithmConfig(name=name, spatial=spatial), build_model(video, 400),
                           build_model(spatial, 400) if name in ("adversarial", "spatial_adversary") else None,
                           CLIP.mean, CLIP.std)
    precision.prepare_model(algo, device).train()
    opt = make_optimizer(algo.parameters(), OptimConfig(lr=0.01))
    data = {"clips": torch.randint(0, 256, (batch, frames, crop, crop, 3), dtype=torch.uint8, device=device),
            "jitter": jitter_params(batch, pin=device.type == "cuda"),  # on the host, as the batches bring it
            "label": torch.randint(0, 400, (batch,), device=device)}
    inputs = DeviceTransform.of(CLIP)

    def step() -> None:
        with precision.autocast(device):
            out = algo(to_model(data, device, inputs, precision), data["label"])
        out.loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(3):
        step()
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    rate = batch * steps / (time.perf_counter() - start)
    return rate, host_syncs(step) if device.type == "cuda" else None


class GpuSampler:
    """``nvidia-smi`` utilisation (%) every 0.2 s in a thread, until stopped."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                out = subprocess.run(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits",
                                      "--id=0"], capture_output=True, text=True)
            except OSError:  # no nvidia-smi here: no samples, a busy fraction of 0
                return
            if out.returncode == 0 and out.stdout.strip():
                self.samples.append(float(out.stdout.strip().splitlines()[0]))
            time.sleep(0.2)

    def __enter__(self) -> "GpuSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def busy_fraction(self) -> float:
        """Mean utilisation over the span from the first to the last busy sample (0–1)."""
        busy = [i for i, s in enumerate(self.samples) if s > 0]
        return sum(self.samples[busy[0]:busy[-1] + 1]) / (100 * (busy[-1] - busy[0] + 1)) if busy else 0.0


def input_supply(split: Path) -> float:
    """Clips/s of the training stream over ``split`` (one epoch, after one that starts the workers),
    counted from its first batch as :mod:`pipelines.benchmarks.input_pipeline` counts."""
    from pipelines.benchmarks.input_pipeline import ray_stream, stream_rate

    epoch = ray_stream(split)
    epoch(0)
    return stream_rate(*epoch(1))


def training_stage(work: Path, videos: int, epochs: int, video: ModelConfig = VIDEO, clip: ClipConfig = CLIP,
                   frames: int = 160, size: tuple[int, int] = (128, 171), use_gpu: bool = True) -> tuple[dict, float]:
    """Run a real training stage (R3D-18 by default) through Ray Train on one worker, on a GPU
    unless ``use_gpu`` is off (the CPU test of this function); (its result, GPU-busy fraction).
    Its split: ``videos`` generated JPEG rows of ``frames`` frames of ``size``, 16 a second."""
    from pipelines.benchmarks.rows import write_rows
    from pipelines.config.resources import ResourcesConfig
    from pipelines.train.job import TrainJob
    from pipelines.train.launcher import run_train_job

    split = write_rows(work / "train", videos, frames, size[0], 16, classes=10, encoding="jpeg", width=size[1])
    job = TrainJob("classify", str(split), video, OptimConfig(epochs=epochs, lr=0.01, batch_size=64), clip,
                   AlgorithmConfig(name="supervised"), deterministic=not use_gpu,
                   data_cpus=1.0, videos_per_task=8, prefetch_batches=4)
    cpus = max(1, (os.cpu_count() or 2) // 4)
    resources = ResourcesConfig(num_workers=1, use_gpu=use_gpu, cpus_per_worker=cpus, data_cpus=1.0)
    with GpuSampler() as sampler:
        result = run_train_job(job, work / "stage", resources)
    return result, sampler.busy_fraction()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--videos", type=int, default=640, help="generated 10-s videos for the training stage")
    p.add_argument("--epochs", type=int, default=2)
    args = p.parse_args(argv)
    if not torch.cuda.is_available():
        print("gpu_check: no CUDA device on this machine; run it where there is one")
        return 2
    from pipelines.benchmarks.local_ray import start_local_ray
    from pipelines.benchmarks.rows import write_rows

    device = torch.device("cuda")
    print(f"device: {torch.cuda.get_device_name(0)}, CPUs: {os.cpu_count()}")
    demand = {}
    for name in ALGORITHMS:
        demand[name], syncs = step_throughput(name, device)
        print(f"model: {name:18s} {demand[name]:8.0f} clips/s (R3D-18 16×112², batch 64, bf16, data on the device); "
              f"{syncs:g} waits for the device a step")
    torch.cuda.empty_cache()  # this process's cached blocks, free for the training stage's worker
    start_local_ray(os.cpu_count() or 2)
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as work:
        split = write_rows(Path(work) / "supply", 256, 160, 128, 16, encoding="jpeg", width=171)
        supply = input_supply(split)
        print(f"input: {supply:8.0f} clips/s from JPEG rows on {os.cpu_count()} CPUs; "
              f"supply/demand {supply / demand['supervised']:.2f} (supervised)")
        result, busy = training_stage(Path(work), args.videos, args.epochs)
    history = result["history"]
    print(f"training stage: ran through Ray Train with use_gpu=True, {len(history)} epochs, "
          f"last epoch {history[-1][keys.EPOCH_SECONDS]:.1f} s ({history[-1][keys.DATA_WAIT_SECONDS]:.1f} s of it "
          f"waiting for data), loss {history[-1][keys.TRAIN_LOSS]:.3f}")
    print(f"gpu_check: GPU-busy fraction {busy:.2f} of the training stage")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
