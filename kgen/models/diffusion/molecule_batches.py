"""What `EquivariantDiffusion` does with molecules in 3-D
(`kgen.utils.molecule_arrays`' padded layout) beside diffusing them:
the projection onto the centred space, masks of atom counts, and the
checks of its data and atom counts."""

import numpy as np
from keras import ops

from kgen.models import data_path
from kgen.models import public_inputs
from kgen.utils import batch_random
from kgen.utils import checked_batches
from kgen.utils import labelled_data
from kgen.utils import molecule_arrays
from kgen.utils.argument_validation import validate_int


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


def projected(state, atom_mask):
    """A molecule state `[positions, features]` on the space the
    diffusion lives on: positions centred, padded atoms zero."""
    positions = centered(state[..., :3], atom_mask)
    features = state[..., 3:] * ops.expand_dims(atom_mask, -1)
    return ops.concatenate([positions, features], axis=-1)


def atom_mask_of(num_atoms, max_atoms):
    """float32 `(n, max_atoms)`: 1 on each row's first `num_atoms` slots."""
    slots = ops.arange(max_atoms, dtype="int32")
    counts = ops.cast(ops.reshape(num_atoms, (-1, 1)), "int32")
    return ops.cast(slots[None, :] < counts, "float32")


def checked_atom_counts(atom_counts, max_atoms):
    """`atom_counts` (a histogram of atom counts) as a list of ints, or
    `None`; a `ValueError` names it when it is not one."""
    if atom_counts is None:
        return None
    counts = np.asarray(atom_counts)
    if (
        counts.shape != (max_atoms + 1,)
        or not np.issubdtype(counts.dtype, np.integer)
        or counts.min() < 0
        or counts[0] != 0
        or counts.sum() == 0
    ):
        raise ValueError(
            f"`atom_counts` must be {max_atoms + 1} non-negative ints (how "
            "many training molecules have 0, 1, ..., max_atoms atoms; none "
            "with 0, some with more); received "
            f"{np.asarray(atom_counts).tolist()!r}."
        )
    return [int(count) for count in counts]


def checked_num_atoms(num_atoms, num_samples, max_atoms):
    """int32 `(num_samples,)` atom counts of `sample`'s `num_atoms`."""
    if isinstance(num_atoms, np.ndarray) and num_atoms.ndim == 0:
        num_atoms = num_atoms[()]
    if isinstance(num_atoms, (int, np.integer)) and not isinstance(
        num_atoms, (bool, np.bool_)
    ):
        validate_int(num_atoms, "num_atoms", minimum=1, maximum=max_atoms)
        return np.full((num_samples,), int(num_atoms), "int32")
    counts = np.asarray(num_atoms)
    if (
        counts.shape != (num_samples,)
        or not np.issubdtype(counts.dtype, np.integer)
        or counts.min() < 1
        or counts.max() > max_atoms
    ):
        raise ValueError(
            f"`num_atoms` must be an int or {num_samples} ints (one per "
            f"sample) in [1, {max_atoms}]; received {num_atoms!r}."
        )
    return counts.astype("int32")


def prepared(model, x, y, x_argument, y_argument):
    """`EquivariantDiffusion._prepare_data`: molecules as `fit` feeds
    `call`, the checked arrays, with the properties under `"condition"`
    when the model conditions on them (the one conditioning path;
    `DataPath` says why)."""
    conditional = model.condition_dim is not None
    if x is None:
        return x, y
    if isinstance(x, dict):
        if conditional and "condition" in x and y is None:
            # Packed already: `fit`'s validation runs `evaluate`.
            x = dict(x)
            y = x.pop("condition")
        molecules = molecule_arrays.check_molecules(
            x, model.num_atom_types, model.max_atoms, x_argument
        )
        if not conditional:
            public_inputs.refuse_condition(model, y, y_argument)
            return molecules, None
        condition = data_path.validate_condition(
            model, y, len(molecules["positions"]), y_argument
        )
        return dict(molecules, condition=condition), None
    model._validate_data(x, x_argument)  # refuses a bare array
    x = checked_batches.check_each_batch(
        x, lambda batch, name: _check_batch(model, batch, name), x_argument
    )
    if conditional:
        x = labelled_data.map_batches(
            x, lambda x, y: (dict(x, condition=y), None), x_argument
        )
    return x, y


def _check_batch(model, batch, name):
    molecules, properties = batch, None
    if isinstance(batch, tuple):
        molecules = batch[0]
        properties = batch[1] if len(batch) > 1 else None
    molecule_arrays.check_molecules(
        molecules, model.num_atom_types, model.max_atoms, name
    )
    if model.condition_dim is None:
        public_inputs.refuse_condition(model, properties, f"{name}[1]")
    else:
        data_path.validate_condition(
            model,
            properties,
            len(molecules["positions"]),
            f"{name}[1]",
        )


def sampled_atom_counts(model, num_atoms, num_samples, seed):
    """int32 `(num_samples,)` atom counts: given, or drawn by inverting
    the cumulative histogram of `atom_counts` at uniform draws."""
    if num_atoms is not None:
        return ops.convert_to_tensor(
            checked_num_atoms(num_atoms, num_samples, model.max_atoms),
            "int32",
        )
    if model.atom_counts is None:
        raise ValueError(
            f"This {type(model).__name__} was built without "
            "`atom_counts`: pass `num_atoms` to `sample`."
        )
    counts = np.asarray(model.atom_counts, "float64")
    cumulative = ops.convert_to_tensor(
        (np.cumsum(counts) / counts.sum()).astype("float32")
    )
    draws = batch_random.uniform((num_samples,), seed)
    below = ops.cast(draws[:, None] >= cumulative[None, :], "int32")
    return ops.minimum(ops.sum(below, axis=1), model.max_atoms)


def checked_condition(model, condition, count):
    """The properties given to `sample` or `elbo`, one row per molecule
    of `count`, or `None` for a model without `condition_dim`."""
    if model.condition_dim is None:
        public_inputs.refuse_condition(model, condition, "condition")
        return None
    if condition is None:
        raise ValueError(
            f"This {type(model).__name__} conditions on "
            f"{model.condition_dim} properties (`condition_dim`): pass "
            "`condition`, one row per molecule."
        )
    return public_inputs.check_condition_values(model, condition, count)
