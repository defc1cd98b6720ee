"""The two operations an E(3)-equivariant model needs on molecules in
3-D (`kgen.utils.molecule_arrays`' padded layout)."""

from keras import ops


def centered(positions, atom_mask):
    """`positions` less the mean of each molecule's kept atoms, zero where
    padded: the zero centre-of-mass subspace an E(3)-invariant density
    lives on (translations have no normalisable density).

    ```
    x_i - (sum_j m_j x_j) / (sum_j m_j),  i kept
    ```

    Projecting a standard normal draw this way gives the standard
    normal of that subspace (the projection is orthogonal), which is the
    noise of the forward process and of each reverse step.
    """
    mask = ops.expand_dims(atom_mask, -1)
    count = ops.maximum(ops.sum(mask, axis=1, keepdims=True), 1.0)
    mean = ops.sum(positions * mask, axis=1, keepdims=True) / count
    return (positions - mean) * mask


def atom_mask_of(num_atoms, max_atoms):
    """float32 `(n, max_atoms)`: 1 on each row's first `num_atoms` slots."""
    slots = ops.arange(max_atoms, dtype="int32")
    counts = ops.cast(ops.reshape(num_atoms, (-1, 1)), "int32")
    return ops.cast(slots[None, :] < counts, "float32")
