"""Bijectors in `keras.ops` with TensorFlow Probability's method names.

Each is a Keras layer (weights train with `fit`), with `forward`,
`inverse`, `forward_log_det_jacobian(x, event_ndims)` and
`inverse_log_det_jacobian(y, event_ndims)`; `Chain` composes them in TFP's
order. On the TensorFlow backend a `tfp.bijectors.Bijector` can stand in
where only those methods are used (e.g. in `FlowModel`'s `log_prob`).
"""

from kgen.bijectors.act_norm import ActNorm
from kgen.bijectors.affine_coupling import AffineCoupling
from kgen.bijectors.batch_normalization import BatchNormalization
from kgen.bijectors.bijector import Bijector
from kgen.bijectors.chain import Chain
from kgen.bijectors.coupling import Coupling
from kgen.bijectors.invert import Invert
from kgen.bijectors.invertible_conv1x1 import InvertibleConv1x1
from kgen.bijectors.masked_autoregressive import MaskedAutoregressive
from kgen.bijectors.masked_autoregressive import made_masks
from kgen.bijectors.multi_scale import MultiScale
from kgen.bijectors.permute import Permute
from kgen.bijectors.rational_quadratic_spline import RationalQuadraticSpline
from kgen.bijectors.spline_coupling import SplineCoupling
from kgen.bijectors.squeeze import Squeeze

__all__ = [
    "ActNorm",
    "AffineCoupling",
    "BatchNormalization",
    "Bijector",
    "Chain",
    "Coupling",
    "Invert",
    "InvertibleConv1x1",
    "MaskedAutoregressive",
    "MultiScale",
    "Permute",
    "RationalQuadraticSpline",
    "SplineCoupling",
    "Squeeze",
    "made_masks",
]
