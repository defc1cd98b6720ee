"""`ConsistencyScheduler` in the one sampling loop: algorithm 1 of Song et
al. (2023), denoise then renoise with each step's own draw."""

import numpy as np
from keras import ops

from kgen.schedulers import ConsistencyScheduler
from kgen.schedulers import sampling_loop


def _model(sample, time):
    # Any map of (x_t, t) will do: the loop must feed it the right pairs.
    return 0.5 * sample + 3.0 * time


def test_the_loop_denoises_and_renoises_with_each_steps_draw():
    times = np.array([0.9, 0.5, 0.2], "float32")
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(3, 4, 2)).astype("float32")
    step_noise = np.concatenate([noise[1:], np.zeros_like(noise[:1])])
    got = sampling_loop.reverse_diffusion(
        _model,
        ConsistencyScheduler(sample_range=(-1.0, 1.0)),
        times[0] * noise[0],
        times,
        step_noise=step_noise,
    )
    expected = np.clip(_model(times[0] * noise[0], times[0]), -1, 1)
    for time, fresh in zip(times[1:], noise[1:]):
        renoised = (1 - time) * expected + time * fresh
        expected = np.clip(_model(renoised, time), -1, 1)
    np.testing.assert_allclose(ops.convert_to_numpy(got), expected, 1e-6)


def test_one_step_is_the_model_at_the_first_time_unclipped():
    times = np.array([0.8], "float32")
    start = np.full((2, 3), 4.0, "float32")
    got = sampling_loop.reverse_diffusion(
        _model,
        ConsistencyScheduler(),
        start,
        times,
        step_noise=np.ones((1, 2, 3), "float32"),
    )
    np.testing.assert_allclose(ops.convert_to_numpy(got), 0.5 * 4 + 2.4)
