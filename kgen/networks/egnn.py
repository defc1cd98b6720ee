"""An E(n)-equivariant graph network over a set of atoms."""

import keras
from keras import layers
from keras import ops

from kgen.layers.equivariant_graph_convolution import (
    EquivariantGraphConvolution,
)
from kgen.utils.argument_validation import validate_int


def egnn(
    features_dim,
    hidden_dim=64,
    num_layers=4,
    attention=True,
    normalization=1.0,
    max_atoms=None,
    name="egnn",
):
    """An E(n)-equivariant graph network (EGNN, Satorras et al. 2021), the
    network of EDM's diffusion (Hoogeboom et al. 2022).

    ```
    h = embed(features)
    repeat num_layers:  h, x = EquivariantGraphConvolution(h, x, mask)
    outputs = [unembed(h) * mask, x]
    ```

    Every atom attends to every other atom the mask keeps. Rotating,
    reflecting or translating `positions` rotates, reflects or
    translates the output positions and leaves the output features
    unchanged; permuting the atoms permutes both outputs
    (`tests/networks/test_egnn.py`, on every backend).

    Args:
        features_dim: int, the features per atom in and out (a one-hot
            atom type, with any conditioning concatenated).
        hidden_dim: int, the width of every layer.
        num_layers: int, the graph convolutions.
        attention: bool, gated messages.
        normalization: float > 0, what each sum over neighbours is
            divided by.
        max_atoms: `None` (any number) or an int, the atoms per example.
        name: str.

    Returns:
        A functional `keras.Model`: inputs `[features (batch, atoms,
        features_dim), positions (batch, atoms, 3), atom_mask (batch,
        atoms)]`, outputs `[features (batch, atoms, features_dim),
        positions (batch, atoms, 3)]`, zero where the mask is.

    Example:

    ```python
    network = kgen.networks.egnn(features_dim=6, hidden_dim=32)
    features, positions = network([h, x, mask])
    ```
    """
    validate_int(features_dim, "features_dim")
    validate_int(hidden_dim, "hidden_dim")
    validate_int(num_layers, "num_layers")
    if max_atoms is not None:
        validate_int(max_atoms, "max_atoms")
    features = keras.Input((max_atoms, features_dim), name="features")
    positions = keras.Input((max_atoms, 3), name="positions")
    atom_mask = keras.Input((max_atoms,), name="atom_mask")
    mask = ops.expand_dims(atom_mask, -1)
    hidden = layers.Dense(hidden_dim, name="embed")(features) * mask
    moved = positions * mask
    for index in range(num_layers):
        hidden, moved = EquivariantGraphConvolution(
            hidden_dim,
            attention=attention,
            normalization=normalization,
            name=f"graph_convolution_{index}",
        )([hidden, moved, atom_mask])
    outputs = layers.Dense(features_dim, name="unembed")(hidden) * mask
    return keras.Model(
        [features, positions, atom_mask], [outputs, moved], name=name
    )
