import keras
from keras import ops

from kgen.utils.argument_validation import validate_int
from kgen.utils.recorded_config import RecordedConfig


@keras.saving.register_keras_serializable(package="kgen")
class EquivariantGraphConvolution(RecordedConfig, keras.layers.Layer):
    """One E(n)-equivariant graph convolution (Satorras et al. 2021) over
    the fully connected graph of each example's atoms.

    ```
    d_ij  = |x_i - x_j|^2
    m_ij  = phi_e([h_i, h_j, d_ij])  (x sigmoid(w . m_ij) with attention)
    h_i' = h_i + phi_h([h_i, sum_j m_ij / Z])
    x_i' = x_i + sum_j (x_i - x_j) / (sqrt(d_ij + eps) + 1)
                       * r tanh(phi_x(m_ij)) / Z
    ```

    over pairs `i != j` of atoms the mask keeps (`Z` is
    `normalization`). Features depend on distances alone and positions
    move along differences, so rotating, reflecting or translating the
    input positions does the same to the output positions and leaves the
    features unchanged, and permuting the atoms permutes both. The
    coordinate step is bounded (`r tanh`) and normalised by the distance,
    as EDM's is, so that early training cannot throw atoms far apart.
    Keras has no graph layer, hence this one.

    Args:
        hidden_dim: int, the width of the messages and of `phi_e`,
            `phi_h` and `phi_x`.
        attention: bool, gate each message by a learned sigmoid.
        normalization: float > 0, what the sums over neighbours are
            divided by.
        coordinate_range: float > 0, `r`: the most one neighbour moves an
            atom in one layer.
        update_positions: bool; `False` for a last layer whose positions
            are not used.

    Inputs `[features (batch, atoms, f), positions (batch, atoms, 3),
    atom_mask (batch, atoms)]`; outputs `[features (batch, atoms, f),
    positions (batch, atoms, 3)]`, zero where the mask is.
    """

    def __init__(
        self,
        hidden_dim,
        attention=True,
        normalization=1.0,
        coordinate_range=15.0,
        update_positions=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        validate_int(hidden_dim, "hidden_dim")
        for name, value in (
            ("normalization", normalization),
            ("coordinate_range", coordinate_range),
        ):
            if type(value) not in (int, float) or not 0 < value < float("inf"):
                raise ValueError(
                    f"`{name}` must be a positive number; received {value!r}."
                )
        self.hidden_dim = hidden_dim
        self.attention = attention
        self.normalization = float(normalization)
        self.coordinate_range = float(coordinate_range)
        self.update_positions = update_positions

    def build(self, input_shape):
        features_dim = input_shape[0][-1]
        dense = keras.layers.Dense
        self.edge_mlp = [
            dense(self.hidden_dim, activation="silu", name="edge_1"),
            dense(self.hidden_dim, activation="silu", name="edge_2"),
        ]
        self.edge_mlp[0].build((None, 2 * features_dim + 1))
        self.edge_mlp[1].build((None, self.hidden_dim))
        if self.attention:
            self.gate = dense(1, activation="sigmoid", name="gate")
            self.gate.build((None, self.hidden_dim))
        self.node_mlp = [
            dense(self.hidden_dim, activation="silu", name="node_1"),
            dense(features_dim, name="node_2"),
        ]
        self.node_mlp[0].build((None, features_dim + self.hidden_dim))
        self.node_mlp[1].build((None, self.hidden_dim))
        if self.update_positions:
            self.position_mlp = [
                dense(self.hidden_dim, activation="silu", name="position_1"),
                # Starts at zero, as EDM's last coordinate layer starts
                # near it: the first steps keep the geometry.
                dense(
                    1,
                    use_bias=False,
                    kernel_initializer="zeros",
                    name="position_2",
                ),
            ]
            self.position_mlp[0].build((None, self.hidden_dim))
            self.position_mlp[1].build((None, self.hidden_dim))

    def call(self, inputs):
        features, positions, atom_mask = inputs
        mask = ops.cast(atom_mask, features.dtype)
        num_atoms = ops.shape(features)[1]
        # Pairs of distinct kept atoms: (batch, atoms, atoms, 1).
        not_self = 1.0 - ops.eye(num_atoms, dtype=features.dtype)
        pair_mask = (mask[:, :, None] * mask[:, None, :] * not_self)[..., None]
        differences = positions[:, :, None, :] - positions[:, None, :, :]
        squared = ops.sum(ops.square(differences), axis=-1, keepdims=True)
        h_i = ops.broadcast_to(
            features[:, :, None, :],
            (*ops.shape(features)[:2], num_atoms, ops.shape(features)[-1]),
        )
        h_j = ops.swapaxes(h_i, 1, 2)
        messages = ops.concatenate([h_i, h_j, squared], axis=-1)
        for layer in self.edge_mlp:
            messages = layer(messages)
        if self.attention:
            messages = messages * self.gate(messages)
        messages = messages * pair_mask
        aggregated = ops.sum(messages, axis=2) / self.normalization
        update = ops.concatenate([features, aggregated], axis=-1)
        for layer in self.node_mlp:
            update = layer(update)
        features = (features + update) * mask[..., None]
        if self.update_positions:
            weight = messages
            for layer in self.position_mlp:
                weight = layer(weight)
            step = (
                differences
                / (ops.sqrt(squared + 1e-8) + 1.0)
                * self.coordinate_range
                * ops.tanh(weight)
                * pair_mask
            )
            positions = positions + ops.sum(step, axis=2) / self.normalization
        return features, positions * mask[..., None]

    def compute_output_shape(self, input_shape):
        return input_shape[0], input_shape[1]
