import numpy as np
import pytest

from drl_core.data.clip_sampling import frame_indices, row_frame_count, row_frame_times, window, window_starts


@pytest.mark.parametrize("fps,seconds", [(30, 10.0), (12, 3.0)])
def test_one_second_windows_of_n_frames_at_any_fps(fps, seconds):
    n = 8
    total = int(fps * seconds)
    count = row_frame_count(seconds, 1.0, n)
    times = row_frame_times(count, 1.0, n)
    assert count == int(seconds * n) and times[-1] < seconds
    for s in window_starts(count, n, 10):
        t = times[window(count, int(s), n)]
        np.testing.assert_allclose(t, t[0] + np.arange(n) / n)
        assert t[-1] - t[0] == pytest.approx(1.0 - 1.0 / n)  # spans one second
        idx = frame_indices(t, fps, total)
        np.testing.assert_array_equal(idx, np.floor(t * fps).astype(int))
        # each index's frame interval contains its timestamp
        assert np.all(idx / fps <= t) and np.all(t < (idx + 1) / fps)


def test_short_videos_clamp_to_their_last_frame():
    idx = frame_indices(row_frame_times(8, 1.0, 8), 10, 5)
    assert idx.max() == 4 and idx.min() == 0


def test_bad_video_parameters():
    with pytest.raises(ValueError):
        frame_indices(np.array([0.1]), 0, 10)
