"""Per-epoch clip draws: a function of (seed, epoch, video) alone; windows of a video row."""

import numpy as np
import pytest

from drl_core.data.clip_sampling import row_frame_count, row_frame_times, window, window_starts
from drl_core.data.draws import centre, cut_clip, draw_clip, video_key


def draws(seed: int, epoch: int, key: int):
    return draw_clip(seed, epoch, key, 160, 16, 128, 171, 112, True, 0.2, 0.2)


def test_draws_repeat_for_the_same_seed_epoch_and_video_and_change_with_each():
    key = video_key("abc_000000_000010")
    assert draws(0, 3, key) == draws(0, 3, key)
    assert draws(0, 3, key) != draws(0, 4, key) and draws(0, 3, key) != draws(1, 3, key)
    assert draws(0, 3, key) != draws(0, 3, video_key("other"))
    starts = {draws(0, e, key).start for e in range(100)}
    assert len(starts) > 50 and min(starts) >= 0 and max(starts) <= 160 - 16


def test_draws_stay_inside_the_frame_and_respect_switches():
    for e in range(50):
        d = draw_clip(7, e, 1, 10, 8, 40, 50, 28, False, 0.0, 0.0)
        assert 0 <= d.top <= 12 and 0 <= d.left <= 22 and 0 <= d.start <= 2
        assert not d.flip and d.jitter == (1.0, 1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="smaller than the crop size"):
        draw_clip(0, 0, 1, 10, 8, 20, 50, 28, False, 0.0, 0.0)


def test_a_row_holds_num_frames_per_clip_second_over_the_whole_video():
    assert row_frame_count(10.0, 1.0, 16) == 160
    assert row_frame_count(1.1, 1.0, 8) == 9  # the 9th frame (at 1.0625 s) is inside the video
    assert row_frame_count(0.5, 1.0, 8) == 8  # a short video still fills one clip
    np.testing.assert_allclose(row_frame_times(3, 1.0, 8), [0.0625, 0.1875, 0.3125])


def test_test_windows_are_uniformly_spaced_by_hand():
    np.testing.assert_array_equal(window_starts(160, 16, 10), [0, 16, 32, 48, 64, 80, 96, 112, 128, 144])
    np.testing.assert_array_equal(window_starts(11, 8, 3), [0, 2, 3])  # rint(0, 1.5, 3)
    np.testing.assert_array_equal(window_starts(20, 8, 1), [6])
    np.testing.assert_array_equal(window(9, 6, 8), [6, 7, 8, 8, 8, 8, 8, 8])  # the last frame repeats


def test_cut_clip_crops_and_flips():
    frames = np.arange(4 * 6 * 6 * 3, dtype=np.uint8).reshape(4, 6, 6, 3)
    clip = cut_clip(frames, np.array([1, 2]), 1, 2, 3, flip=True)
    np.testing.assert_array_equal(clip, frames[1:3, 1:4, 2:5][:, :, ::-1])
    assert clip.flags.c_contiguous and centre(6, 8, 4) == (1, 2)


@pytest.mark.parametrize("left, flip", [(0, True), (0, False), (3, True), (3, False)])
def test_cut_clip_writes_into_a_batch_row_from_any_column(left, flip):
    frames = np.arange(5 * 6 * 6 * 3, dtype=np.uint8).reshape(5, 6, 6, 3)
    batch = np.zeros((2, 3, 3, 3, 3), np.uint8)
    clip = cut_clip(frames, np.array([4, 0, 0]), 2, left, 3, flip, out=batch[1])
    want = frames[[4, 0, 0], 2:5, left:left + 3]
    np.testing.assert_array_equal(batch[1], want[:, :, ::-1] if flip else want)
    assert np.shares_memory(clip, batch[1]) and not batch[0].any()  # cut in place, nothing else touched


def test_the_round_centre_offset_is_the_reference_center_crop():
    """``clip.centre_offset: round``: torchvideotransforms' ``CenterCrop``, ``int(round(margin / 2.))``
    (half to even); ``floor`` keeps ``margin // 2``."""
    from drl_core.data.draws import centre

    for h, w in [(128, 170), (128, 171), (128, 173), (112, 112), (129, 150), (131, 227)]:
        assert centre(h, w, 112, "round") == (int(round((h - 112) / 2.0)), int(round((w - 112) / 2.0)))
        assert centre(h, w, 112) == ((h - 112) // 2, (w - 112) // 2)
    assert centre(128, 171, 112, "round") == (8, 30) and centre(128, 171, 112) == (8, 29)  # 59/2 = 29.5 → 30
    assert centre(128, 173, 112, "round") == (8, 30) == centre(128, 173, 112)  # 61/2 = 30.5 → 30, half to even
