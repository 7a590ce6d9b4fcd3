"""The torch process group of a Ray Train run, set up by a controller that never imports torch.

Ray Train's own ``TorchConfig`` lives in a module that imports torch, and its controller (one
fresh process per run) unpickles it. Measured on the 2-core CPU: the controller took 4.7 s of
CPU per run with it and 2.4 s without, and each run started about 2 s later; the default study
runs 21 training stages. :class:`ProcessGroupConfig` is the same setup (gloo on CPUs, NCCL on
GPUs, ``env://`` rendezvous on rank 0's address) from a torch-free module: what imports torch
runs on the workers only. The study's configs ship no TPU stages, so it has no TPU branch.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import timedelta

import ray
from ray.train.backend import Backend, BackendConfig

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT_S = 30.0


@dataclass
class ProcessGroupConfig(BackendConfig):
    """``torch_config`` of :class:`pipelines.train.trainer.StageTrainer`: ``backend`` is gloo or
    nccl (None: TorchTrainer picks nccl with GPUs, else gloo), ``timeout_s`` the collectives'."""

    backend: str | None = None
    timeout_s: int = 1800

    @property
    def backend_cls(self):
        return ProcessGroupBackend

    @property
    def train_func_context(self):
        """Ray Train's own (it selects the worker's CUDA device); read where ``fit`` is called."""
        from ray.train.torch.config import TorchConfigContextManager

        return TorchConfigContextManager

    @property
    def framework(self):
        from ray.train.v2._internal.util import TrainingFramework

        return TrainingFramework.TORCH

    def to_dict(self) -> dict:
        return {"backend": self.backend, "init_method": "env", "timeout_s": self.timeout_s}


class ProcessGroupBackend(Backend):
    """Starts and ends the workers' process group; every call that needs torch runs on them."""

    share_cuda_visible_devices: bool = True

    def on_start(self, worker_group, backend_config: ProcessGroupConfig) -> None:
        gpus = worker_group.get_resources_per_worker().get("GPU", 0)
        backend = backend_config.backend or ("nccl" if gpus else "gloo")
        addr, port = worker_group.execute_single(0, rendezvous_address)
        worker_group.execute(set_distributed_env, addr=addr, port=port)
        size = len(worker_group)
        ray.get([worker_group.execute_single_async(rank, join_process_group, backend=backend, world_rank=rank,
                                                   world_size=size, timeout_s=backend_config.timeout_s)
                 for rank in range(size)])

    def on_shutdown(self, worker_group, backend_config: ProcessGroupConfig) -> None:
        futures = worker_group.execute_async(leave_process_group, destroy=len(worker_group) > 1)
        try:
            ray.get(futures, timeout=SHUTDOWN_TIMEOUT_S)
        except ray.exceptions.GetTimeoutError:
            log.warning("torch process group shutdown timed out after %s s", SHUTDOWN_TIMEOUT_S)


def rendezvous_address() -> tuple[str, int]:
    """On rank 0: its node's address and a free port there."""
    import socket

    addr = ray.util.get_node_ip_address()
    with socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("", 0))
        return addr, sock.getsockname()[1]


def set_distributed_env(addr: str, port: int) -> None:
    """On every worker: the variables of torch's ``env://`` rendezvous and of torchrun."""
    import ray.train

    ctx = ray.train.get_context()
    os.environ.update({"MASTER_ADDR": addr, "MASTER_PORT": str(port),
                       "LOCAL_RANK": str(ctx.get_local_rank()), "LOCAL_WORLD_SIZE": str(ctx.get_local_world_size()),
                       "NODE_RANK": str(ctx.get_node_rank()), "RANK": str(ctx.get_world_rank()),
                       "WORLD_SIZE": str(ctx.get_world_size())})


def join_process_group(backend: str, world_rank: int, world_size: int, timeout_s: int) -> None:
    """On every worker: join the run's process group. A timed-out NCCL collective raises rather
    than hangs (``TORCH_NCCL_ASYNC_ERROR_HANDLING``, unless the user set it or blocking wait)."""
    import torch.distributed as dist

    if backend == "nccl" and not {"TORCH_NCCL_ASYNC_ERROR_HANDLING", "TORCH_NCCL_BLOCKING_WAIT"} & set(os.environ):
        os.environ["TORCH_NCCL_ASYNC_ERROR_HANDLING"] = "1"
    dist.init_process_group(backend=backend, init_method="env://", rank=world_rank, world_size=world_size,
                            timeout=timedelta(seconds=timeout_s))


def leave_process_group(destroy: bool) -> None:
    """On every worker: leave the process group (``destroy``: several workers) and free the
    CUDA cache of the worker's device."""
    import torch
    import torch.distributed as dist

    if destroy and dist.is_initialized():
        dist.destroy_process_group()
    if torch.cuda.is_available():
        from ray.train.torch import get_device

        device = get_device()
        if device.type == "cuda":
            with torch.cuda.device(device):
                torch.cuda.empty_cache()
