"""Weight files named by a study: a missing one is a one-line error before anything runs, and
ImageNet weights switch the clip normalisation to ImageNet's."""

import pytest
import torch

from drl_core.models import create_model
from drl_core.models.checkpoints import IMAGENET_MEAN, IMAGENET_STD
from pipelines.config.loader import ConfigError, load_config
from pipelines.config.schema import StudyConfig
from pipelines.config.weights import check_weights
from tests.drl_core.torchvision_layout import TorchvisionResNet


def test_a_missing_weight_file_names_its_key_and_file(tmp_path, capsys):
    from pipelines.full_study import main

    missing = tmp_path / "weights" / "resnet18-f37072fd.pth"
    with pytest.raises(ConfigError, match=rf"dynamic_score.spatial.checkpoint: {missing} not found"):
        check_weights(load_config(StudyConfig, None, {"dynamic_score.spatial.checkpoint": str(missing)}))
    rc = main(["--output-dir", str(tmp_path / "out"), "--set", f"algorithm.spatial.checkpoint={missing}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "algorithm.spatial.checkpoint" in err[0] and "resnet18-f37072fd.pth" in err[0]
    assert not (tmp_path / "out").exists()


def test_imagenet_weights_switch_the_normalisation_and_project_weights_do_not(tmp_path, capsys):
    imagenet, own = tmp_path / "resnet18-f37072fd.pth", tmp_path / "model.pt"
    torch.save(TorchvisionResNet(18).state_dict(), imagenet)
    torch.save(create_model("r2d10", 3, width=8).state_dict(), own)
    cfg = check_weights(load_config(StudyConfig, None, {"dynamic_score.spatial.checkpoint": str(own)}))
    assert cfg.pretrain.clip.mean == StudyConfig().pretrain.clip.mean
    cfg = check_weights(load_config(StudyConfig, None, {"algorithm.spatial.checkpoint": str(imagenet)}))
    assert (cfg.pretrain.clip.mean, cfg.pretrain.clip.std) == (IMAGENET_MEAN, IMAGENET_STD)
    assert "ImageNet weights in algorithm.spatial" in capsys.readouterr().err
    assert cfg.finetune.clip is None and cfg.finetune_clip == cfg.pretrain.clip
    tuned = check_weights(load_config(StudyConfig, None, {"algorithm.spatial.checkpoint": str(imagenet),
                                                          "finetune.clip.jitter": 0.4}))
    assert (tuned.finetune.clip.mean, tuned.finetune.clip.std, tuned.finetune.clip.jitter) == (IMAGENET_MEAN, IMAGENET_STD, 0.4)
    assert "pretrain.clip.mean/std and finetune.clip.mean/std set to ImageNet's" in capsys.readouterr().err
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError, match="pretrain.model.checkpoint: .*junk.pth is not a weights file"):
        check_weights(load_config(StudyConfig, None, {"pretrain.model.checkpoint": str(tmp_path / "junk.pth")}))
