import numpy as np

from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int
from kgen.utils.data_validation import validate_finite
from kgen.utils.molecule_arrays import MOLECULE_KEYS
from kgen.utils.molecule_arrays import check_molecules
from kgen.utils.recorded_config import RecordedConfig

# Centres of the smoothed distance histogram, angstroms: from the
# shortest bond (H-H, 0.74) to beyond most QM9 molecules' radius.
DISTANCE_CENTERS = np.arange(0.8, 5.01, 0.15, dtype="float32")
DISTANCE_WIDTH = 0.15
DESCRIPTORS = ("geometry", "atom_count")


class PropertyRegressor(RecordedConfig):
    """Predicts a molecular property from a molecule's elements and
    coordinates: the judge of property-conditioned 3-D generation.

    EDM (Hoogeboom et al. 2022) judges a model conditioned on a property
    by a regressor trained on real molecules: the property it predicts
    for each sample against the value the sample was conditioned on. The
    regressor's own error on real test molecules is the lower bound of
    that table, and its error against shuffled values the upper bound.

    EDM's regressor is an EGNN trained for days on a GPU. This one is
    ridge regression on descriptors invariant to rotations, reflections,
    translations and the order of the atoms, fitted in closed form in
    seconds on a CPU:

    ```
    d(m) = [counts of each element,
            sum_{i<j, pair (a, b)} exp(-(|x_i - x_j| - c_k)^2 / (2 s^2))
                for every element pair (a, b) and centre c_k,
            sum_i |x_i - mean x|^2]
    w = argmin_w sum_m (y_m - w . z(m))^2 + l2 |w|^2
    ```

    with `z` the descriptors standardised over the training molecules.
    On QM9 (100,000 training molecules, 3,000 test ones) it reads the
    polarizability `alpha` within 0.65 bohr^3 (EDM's EGNN: 0.10; with
    shuffled values 9.1, EDM's 9.01), so it measures conditioning
    coarser than EDM's judge. `descriptors="atom_count"` regresses on
    the number of atoms alone, EDM's "#Atoms" baseline.

    Args:
        num_atom_types: int, the atom types the molecules' `atom_types`
            index (QM9: H, C, N, O, F).
        l2: float >= 0, the ridge penalty on the standardised weights.
        descriptors: `"geometry"` (the descriptors above) or
            `"atom_count"`.

    Example:

    ```python
    train = kgen.datasets.load_qm9("train", max_molecules=2000)
    test = kgen.datasets.load_qm9("test", max_molecules=500)
    alpha = 1  # kgen.datasets.QM9_PROPERTIES' order
    regressor = kgen.metrics.PropertyRegressor().fit(
        train, train["properties"][:, alpha]
    )
    regressor.mean_absolute_error(test, test["properties"][:, alpha])
    ```

    References:
        1. Hoogeboom, Satorras, Vignac & Welling. Equivariant Diffusion
           for Molecule Generation in 3D. ICML 2022. arXiv:2203.17003.
        2. Hansen et al. Machine Learning Predictions of Molecular
           Properties: Accurate Many-Body Potentials and Nonlocality in
           Chemical Space. J. Phys. Chem. Lett. 2015 (bags of bonds).
    """

    def __init__(self, num_atom_types=5, l2=1.0, descriptors="geometry"):
        self.num_atom_types = validate_int(
            num_atom_types, "num_atom_types", minimum=1, maximum=118
        )
        self.l2 = validate_float(l2, "l2", minimum=0.0)
        if descriptors not in DESCRIPTORS:
            raise ValueError(
                f"`descriptors` must be one of {DESCRIPTORS}; received "
                f"{descriptors!r}."
            )
        self.descriptors = descriptors
        self.weights = None

    def fit(self, molecules, values):
        """Fits the regressor to `values`, one per molecule, and returns
        it.

        Args:
            molecules: a dict of padded `positions`, `atom_types` and
                `atom_mask` (`kgen.datasets.load_qm9`'s layout; other
                keys are not read).
            values: `(n,)` finite floats.
        """
        features = self.describe(molecules)
        values = validate_finite(values, (len(features),), "values")
        mean = features.mean(axis=0)
        # A descriptor constant over the training molecules (a pair no
        # molecule has) carries no information: its weight stays 0.
        scale = features.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        standard = (features - mean) / scale
        gram = standard.T @ standard + self.l2 * np.eye(standard.shape[1])
        offset = values.mean()
        self.weights = {
            "mean": mean,
            "scale": scale,
            "coefficients": np.linalg.lstsq(
                gram, standard.T @ (values - offset), rcond=None
            )[0],
            "offset": offset,
        }
        return self

    def predict(self, molecules):
        """float64 `(n,)`: the property of each molecule."""
        if self.weights is None:
            raise ValueError(
                "This PropertyRegressor is not fitted: call `fit` first."
            )
        weights = self.weights
        standard = (self.describe(molecules) - weights["mean"]) / weights[
            "scale"
        ]
        return standard @ weights["coefficients"] + weights["offset"]

    def mean_absolute_error(self, molecules, values):
        """`mean |predict(molecules) - values|`, in the values' units."""
        predicted = self.predict(molecules)
        values = validate_finite(values, (len(predicted),), "values")
        return float(np.mean(np.abs(predicted - values)))

    def describe(self, molecules, batch_size=1000):
        """float64 `(n, d)`: the descriptors of each molecule."""
        if isinstance(molecules, dict):
            # Other arrays beside the molecules (QM9's properties and
            # SMILES) are not read.
            molecules = {
                key: molecules[key] for key in MOLECULE_KEYS if key in molecules
            }
        molecules = check_molecules(
            molecules, self.num_atom_types, None, argument="molecules"
        )
        counts = molecules["atom_mask"].sum(axis=1, keepdims=True)
        if self.descriptors == "atom_count":
            return counts.astype("float64")
        rows = []
        for start in range(0, len(counts), batch_size):
            batch = {
                key: value[start : start + batch_size]
                for key, value in molecules.items()
            }
            rows.append(self._geometry(batch))
        return np.concatenate(rows).astype("float64")

    def _geometry(self, molecules):
        positions = molecules["positions"]
        types = molecules["atom_types"]
        mask = molecules["atom_mask"]
        count, max_atoms = types.shape
        kinds = self.num_atom_types
        elements = (
            np.eye(kinds, dtype="float32")[types] * mask[..., None]
        ).sum(axis=1)
        # Each unordered pair of kept atoms once, by its element pair.
        first, second = np.triu_indices(max_atoms, k=1)
        low = np.minimum(types[:, first], types[:, second])
        high = np.maximum(types[:, first], types[:, second])
        pair_kind = low * kinds + high
        kept = mask[:, first] * mask[:, second]
        distances = np.linalg.norm(
            positions[:, first] - positions[:, second], axis=-1
        )
        smoothed = (
            np.exp(
                -0.5
                * np.square(
                    (distances[..., None] - DISTANCE_CENTERS) / DISTANCE_WIDTH
                )
            )
            * kept[..., None]
        )
        # Summed per molecule and element pair (a scatter-add by index;
        # `bincount` is NumPy's fast one).
        slot = (np.arange(count)[:, None] * kinds * kinds + pair_kind).ravel()
        histogram = np.stack(
            [
                np.bincount(
                    slot,
                    weights=smoothed[..., k].ravel(),
                    minlength=count * kinds * kinds,
                )
                for k in range(len(DISTANCE_CENTERS))
            ],
            axis=-1,
        ).reshape(count, kinds * kinds, -1)
        # Only pairs with low <= high occur; the others stay zero.
        ordered = [a * kinds + b for a in range(kinds) for b in range(a, kinds)]
        histogram = histogram[:, ordered].reshape(count, -1)
        centre = (positions * mask[..., None]).sum(axis=1, keepdims=True) / (
            mask.sum(axis=1)[:, None, None]
        )
        spread = np.sum(
            np.square(positions - centre).sum(axis=-1) * mask,
            axis=1,
            keepdims=True,
        )
        return np.concatenate([elements, histogram, spread], axis=1)
