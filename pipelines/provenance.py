"""What a run was made with, as MLflow tags: the command, the machine, the software, the kernels.

A CPU run is bit-identical when it runs again on the same machine with the same software. It is
not across machines: the same 5 training steps on the same data give other weights under
another CPU kernel set (torch's ``ATEN_CPU_CAPABILITY``, oneDNN's ``ONEDNN_MAX_CPU_ISA``, MKL's
``MKL_CBWR``) or another thread count (measured on an AMD EPYC: README, "Reproducibility"). So
the study's run records the versions of what trains and decodes (:func:`software`), and each
training stage records the kernels its workers ran (:func:`kernels`).
"""

from __future__ import annotations

import os
import platform
import shlex
from importlib import metadata
from pathlib import Path

from pipelines import run_tags

# The packages whose versions can change a result: training, video generation and decoding, shards.
PACKAGES = ("torch", "numpy", "av", "decord", "pillow", "pyarrow", "ray")
# Environment variables that choose other CPU kernels than the defaults (the thread count is
# torch's own, which the training loop sets: Ray's OMP_NUM_THREADS on every worker says nothing).
KERNEL_ENV = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS")


def cpu_model() -> str:
    """The CPU's model name (Linux), else what ``platform`` knows."""
    info = Path("/proc/cpuinfo")
    lines = info.read_text().splitlines() if info.is_file() else []
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")),
                platform.processor() or platform.machine())


def software() -> str:
    """``python 3.11.7; torch 2.13.0; numpy 2.4.6; ...``: the interpreter and :data:`PACKAGES`
    (``absent`` for one not installed), read from the installed metadata without importing them."""
    parts = [f"python {platform.python_version()}"]
    for name in PACKAGES:
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name} absent")
    return "; ".join(parts)


def kernels(device) -> str:
    """What this process computes on (``device``: a torch.device), e.g. ``cpu: AMD EPYC, AVX512
    kernels, 2 threads`` or ``cuda: NVIDIA H200, CUDA 13.0, cuDNN 91002``, with any
    :data:`KERNEL_ENV` variable that is set."""
    import torch

    if device.type == "cuda":
        text = (f"cuda: {torch.cuda.get_device_name(device)}, CUDA {torch.version.cuda}, "
                f"cuDNN {torch.backends.cudnn.version()}")
    else:
        text = (f"cpu: {cpu_model()}, {torch.backends.cpu.get_cpu_capability()} kernels, "
                f"{torch.get_num_threads()} threads")
    pinned = [f"{k}={os.environ[k]}" for k in KERNEL_ENV if os.environ.get(k)]
    return text + (f" ({', '.join(pinned)})" if pinned else "")


def provenance(argv: list[str]) -> dict[str, str]:
    """The study run's tags: the driver's command line, the machine (the Ray cluster's CPUs and
    GPUs, the driver host's CPU and core count) and the software."""
    import ray

    res = ray.cluster_resources()
    gpus = int(res.get("GPU", 0))
    machine = (f"Ray cluster of {int(res.get('CPU', 0))} CPUs and {gpus} GPUs; driver host: {cpu_model()}, "
               f"{os.cpu_count()} cores, {platform.system()} {platform.release()}")
    return {run_tags.COMMAND: shlex.join(argv), run_tags.MACHINE: machine, run_tags.SOFTWARE: software()}
