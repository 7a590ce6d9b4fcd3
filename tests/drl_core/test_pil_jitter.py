"""The ``pil`` colour jitter against Pillow itself: torchvision's PIL functions, as the
reference's ``torchvideotransforms.ColorJitter`` calls them on each frame, give the same bytes."""

import numpy as np
import pytest
import torch
from PIL import Image, ImageEnhance

from drl_core.data import pil_jitter
from drl_core.data.draws import draw_clip
from drl_core.data.transforms import DeviceTransform


def pil_adjust_hue(img: Image.Image, hue_factor: float) -> Image.Image:
    """torchvision.transforms._functional_pil.adjust_hue (0.29; 0.11 wrote ``np.uint8(...)``)."""
    h, s, v = img.convert("HSV").split()
    np_h = np.array(h, dtype=np.uint8)
    np_h += np.int32(hue_factor * 255).astype(np.uint8)  # over/underflows, as torchvision's
    return Image.merge("HSV", (Image.fromarray(np_h, "L"), s, v)).convert("RGB")


PIL_OPS = {  # torchvision's adjust_brightness / contrast / saturation on a PIL image
    pil_jitter.BRIGHTNESS: lambda img, f: ImageEnhance.Brightness(img).enhance(f),
    pil_jitter.CONTRAST: lambda img, f: ImageEnhance.Contrast(img).enhance(f),
    pil_jitter.SATURATION: lambda img, f: ImageEnhance.Color(img).enhance(f),
    pil_jitter.HUE: pil_adjust_hue,
}


def pil_clip(frames: np.ndarray, params: np.ndarray) -> np.ndarray:
    """The reference's jitter of one clip (uint8 T×H×W×3), frame by frame, in ``params``'s order."""
    out = []
    for frame in frames:
        img = Image.fromarray(frame)
        for op in params[4:].astype(int):
            if op >= 0:
                img = PIL_OPS[op](img, float(params[op]))
        out.append(np.asarray(img))
    return np.stack(out)


def frames(gen: np.random.Generator, clips: int, t: int = 3, size: int = 9) -> np.ndarray:
    """uint8 B×T×H×W×3 with greys, saturated and tied channels among random pixels."""
    x = gen.integers(0, 256, (clips, t, size, size, 3), dtype=np.uint8)
    x[:, :, 0, :, :] = x[:, :, 0, :, :1]  # grey rows (Pillow's s = 0 branch)
    x[:, :, 1, :, 1] = x[:, :, 1, :, 0]  # r == g ties
    x[:, :, 2, :3] = [[0, 0, 0], [255, 255, 255], [255, 0, 0]]
    return x


@pytest.mark.parametrize("op", sorted(PIL_OPS))
def test_each_operation_gives_pillow_s_bytes(op):
    gen = np.random.default_rng(op)
    x = frames(gen, 12)
    factors = gen.uniform(-0.5, 0.5, 12) if op == pil_jitter.HUE else gen.uniform(0.3, 1.7, 12)
    factors[:3] = (1.0, 0.0, 0.5) if op != pil_jitter.HUE else (0.0, -0.5, 0.5)
    params = np.zeros((12, 8), np.float32)
    params[:, op], params[:, 4], params[:, 5:] = factors, op, -1
    ours = pil_jitter.pil_colour_jitter(torch.from_numpy(x).permute(0, 4, 1, 2, 3), torch.from_numpy(params))
    for i in range(12):
        np.testing.assert_array_equal(ours[i].permute(1, 2, 3, 0).numpy(), pil_clip(x[i], params[i]), err_msg=f"clip {i}")


def test_the_whole_jitter_in_each_clip_s_own_order_gives_pillow_s_bytes():
    gen = np.random.default_rng(7)
    x = frames(gen, 16, t=4, size=12)
    draws = [draw_clip(3, 0, k, 40, 8, 30, 30, 12, True, 0.4, 0.4, "pil") for k in range(16)]
    params = np.stack([d.jitter_params() for d in draws])
    assert len({tuple(p[4:]) for p in params}) > 4  # several orders among the clips
    ours = pil_jitter.pil_colour_jitter(torch.from_numpy(x).permute(0, 4, 1, 2, 3), torch.from_numpy(params))
    for i in range(16):
        np.testing.assert_array_equal(ours[i].permute(1, 2, 3, 0).numpy(), pil_clip(x[i], params[i]), err_msg=f"clip {i}")
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    normalised = DeviceTransform(mean, std, "pil")(torch.from_numpy(x), torch.from_numpy(params))
    expect = (ours.float() / 255 - torch.tensor(mean).view(1, 3, 1, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1, 1)
    torch.testing.assert_close(normalised, expect, rtol=0, atol=0)


def test_the_pil_order_is_a_shuffle_of_the_operations_applied_drawn_after_the_rest():
    for k in range(20):
        both = draw_clip(1, 2, k, 40, 8, 30, 30, 12, True, 0.2, 0.2, "pil")
        assert sorted(both.order) == [0, 1, 2, 3] and len(both.jitter_params()) == 8
        no_hue = draw_clip(1, 2, k, 40, 8, 30, 30, 12, True, 0.2, 0.0, "pil")
        assert sorted(no_hue.order[:3]) == [0, 1, 2] and no_hue.order[3] == -1
        plain = draw_clip(1, 2, k, 40, 8, 30, 30, 12, True, 0.2, 0.2)
        assert plain.order == () and len(plain.jitter_params()) == 4
        assert (plain.start, plain.top, plain.left, plain.flip, plain.jitter) == \
            (both.start, both.top, both.left, both.flip, both.jitter)  # the float jitter's draws are kept
    assert draw_clip(1, 2, 0, 40, 8, 30, 30, 12, True, 0.0, 0.3, "pil").order == (3, -1, -1, -1)


def every_byte_triple() -> np.ndarray:
    """All 2^24 triples of bytes as a 4096×4096×3 image."""
    v = np.arange(2 ** 24, dtype=np.uint32)
    return np.stack([(v >> 16) & 255, (v >> 8) & 255, v & 255], -1).astype(np.uint8).reshape(4096, 4096, 3)


def as_batch(x: np.ndarray) -> torch.Tensor:
    """H×W×3 uint8 → int32 1×3×H×W (the operations' layout, T folded away)."""
    return torch.from_numpy(x).permute(2, 0, 1)[None].int()


def test_rgb_to_hsv_and_back_match_pillow_on_every_byte_triple():
    """The hue operation's two conversions, exhaustively: Pillow's rgb2hsv on every colour, its
    hsv2rgb on every (h, s, v)."""
    triples = every_byte_triple()
    theirs = np.asarray(Image.fromarray(triples, "RGB").convert("HSV"))
    rgb_back = np.asarray(Image.frombytes("HSV", (4096, 4096), triples.tobytes()).convert("RGB"))
    for rows in np.array_split(np.arange(4096), 16):  # 1M pixels at a time
        h, s, v = pil_jitter.rgb_to_hsv(as_batch(triples[rows]))
        np.testing.assert_array_equal(torch.stack((h, s, v), -1)[0].numpy(), theirs[rows])
        x = as_batch(triples[rows])[:, 0], as_batch(triples[rows])[:, 1], as_batch(triples[rows])[:, 2]
        np.testing.assert_array_equal(pil_jitter.hsv_to_rgb(*x)[0].permute(1, 2, 0).numpy(), rgb_back[rows])


def test_blend_matches_pillow_on_every_pair_of_levels_inside_and_outside_the_interval():
    pairs = np.stack(np.meshgrid(np.arange(256), np.arange(256), indexing="ij"), -1).astype(np.uint8)  # 256×256×2
    degenerate, image = (Image.fromarray(np.ascontiguousarray(pairs[..., k]), "L") for k in range(2))
    ours_in = [torch.from_numpy(pairs[..., k].astype(np.int32)) for k in range(2)]
    alphas = np.concatenate([np.random.default_rng(0).uniform(-0.6, 2.2, 300), [0.0, 1.0, 0.5, 1 / 3, 1.4]])
    for alpha in alphas.astype(np.float32):
        theirs = np.asarray(Image.blend(degenerate, image, float(alpha)))
        ours = pil_jitter.blend(*ours_in, torch.tensor(alpha))
        np.testing.assert_array_equal(ours.numpy(), theirs, err_msg=f"alpha {alpha}")


def test_contrast_rounds_each_frame_s_mean_luma_half_up():
    x = np.zeros((1, 2, 1, 2, 3), np.uint8)  # two frames of two pixels
    x[0, 0, 0] = [[10, 10, 10], [11, 11, 11]]  # mean luma 10.5: the pivot is 11
    x[0, 1, 0] = [[200, 0, 0], [0, 90, 255]]
    params = np.array([[1, 1.6, 1, 0, pil_jitter.CONTRAST, -1, -1, -1]], np.float32)
    ours = pil_jitter.pil_colour_jitter(torch.from_numpy(x).permute(0, 4, 1, 2, 3), torch.from_numpy(params))
    np.testing.assert_array_equal(ours[0].permute(1, 2, 3, 0).numpy(), pil_clip(x[0], params[0]))
    assert ours[0, 0, 0, 0].tolist() == [9, 11]  # pivot 11: 11 + 1.6·(10 − 11) = 9.4 → 9 (pivot 10 gives [10, 11])


def test_parameters_drawn_for_the_float_jitter_are_refused_by_the_pil_jitter():
    x = torch.zeros(2, 2, 4, 4, 3, dtype=torch.uint8)
    with pytest.raises(ValueError, match="8 parameters per clip.*got 4"):
        DeviceTransform((0.5,) * 3, (0.2,) * 3, "pil")(x, torch.ones(2, 4))
