import numpy as np
import pytest

from drl_core.data.clip_sampling import clip_starts, frame_indices, frame_times


@pytest.mark.parametrize("fps,seconds", [(30, 10.0), (12, 3.0)])
def test_one_second_clips_of_n_frames_at_any_fps(fps, seconds):
    n = 8
    total = int(fps * seconds)
    starts = clip_starts(seconds, 1.0, 10)
    assert len(starts) == 10 and starts[0] == 0 and np.isclose(starts[-1], seconds - 1.0)
    for s in starts:
        times = frame_times(s, 1.0, n)
        assert len(times) == n
        np.testing.assert_allclose(times, s + (np.arange(n) + 0.5) / n)
        assert times[-1] - times[0] == pytest.approx(1.0 - 1.0 / n)  # spans one second
        idx = frame_indices(times, fps, total)
        np.testing.assert_array_equal(idx, np.floor(times * fps).astype(int))
        # each index's frame interval contains its timestamp
        assert np.all(idx / fps <= times) and np.all(times < (idx + 1) / fps)


def test_single_clip_is_centred_and_short_videos_clamp():
    assert clip_starts(3.0, 1.0, 1)[0] == pytest.approx(1.0)
    assert np.all(clip_starts(0.5, 1.0, 4) == 0)
    idx = frame_indices(frame_times(0.0, 1.0, 8), 10, 5)
    assert idx.max() == 4 and idx.min() == 0


def test_bad_video_parameters():
    with pytest.raises(ValueError):
        frame_indices(np.array([0.1]), 0, 10)
