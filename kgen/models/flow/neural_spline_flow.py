import functools

import keras

from kgen import bijectors
from kgen.models.flow.flow_model import FlowModel
from kgen.models.flow.real_nvp import coupling_stack


@keras.saving.register_keras_serializable(package="kgen")
class NeuralSplineFlow(FlowModel):
    """Neural spline flow: RealNVP's layout with rational-quadratic spline
    couplings (RQ-NSF (C), Durkan et al. 2019).

    Each `SplineCoupling` maps the transformed features through monotone
    splines of `num_spline_bins` bins on `[-bound, bound]` (identity
    outside), whose knots a conditioner network computes from the kept
    features. Vectors (`event_shape=(d,)`, `d` even) alternate halves with
    a reversal after each coupling; images use alternating checkerboard
    couplings with an `ActNorm` after each, as `RealNVP` does.

    Args:
        event_shape: tuple. `(d,)` or `(height, width, channels)`.
        num_couplings: int. Coupling layers.
        num_spline_bins: int. Bins per spline (`num_bins` of the
            couplings; `num_bins` here is the dequantisation, as in every
            `FlowModel`).
        bound: float. The splines act on `[-bound, bound]`.
        hidden_dim: int. Conditioner width.
        num_layers: int. Conditioner hidden layers.
        num_bins: int or `None`. Dequantisation levels, see `FlowModel`.
        seed: int or `None`.

    Example:

    ```python
    x = kgen.datasets.load_toy("checkerboard", 5000)
    flow = kgen.models.NeuralSplineFlow((2,), num_couplings=4)
    flow.compile(optimizer=keras.optimizers.Adam(1e-3))
    flow.fit(x, epochs=20)
    flow.log_prob(x[:5]), flow.sample(100, seed=0)
    ```

    References:
        1. Durkan et al. Neural Spline Flows. 2019. arXiv:1906.04032.
    """

    def __init__(
        self,
        event_shape,
        num_couplings=4,
        num_spline_bins=8,
        bound=3.0,
        hidden_dim=64,
        num_layers=2,
        num_bins=None,
        seed=None,
        **kwargs,
    ):
        event_shape = tuple(event_shape)
        coupling = functools.partial(
            bijectors.SplineCoupling,
            num_bins=num_spline_bins,
            bound=bound,
            hidden_dim=hidden_dim,
            num_layers=num_layers,
        )
        super().__init__(
            coupling_stack(event_shape, num_couplings, coupling),
            event_shape,
            num_bins=num_bins,
            seed=seed,
            **kwargs,
        )
        self.num_couplings = num_couplings
        self.num_spline_bins = num_spline_bins
        self.bound = bound
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
