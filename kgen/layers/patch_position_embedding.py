import keras
import numpy as np
from keras import ops

from kgen.utils.argument_validation import validate_choice
from kgen.utils.argument_validation import validate_shape
from kgen.utils.recorded_config import RecordedConfig


def sinusoidal_grid_table(grid_shape, width):
    """The fixed 2-D sine-cosine position table of ViT-style models (MAE,
    DiT): half of the channels encode the row, half the column, each as
    the Transformer encoding of a 1-D position.

    ```
    omega_k = 10000 ** (-k / (width / 4)),  k < width / 4
    row part = [sin(r omega), cos(r omega)],  likewise for the column
    ```

    Returns:
        A float32 array of shape `(rows * columns, width)`, row-major.
    """
    rows, columns = grid_shape
    quarter = width // 4
    omega = 1.0 / 10000.0 ** (np.arange(quarter) / quarter)

    def encode(positions):
        angles = positions[:, None] * omega[None, :]
        return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)

    row, column = np.meshgrid(
        np.arange(rows), np.arange(columns), indexing="ij"
    )
    table = np.concatenate(
        [encode(row.reshape(-1)), encode(column.reshape(-1))], axis=1
    )
    return table.astype("float32")


@keras.saving.register_keras_serializable(package="kgen")
class PatchPositionEmbedding(RecordedConfig, keras.layers.Layer):
    """Adds a position embedding to a flattened grid of patch tokens.

    ```
    y[b, i] = x[b, i] + P[i],   i = row * columns + column
    ```

    `P` is the fixed 2-D sine-cosine table (`"sinusoidal"`, as DiT and
    MAE) or a learned table (`"learned"`, as ViT), initialised small.
    keras-hub's `PositionEmbedding` is learned and 1-D; a fixed table that
    knows the grid lets a model trained at one grid size be read at
    another without new weights, hence this layer.

    Args:
        grid_shape: `(rows, columns)` of the patch grid.
        kind: `"sinusoidal"` or `"learned"`.

    Example:

    >>> layer = PatchPositionEmbedding((2, 3))
    >>> tuple(layer(keras.ops.zeros((1, 6, 8))).shape)
    (1, 6, 8)
    """

    KINDS = ("sinusoidal", "learned")

    def __init__(self, grid_shape, kind="sinusoidal", **kwargs):
        super().__init__(**kwargs)
        self.grid_shape = validate_shape(grid_shape, "grid_shape", rank=2)
        self.kind = validate_choice(kind, "kind", self.KINDS)

    def build(self, input_shape):
        length, width = input_shape[-2:]
        rows, columns = self.grid_shape
        if length != rows * columns:
            raise ValueError(
                f"`grid_shape` {self.grid_shape} has {rows * columns} "
                f"positions; the tokens have {length}."
            )
        if self.kind == "learned":
            self.table = self.add_weight(
                shape=(length, width),
                initializer=keras.initializers.RandomNormal(stddev=0.02),
                name="table",
            )
        else:
            if width % 4:
                raise ValueError(
                    "A sinusoidal position table needs a token width "
                    f"divisible by 4; received {width}."
                )
            # A constant, not a weight: nothing to train or to save.
            self.table = sinusoidal_grid_table(self.grid_shape, width)

    def call(self, inputs):
        return inputs + ops.cast(self.table, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape
