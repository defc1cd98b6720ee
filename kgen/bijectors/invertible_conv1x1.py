import keras
import numpy as np
from keras import ops

from kgen.bijectors.bijector import Bijector


@keras.saving.register_keras_serializable(package="kgen")
class InvertibleConv1x1(Bijector):
    """Glow's invertible 1x1 convolution, LU-decomposed.

    A learned channel mixing `W` applied at every pixel, parameterised as
    `W = P L (U + diag(sign * exp(log_s)))` with a fixed permutation `P`,
    unit lower-triangular `L` and strictly upper-triangular `U`, so

    ```
    y[h, w] = W x[h, w]
    log |det dy/dx| = height * width * sum(log_s)
    ```

    costs O(c) instead of O(c^3) (Kingma & Dhariwal 2018, section 3.2).
    Starts from a random rotation (seeded).

    Args:
        seed: int. Seeds the initial rotation.
    """

    def __init__(self, seed=0, **kwargs):
        super().__init__(min_event_ndims=3, **kwargs)
        self.seed = seed

    def build(self, input_shape):
        channels = input_shape[-1]
        rng = np.random.default_rng(self.seed)
        rotation, _ = np.linalg.qr(rng.normal(size=(channels, channels)))
        permutation, lower, upper = _lu(rotation)
        diagonal = np.diag(upper)
        self.permutation = ops.convert_to_tensor(permutation, "float32")
        self.sign = ops.convert_to_tensor(np.sign(diagonal), "float32")
        self.lower_mask = ops.convert_to_tensor(
            np.tril(np.ones((channels, channels)), -1), "float32"
        )
        self.lower = self.add_weight(
            shape=(channels, channels),
            initializer=keras.initializers.Constant(lower),
            name="lower",
        )
        self.upper = self.add_weight(
            shape=(channels, channels),
            initializer=keras.initializers.Constant(np.triu(upper, 1)),
            name="upper",
        )
        self.log_s = self.add_weight(
            shape=(channels,),
            initializer=keras.initializers.Constant(np.log(np.abs(diagonal))),
            name="log_s",
        )
        self.built = True

    def weight_matrix(self):
        channels = self.log_s.shape[0]
        lower = self.lower * self.lower_mask + ops.eye(channels)
        upper = ops.transpose(self.lower_mask) * self.upper + ops.diag(
            self.sign * ops.exp(self.log_s)
        )
        return ops.matmul(self.permutation, ops.matmul(lower, upper))

    def _pixels(self, x):
        return x.shape[-3] * x.shape[-2]

    def _forward_and_log_det(self, x):
        # y = W x per pixel is x @ W^T on the channel axis.
        y = ops.matmul(x, ops.transpose(self.weight_matrix()))
        return y, self._pixels(x) * ops.sum(self.log_s)

    def _inverse_and_log_det(self, y):
        inverse = ops.inv(self.weight_matrix())
        x = ops.matmul(y, ops.transpose(inverse))
        return x, -self._pixels(y) * ops.sum(self.log_s)


def _lu(matrix):
    """`P, L, U` with `matrix = P L U` (partial pivoting, NumPy only)."""
    size = len(matrix)
    upper = matrix.astype("float64").copy()
    lower = np.zeros((size, size))
    rows = np.arange(size)
    for column in range(size):
        pivot = column + np.argmax(np.abs(upper[column:, column]))
        upper[[column, pivot]] = upper[[pivot, column]]
        lower[[column, pivot]] = lower[[pivot, column]]
        rows[[column, pivot]] = rows[[pivot, column]]
        for row in range(column + 1, size):
            factor = upper[row, column] / upper[column, column]
            lower[row, column] = factor
            upper[row] -= factor * upper[column]
    # P A = L U with the rows reordered by `rows`, so A = P^T L U.
    permutation = np.eye(size)[rows].T
    np.fill_diagonal(lower, 0.0)
    return permutation, lower, upper
