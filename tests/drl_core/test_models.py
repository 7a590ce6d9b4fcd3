import pytest
import torch

from drl_core.models import create_model, list_models

PARAMS_400 = {
    "r3d18": 33_409_104,
    "r3d50": 47_018_576,
    "r2d18": 11_381_712,
    "tsm_r18": 11_381_712,
    "r2d50": 24_327_632,
    "tsm_r50": 24_327_632,
}


def test_registry_lists_every_model():
    assert set(PARAMS_400) < set(list_models())
    assert {"r2d10", "r3d10", "tsm_r10"} < set(list_models())  # reduced-depth CPU variants


@pytest.mark.parametrize("name", sorted(PARAMS_400))
def test_parameter_counts_match_reference(name):
    model = create_model(name, 400)
    assert sum(p.numel() for p in model.parameters()) == PARAMS_400[name]


@pytest.mark.parametrize("name", list_models())
def test_forward_backward_small_width(name):
    torch.manual_seed(0)
    model = create_model(name, 5, width=8)
    x = torch.randn(2, 3, 4, 32, 32)
    logits, feats = model(x, return_features=True)
    assert logits.shape == (2, 5) and feats.shape == (2, model.feature_dim)
    assert torch.isfinite(logits).all()
    logits.sum().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_multi_clip_input_averages_logits():
    torch.manual_seed(0)
    model = create_model("r3d18", 4, width=8).eval()
    clips = torch.randn(2, 3, 3, 4, 32, 32)
    with torch.no_grad():
        multi = model(clips)
        single = torch.stack([model(clips[:, i]) for i in range(3)], 1).mean(1)
    torch.testing.assert_close(multi, single, rtol=1e-4, atol=1e-5)


def test_per_clip_features_are_each_clip_s_and_average_to_the_video_s():
    torch.manual_seed(0)
    model = create_model("r3d10", 4, width=8).eval()
    clips = torch.randn(2, 3, 3, 4, 32, 32)
    with torch.no_grad():
        logits, feats = model(clips, return_features=True)
        clip_logits, per_clip = model(clips, return_features=True, per_clip=True)
        one = model(clips[:, 1], return_features=True, per_clip=True)[1]
    assert per_clip.shape == (2, 3, model.feature_dim) and one.shape == (2, 1, model.feature_dim)
    torch.testing.assert_close(per_clip[:, 1:2], one, rtol=1e-4, atol=1e-5)
    assert torch.equal(clip_logits, logits) and torch.equal(per_clip.mean(1), feats)


def test_unknown_model_lists_valid_names():
    with pytest.raises(ValueError, match="r3d18"):
        create_model("resnet9000", 10)


def test_bad_input_rank_is_rejected():
    model = create_model("r2d18", 3, width=8)
    with pytest.raises(ValueError, match="B×C×T×H×W"):
        model.forward_features(torch.randn(3, 32, 32))


def test_tsm_shift_mixes_time_but_r2d_does_not():
    """Changing only frame 0 changes TSM's features of the other frames' path; R2D stays per-frame."""
    torch.manual_seed(0)
    x = torch.randn(1, 3, 4, 32, 32)
    y = x.clone()
    y[:, :, 0] += 1.0
    for name, mixes in (("tsm_r18", True), ("r2d18", False)):
        model = create_model(name, 3, width=8).eval()
        backbone = model.backbone
        with torch.no_grad():
            def per_frame(v):
                b, c, t, h, w = v.shape
                backbone.clock.t = t
                frames = v.transpose(1, 2).reshape(b * t, c, h, w)
                return backbone.stages(backbone.stem(frames)).mean((2, 3))
            changed = (per_frame(x) - per_frame(y)).abs().sum(1)
        assert (changed[1:] > 1e-6).any().item() == mixes, name


def test_build_model_loads_a_checkpoint_and_skips_a_foreign_head(tmp_path):
    from drl_core.config import ModelConfig
    from drl_core.models import build_model

    src = create_model("r2d18", 1000, width=8, stem_pool=False)
    torch.save(src.state_dict(), tmp_path / "imagenet.pt")
    model = build_model(ModelConfig(name="r2d18", width=8, checkpoint=str(tmp_path / "imagenet.pt")), 10)
    torch.testing.assert_close(model.backbone.stem[0].weight, src.backbone.stem[0].weight)
    assert model.fc.out_features == 10
    with pytest.raises(ValueError, match="imagenet.pt: does not fit"):
        build_model(ModelConfig(name="r2d18", width=16, checkpoint=str(tmp_path / "imagenet.pt")), 10)


def test_dropout_acts_in_training_only_and_holds_no_weights():
    from drl_core.config import AlgorithmConfig, ModelConfig

    torch.manual_seed(0)
    model = create_model("r3d10", 3, width=4, dropout=0.5)
    plain = create_model("r3d10", 3, width=4)
    plain.load_state_dict(model.state_dict())  # same keys: dropout has no weights
    x = torch.randn(2, 3, 4, 16, 16)
    model.eval(), plain.eval()
    torch.testing.assert_close(model(x), plain(x))
    model.train()
    feats = model.forward_features(x)
    a, b = model.fc(model.dropout(feats)), model.fc(model.dropout(feats))
    assert not torch.allclose(a, b)  # a fresh mask each pass
    assert ModelConfig().dropout == 0.5 and AlgorithmConfig().spatial.dropout == 0.0
    with pytest.raises(ValueError, match="dropout"):
        ModelConfig(dropout=1.0)


@pytest.mark.parametrize("depth,name", [(18, "r2d18"), (50, "r2d50")])
def test_a_torchvision_imagenet_resnet_loads_into_r2d_and_a_frozen_frame_gives_its_features(tmp_path, depth, name):
    from drl_core.config import ModelConfig
    from drl_core.models import build_model
    from tests.drl_core.torchvision_layout import TorchvisionResNet

    torch.manual_seed(0)
    plain = TorchvisionResNet(depth).eval()
    path = tmp_path / f"resnet{depth}-imagenet.pth"
    torch.save(plain.state_dict(), path)  # torchvision's key names and shapes
    model = build_model(ModelConfig(name=name, width=64, stem_pool=True, checkpoint=str(path), dropout=0.0), 7).eval()
    assert "torchvision ImageNet ResNet (head dropped)" in model.checkpoint_report and model.fc.out_features == 7
    image = torch.randn(2, 3, 64, 64)
    clip = image.unsqueeze(2).expand(2, 3, 4, 64, 64)  # a frozen-frame clip
    with torch.no_grad():
        torch.testing.assert_close(model.forward_features(clip), plain.features(image), rtol=1e-4, atol=1e-5)


def test_torchvision_weights_load_into_tsm_and_refuse_r3d_or_a_narrow_width(tmp_path):
    from drl_core.config import ModelConfig
    from drl_core.models import build_model
    from tests.drl_core.torchvision_layout import TorchvisionResNet

    plain = TorchvisionResNet(18)
    path = tmp_path / "resnet18-f37072fd.pth"
    torch.save(plain.state_dict(), path)
    tsm = build_model(ModelConfig(name="tsm_r18", width=64, stem_pool=True, checkpoint=str(path)), 5)
    torch.testing.assert_close(tsm.backbone.stages[3][1].conv2.weight, plain.layer4[1].conv2.weight)
    with pytest.raises(ValueError, match="fits R2D and TSM backbones, not r3d18"):
        build_model(ModelConfig(name="r3d18", width=64, checkpoint=str(path)), 5)
    with pytest.raises(ValueError, match="does not fit r2d18 width 32"):
        build_model(ModelConfig(name="r2d18", width=32, checkpoint=str(path)), 5)


def test_a_torchvision_resnet_can_keep_its_imagenet_head(tmp_path):
    """``drl score`` scores a torchvision model with its own 1000-class head: the R2D's logits on
    a frozen-frame clip are the 2D network's on the image."""
    from drl_core.models import create_model
    from drl_core.models.checkpoints import load_checkpoint, read_file, torchvision_width
    from tests.drl_core.torchvision_layout import TorchvisionResNet

    torch.manual_seed(0)
    plain = TorchvisionResNet(18).eval()
    path = tmp_path / "resnet18-f37072fd.pth"
    torch.save(plain.state_dict(), path)
    assert torchvision_width(read_file(str(path))) == 64
    assert torchvision_width({"model": {"fc.weight": torch.zeros(2, 3)}}) is None  # a project file
    model = create_model("r2d18", 1000, width=64, stem_pool=True, dropout=0.0).eval()
    report = load_checkpoint(model, str(path), "r2d18", 64, keep_head=True)
    assert "(head kept)" in report and "new head" not in report
    image = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(image.unsqueeze(2).expand(2, 3, 4, 64, 64)), plain.fc(plain.features(image)), rtol=1e-4,
                                   atol=1e-4)
    with pytest.raises(ValueError, match="its head has 1000 classes, the model 7"):
        load_checkpoint(create_model("r2d18", 7, width=64, stem_pool=True), str(path), "r2d18", 64, keep_head=True)
