"""Checks that diffusion and flow families share."""

import numpy as np


def assert_guidance_follows_its_interval(draw, nowhere=(0.0, 0.0)):
    """`draw(**guidance)` (one seed, one deterministic sampler) guided over
    every noise level is plain guidance, and guided over an interval that
    holds none of its steps' levels (`nowhere`) is no guidance at all."""
    unguided, guided = draw(), draw(guidance_scale=3.0)
    assert np.abs(guided - unguided).max() > 1e-3
    everywhere = draw(guidance_scale=3.0, guidance_interval=(0.0, 1.0))
    np.testing.assert_allclose(everywhere, guided, atol=1e-5)
    np.testing.assert_allclose(
        draw(guidance_scale=3.0, guidance_interval=nowhere),
        unguided,
        atol=1e-5,
    )
    return unguided, guided
