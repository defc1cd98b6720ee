import keras

from kgen import bijectors
from kgen.models.flow.flow_model import FlowModel


@keras.saving.register_keras_serializable(package="kgen")
class MAF(FlowModel):
    """Masked autoregressive flow for vectors: MADE layers with reversed
    orderings in between (Papamakarios et al. 2017).

    Density is one pass per layer; sampling is sequential (`d` passes per
    layer). `inverse_autoregressive=True` builds the IAF instead: one-pass
    sampling, sequential density.

    Args:
        event_shape: tuple `(d,)`.
        num_flows: int. MADE layers.
        hidden_dims: tuple of ints. MADE hidden widths.
        inverse_autoregressive: bool. IAF instead of MAF.
        batch_normalization: bool. A `BatchNormalization` bijector after
            each MADE layer, as in the paper's "MAF with BN" models.
        seed: int or `None`.

    References:
        1. Papamakarios et al. Masked Autoregressive Flow for Density
           Estimation. 2017. arXiv:1705.07057.
        2. Kingma et al. Improved Variational Inference with Inverse
           Autoregressive Flow. 2016. arXiv:1606.04934.
    """

    def __init__(
        self,
        event_shape,
        num_flows=5,
        hidden_dims=(64, 64),
        inverse_autoregressive=False,
        batch_normalization=False,
        seed=None,
        **kwargs,
    ):
        event_shape = tuple(event_shape)
        if len(event_shape) != 1:
            raise ValueError(
                f"MAF models vectors; `event_shape` must be (d,), received "
                f"{event_shape}."
            )
        layers = []
        for _ in range(num_flows):
            made = bijectors.MaskedAutoregressive(hidden_dims)
            layers.append(
                bijectors.Invert(made) if inverse_autoregressive else made
            )
            if batch_normalization:
                layers.append(bijectors.BatchNormalization())
            layers.append(bijectors.Permute(list(range(event_shape[0]))[::-1]))
        super().__init__(
            bijectors.Chain(layers[::-1]), event_shape, seed=seed, **kwargs
        )
        self.num_flows = num_flows
        self.hidden_dims = tuple(hidden_dims)
        self.inverse_autoregressive = inverse_autoregressive
        self.batch_normalization = batch_normalization
