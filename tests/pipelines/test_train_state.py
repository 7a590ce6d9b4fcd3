"""Epoch checkpoints load with weights_only=True: the real state does, a planted pickle does not run."""

import os

import pytest
import torch

from drl_core.config import AlgorithmConfig, ModelConfig, OptimConfig
from drl_core.algorithms import build_algorithm
from drl_core.engine import make_optimizer, make_scheduler
from drl_core.models import build_model
from pipelines.train.loop import read_state, training_state


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_the_real_training_state_loads_with_weights_only(tmp_path):
    video = build_model(ModelConfig(name="r3d10", width=4), 3)
    algo = build_algorithm(AlgorithmConfig(name="static_inputs"), video, None, (0.5,) * 3, (0.2,) * 3)
    optim = OptimConfig(optimizer="sgd", epochs=2, lr=0.1, step_size=1)
    optimizer = make_optimizer(algo.parameters(), optim)
    scheduler = make_scheduler(optimizer, optim)
    optimizer.step()
    scheduler.step()
    path = tmp_path / "state.pt"
    torch.save(training_state(algo, optimizer, scheduler, 0, [{"epoch": 0, "train/loss": 1.5}], 1), path)
    state = read_state(str(path))
    assert state["epoch"] == 0 and state["history"][0]["train/loss"] == 1.5 and state["resumptions"] == 1
    algo.load_state_dict(state["algorithm"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])


def test_a_planted_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "state.pt"
    torch.save({"epoch": _Payload(marker)}, path)
    with pytest.raises(RuntimeError, match="refused to load the checkpoint state") as err:
        read_state(str(path))
    assert str(path) in str(err.value) and "\n" not in str(err.value)
    assert not marker.exists()
