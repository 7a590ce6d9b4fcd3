"""Host-side reductions work under a process group with no CPU backend, as Ray Train's NCCL-only
group on GPU workers is; reproduced on CPU with a ``cuda:gloo`` group."""

import torch.multiprocessing as mp

from pipelines.train.collectives import serves_cpu
from tests.conftest import free_port


def _worker(rank: int, port: int, queue) -> None:
    import torch
    import torch.distributed as dist

    from pipelines.train.collectives import barrier, mean_over_workers

    dist.init_process_group("cuda:gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        try:  # the failure mode: the default group cannot reduce a CPU tensor
            dist.all_reduce(torch.ones(1))
            plain = "ok"
        except RuntimeError as err:
            plain = str(err).splitlines()[0]
        barrier()  # the epoch barrier of the Ray Data stream runs on the same side group
        queue.put((rank, plain, mean_over_workers({"loss": rank + 1.0, "acc": 2.0 * rank})))
    finally:
        dist.destroy_process_group()


def test_reductions_run_beside_a_process_group_without_a_cpu_backend():
    ctx = mp.get_context("spawn")
    queue = ctx.SimpleQueue()
    mp.start_processes(_worker, args=(free_port(), queue), nprocs=2, start_method="spawn")
    results = sorted(queue.get() for _ in range(2))
    for rank, plain, means in results:
        assert "No backend type associated with device type cpu" in plain
        assert means == {"loss": 1.5, "acc": 1.0}


def test_which_backends_serve_cpu():
    assert serves_cpu("gloo") and serves_cpu("cuda:nccl,cpu:gloo")
    assert not serves_cpu("nccl") and not serves_cpu("cuda:gloo")
