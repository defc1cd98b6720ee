"""2-D toy densities (as in FFJORD and WGAN-GP), sampled with NumPy."""

import math

import numpy as np

_SCALE = 1.0 / math.sqrt(2.0)
# 8 Gaussians: unit-circle directions times 4, std 0.5, all scaled by
# 1/sqrt(2) (FFJORD's definition). Entropy log 8 + log(2 pi e s**2)
# = 2.838 nats for well-separated modes.
EIGHT_GAUSSIANS_CENTERS = np.array(
    [
        (
            math.cos(k * math.pi / 4) * 4 * _SCALE,
            math.sin(k * math.pi / 4) * 4 * _SCALE,
        )
        for k in range(8)
    ],
    dtype="float32",
)
EIGHT_GAUSSIANS_STD = 0.5 * _SCALE


def load_toy(name, num_samples=10000, seed=0, noise=0.1):
    """Samples a 2-D toy density as float32 `(num_samples, 2)`.

    Args:
        name: `"8gaussians"` (8 modes on a ring, see
            `EIGHT_GAUSSIANS_CENTERS`), `"checkerboard"` (uniform on 8
            squares, area 32: entropy ln 32) or `"two_moons"` (scikit-learn's
            `make_moons` with `noise`).
        num_samples: int.
        seed: int.
        noise: float. Only for `"two_moons"`.
    """
    rng = np.random.default_rng(seed)
    if name == "8gaussians":
        modes = rng.integers(0, 8, num_samples)
        points = EIGHT_GAUSSIANS_CENTERS[modes] + rng.normal(
            scale=EIGHT_GAUSSIANS_STD, size=(num_samples, 2)
        )
    elif name == "checkerboard":
        x1 = rng.uniform(-2.0, 2.0, num_samples)
        x2 = (
            rng.uniform(0.0, 1.0, num_samples)
            - rng.integers(0, 2, num_samples) * 2.0
            + np.floor(x1) % 2
        )
        points = np.stack([x1, x2], axis=1) * 2.0
    elif name == "two_moons":
        from sklearn.datasets import make_moons

        points, _ = make_moons(num_samples, noise=noise, random_state=seed)
    else:
        raise ValueError(
            f"Unknown toy density {name!r}; available: 8gaussians, "
            "checkerboard, two_moons."
        )
    return points.astype("float32")
