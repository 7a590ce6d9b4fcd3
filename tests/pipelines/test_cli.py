"""The ``drl`` command: every subcommand's help, and ``drl score``'s one-line errors."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from pipelines.cli import COMMANDS

DRL = str(Path(sys.executable).parent / "drl")  # the console script pip installed


def drl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([DRL, *args], capture_output=True, text=True, timeout=300)


def test_drl_help_lists_every_subcommand():
    out = drl("--help")
    assert out.returncode == 0
    for name in ("study", "tune", "decode", "score", "report", "calibrate", "diff"):
        assert name in COMMANDS and f"    {name}" in out.stdout
    assert drl().returncode == 2 and "COMMAND" in drl().stderr


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_subcommand_has_its_own_help(name):
    out = drl(name, "--help")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"usage: drl {name} ")


def one_line_error(out: subprocess.CompletedProcess, *parts: str) -> None:
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    for part in parts:
        assert part in lines[0], lines[0]


@pytest.fixture
def data(tmp_path, make_split):
    make_split(tmp_path / "data" / "train")
    make_split(tmp_path / "data" / "test")
    return tmp_path / "data"


def test_score_names_a_wrong_model_a_checkpoint_that_does_not_fit_and_a_split_without_shards(tmp_path, data):
    from drl_core.config import ModelConfig
    from drl_core.models import build_model
    from pipelines.train.model_file import save_model
    from tests.drl_core.torchvision_layout import TorchvisionResNet

    base = ["score", "--data", str(data), "--split", "test", "--output-dir", str(tmp_path / "out")]
    one_line_error(drl(*base, "--model", "r3d99"), "--model 'r3d99': unknown model", "r3d18")
    one_line_error(drl(*base[:3], "--split", "val", "--model", "r3d10"), "no decoded split 'val'")
    (data / "empty").mkdir()
    one_line_error(drl(*base[:3], "--split", "empty", "--model", "r3d10"), "no decoded split 'empty'")

    own = tmp_path / "model.pt"
    save_model(own, build_model(ModelConfig(name="r3d10"), 3), ModelConfig(name="r3d10"), ("a", "b", "c"))
    one_line_error(drl(*base, "--model", "r3d18", "--checkpoint", str(own)), f"{own}: holds a r3d10 model, not r3d18")
    stray = tmp_path / "stray.pt"
    torch.save({"weight": torch.zeros(3)}, stray)
    one_line_error(drl(*base, "--model", "r3d10", "--checkpoint", str(stray)), "not a model file of this project")
    text = tmp_path / "notes.txt"
    text.write_text("not weights")
    one_line_error(drl(*base, "--model", "r3d10", "--checkpoint", str(text)), f"{text}: not a model file of this project")
    imagenet = tmp_path / "resnet18-f37072fd.pth"
    torch.save(TorchvisionResNet(18).state_dict(), imagenet)
    one_line_error(drl(*base, "--model", "r3d18", "--checkpoint", str(imagenet)), "fits R2D and TSM models, not r3d18")
    one_line_error(drl(*base, "--model", "r3d10", "--checkpoint", str(tmp_path / "none.pt")), "no such file")
    assert not (tmp_path / "out").exists()  # nothing was written before the errors
