"""MOSES' metrics of generated molecules (Polykovskiy et al. 2020):
validity, unique@k, novelty and internal diversity, on SMILES strings.

Each follows the definition of the MOSES package, so that its numbers
stand beside MOSES' published baselines. RDKit parses and canonicalizes
(`pip install rdkit`, or kgen's `chem` extra); it is imported when a
metric runs, not with `kgen.metrics`.
"""

import warnings

import numpy as np

from kgen.tokenizers.token_ids import as_texts

# MOSES' fingerprint for internal diversity: Morgan, radius 2, 1024 bits.
_MORGAN_RADIUS = 2
_MORGAN_BITS = 1024
# Rows of the Tanimoto matrix computed at once: 512 x n float32 values
# (61 MB for MOSES' 30,000 samples), not the n x n matrix.
_BLOCK_ROWS = 512


def _rdkit():
    try:
        from rdkit import Chem
        from rdkit import RDLogger
    except ImportError:
        raise ImportError(
            "The molecule metrics need RDKit: pip install rdkit (or "
            "pip install 'kgen[chem]')."
        ) from None
    # A failed parse is a result here (validity), not a message.
    RDLogger.DisableLog("rdApp.*")
    return Chem


def _as_smiles(smiles, argument):
    if isinstance(smiles, str):
        raise ValueError(
            f"`{argument}` must be a list or array of SMILES str, not one str."
        )
    return as_texts(smiles, argument)


def canonical_smiles(smiles):
    """RDKit's canonical SMILES of each string, `None` where RDKit cannot
    parse it (or it is empty), as MOSES' `canonic_smiles`."""
    chem = _rdkit()
    canonical = []
    for text in _as_smiles(smiles, "smiles"):
        molecule = chem.MolFromSmiles(text) if text else None
        canonical.append(
            None if molecule is None else chem.MolToSmiles(molecule)
        )
    return canonical


def validity(smiles):
    """The fraction of `smiles` RDKit parses into a molecule."""
    canonical = canonical_smiles(smiles)
    if not canonical:
        raise ValueError("`smiles` must hold at least one string.")
    return sum(c is not None for c in canonical) / len(canonical)


def uniqueness(smiles, k=None):
    """unique@k: the fraction of distinct molecules (by canonical SMILES)
    among the first `k` valid ones (all of them when `k` is `None`).

    As in MOSES, fewer than `k` valid molecules give the fraction over
    those there are, with a warning.
    """
    valid = [c for c in canonical_smiles(smiles) if c is not None]
    if not valid:
        raise ValueError("`smiles` holds no valid molecule.")
    if k is not None:
        if len(valid) < k:
            warnings.warn(
                f"unique@{k} over only {len(valid)} valid molecules.",
                stacklevel=2,
            )
        valid = valid[:k]
    return len(set(valid)) / len(valid)


def novelty(smiles, training_smiles):
    """The fraction of the distinct valid molecules that are not in
    `training_smiles`.

    `training_smiles` are compared as given: pass them in RDKit's
    canonical form, as MOSES' training set is stored.
    """
    generated = {c for c in canonical_smiles(smiles) if c is not None}
    if not generated:
        raise ValueError("`smiles` holds no valid molecule.")
    training = set(_as_smiles(training_smiles, "training_smiles"))
    return len(generated - training) / len(generated)


def morgan_fingerprints(smiles):
    """`(n, 1024)` uint8 Morgan fingerprints (radius 2) of the valid
    molecules among `smiles`, in order."""
    chem = _rdkit()
    from rdkit.Chem import rdFingerprintGenerator

    generator = rdFingerprintGenerator.GetMorganGenerator(
        radius=_MORGAN_RADIUS, fpSize=_MORGAN_BITS
    )
    rows = []
    for text in _as_smiles(smiles, "smiles"):
        molecule = chem.MolFromSmiles(text) if text else None
        if molecule is not None:
            rows.append(generator.GetFingerprintAsNumPy(molecule))
    return np.array(rows, dtype="uint8").reshape(-1, _MORGAN_BITS)


def internal_diversity(smiles, p=1):
    """IntDiv_p of the valid molecules among `smiles`:

    ```
    IntDiv_p = 1 - mean_i (mean_j T(i, j)^p)^(1/p)
    ```

    with `T` the Tanimoto similarity of Morgan fingerprints (radius 2,
    1024 bits) and `j` over every molecule, `i` itself included, as
    MOSES computes it.
    """
    if p not in (1, 2):
        raise ValueError(f"`p` must be 1 or 2, as MOSES'; received {p!r}.")
    fingerprints = morgan_fingerprints(smiles).astype("float32")
    if not len(fingerprints):
        raise ValueError("`smiles` holds no valid molecule.")
    counts = fingerprints.sum(axis=1)
    aggregated = []
    for start in range(0, len(fingerprints), _BLOCK_ROWS):
        block = fingerprints[start : start + _BLOCK_ROWS]
        shared = block @ fingerprints.T
        union = counts[start : start + _BLOCK_ROWS, None] + counts - shared
        # Two empty fingerprints (such as two lone hydrogens) count as
        # identical, as MOSES' zero-denominator rule makes them.
        tanimoto = np.where(union > 0, shared / np.maximum(union, 1), 1.0)
        aggregated.append(np.mean(tanimoto**p, axis=1) ** (1.0 / p))
    return float(1.0 - np.mean(np.concatenate(aggregated)))
