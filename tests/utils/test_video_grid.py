import numpy as np
import pytest
from PIL import Image

import kgen


def test_each_gif_frame_is_the_grid_of_that_frame(tmp_path):
    clips = np.random.default_rng(0).uniform(-1, 1, (3, 5, 8, 8, 1))
    path = kgen.utils.save_video_grid(
        clips,
        tmp_path / "clips.gif",
        value_range=(-1, 1),
        scale=2,
        frames_per_second=20,
    )
    with Image.open(path) as gif:
        assert gif.n_frames == 5 and gif.info["loop"] == 0
        for frame in range(5):
            gif.seek(frame)
            assert gif.info["duration"] == 50
            expected = kgen.utils.image_grid(clips[:, frame], (-1, 1), scale=2)[
                ..., 0
            ]
            np.testing.assert_array_equal(
                np.asarray(gif.convert("L")), expected
            )
    assert [p.name for p in tmp_path.iterdir()] == ["clips.gif"]


def test_bad_clips_and_rates_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"`clips` must have shape"):
        kgen.utils.save_video_grid(np.zeros((2, 8, 8, 1)), tmp_path / "a.gif")
    with pytest.raises(ValueError, match="`frames_per_second` must be"):
        kgen.utils.save_video_grid(
            np.zeros((1, 2, 8, 8, 1)), tmp_path / "a.gif", frames_per_second=0
        )
    assert not list(tmp_path.iterdir())
