"""MOSES' metrics of generated molecules (Polykovskiy et al. 2020):
validity, unique@k, novelty, internal diversity, filters, FCD, SNN,
fragment and scaffold similarity, on SMILES strings; and the properties
QED and logP.

Each follows the definition of the MOSES package, so that its numbers
stand beside MOSES' published baselines. RDKit parses and canonicalizes
(`pip install rdkit`, or kgen's `chem` extra); it is imported when a
metric runs, not with `kgen.metrics`.
"""

import functools
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


def _molecules(smiles):
    """RDKit's molecule of each SMILES of `smiles`, `None` where it cannot
    parse it (or the string is empty)."""
    chem = _rdkit()
    return [
        chem.MolFromSmiles(text) if text else None
        for text in _as_smiles(smiles, "smiles")
    ]


def canonical_smiles(smiles):
    """RDKit's canonical SMILES of each string, `None` where RDKit cannot
    parse it (or it is empty), as MOSES' `canonic_smiles`."""
    chem = _rdkit()
    canonical = []
    for molecule in _molecules(smiles):
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
    _rdkit()  # RDKit, or an error saying how to install it
    from rdkit.Chem import rdFingerprintGenerator

    generator = rdFingerprintGenerator.GetMorganGenerator(
        radius=_MORGAN_RADIUS, fpSize=_MORGAN_BITS
    )
    rows = []
    for molecule in _molecules(smiles):
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


# The properties `properties` computes: RDKit's QED (Bickerton et al.
# 2012) and Crippen logP (Wildman and Crippen 1999), the two MOSES plots.
PROPERTIES = ("qed", "logp")


def properties(smiles, name="qed"):
    """`(n,)` float64 values of one property of each SMILES, NaN where
    RDKit cannot parse it.

    Args:
        smiles: list or array of SMILES str.
        name: `"qed"` (drug-likeness in [0, 1]) or `"logp"` (the
            octanol-water partition coefficient).
    """
    if name not in PROPERTIES:
        raise ValueError(
            f"`name` must be one of {PROPERTIES}; received {name!r}."
        )
    _rdkit()  # RDKit, or an error saying how to install it
    from rdkit.Chem import QED
    from rdkit.Chem import Crippen

    compute = QED.qed if name == "qed" else Crippen.MolLogP
    molecules = _molecules(smiles)
    values = np.full(len(molecules), np.nan)
    for index, molecule in enumerate(molecules):
        if molecule is not None:
            values[index] = compute(molecule)
    return values


def chemnet_statistics(smiles, batch_size=256):
    """The mean `(512,)` and covariance `(512, 512)` (float64) of
    ChemNet's features of `smiles` (`kgen.metrics.chemnet`), the
    statistics FCD compares."""
    from kgen.metrics.chemnet_features import chemnet_inputs

    smiles = _as_smiles(smiles, "smiles")
    if len(smiles) < 2:
        raise ValueError(
            "`smiles` must hold at least 2 strings for a covariance; "
            f"received {len(smiles)}."
        )
    network = _chemnet()
    features = np.concatenate(
        [
            network.predict_on_batch(
                chemnet_inputs(smiles[start : start + batch_size])
            )
            for start in range(0, len(smiles), batch_size)
        ]
    ).astype("float64")
    return features.mean(axis=0), np.cov(features, rowvar=False)


@functools.cache
def _chemnet():
    # Built once per process: reading and assigning its weights takes
    # a second, and `moses_metrics` may run for many models.
    from kgen.metrics.chemnet_features import chemnet

    return chemnet()


def frechet_chemnet_distance(smiles, reference):
    """FCD (Preuer et al. 2018): the Frechet distance between ChemNet's
    feature Gaussians of `smiles` and of `reference`.

    Args:
        smiles: the generated SMILES (MOSES passes the valid ones,
            canonical).
        reference: SMILES, or `(mean, covariance)` as `chemnet_statistics`
            or `kgen.datasets.load_moses_statistics` give them.
    """
    from kgen.metrics.frechet_distance import frechet_distance

    if isinstance(reference, tuple) and len(reference) == 2:
        reference_mean, reference_covariance = reference
    else:
        reference_mean, reference_covariance = chemnet_statistics(reference)
    mean, covariance = chemnet_statistics(smiles)
    return frechet_distance(
        mean, covariance, reference_mean, reference_covariance
    )


def nearest_neighbour_similarity(smiles, reference_fingerprints):
    """SNN: the mean, over the valid molecules of `smiles`, of the
    Tanimoto similarity to the nearest reference molecule (Morgan
    fingerprints, radius 2, 1,024 bits)."""
    fingerprints = morgan_fingerprints(smiles).astype("float32")
    if not len(fingerprints):
        raise ValueError("`smiles` holds no valid molecule.")
    reference = np.asarray(reference_fingerprints, "float32")
    reference_counts = reference.sum(axis=1)
    counts = fingerprints.sum(axis=1)
    nearest = np.zeros(len(fingerprints))
    for start in range(0, len(reference), 4 * _BLOCK_ROWS):
        block = reference[start : start + 4 * _BLOCK_ROWS]
        shared = fingerprints @ block.T
        union = (
            counts[:, None] + reference_counts[None, start : start + len(block)]
        ) - shared
        # Empty against empty counts as identical, as in MOSES.
        tanimoto = np.where(union > 0, shared / np.maximum(union, 1), 1.0)
        nearest = np.maximum(nearest, tanimoto.max(axis=1))
    return float(nearest.mean())


def fragment_counts(smiles):
    """BRICS fragment SMILES -> how many of the valid molecules of
    `smiles` hold it, with multiplicity (MOSES' `compute_fragments`)."""
    chem = _rdkit()
    from rdkit.Chem import AllChem

    counts = {}
    for molecule in _molecules(smiles):
        if molecule is None:
            continue
        pieces = chem.MolToSmiles(AllChem.FragmentOnBRICSBonds(molecule))
        for piece in pieces.split("."):
            counts[piece] = counts.get(piece, 0) + 1
    return counts


def scaffold_counts(smiles, min_rings=2):
    """Bemis-Murcko scaffold SMILES -> count over the valid molecules of
    `smiles`, scaffolds of fewer than `min_rings` rings left out (MOSES'
    `compute_scaffolds`)."""
    chem = _rdkit()
    from rdkit.Chem.Scaffolds import MurckoScaffold

    counts = {}
    for molecule in _molecules(smiles):
        if molecule is None:
            continue
        try:
            scaffold = MurckoScaffold.GetScaffoldForMol(molecule)
        except (ValueError, RuntimeError):
            continue
        key = chem.MolToSmiles(scaffold)
        if key and scaffold.GetRingInfo().NumRings() >= min_rings:
            counts[key] = counts.get(key, 0) + 1
    return counts


def count_similarity(counts, reference_counts):
    """The cosine similarity of two `{name: count}` dicts as vectors over
    their names (MOSES' Frag and Scaf); NaN if either is empty."""
    if not counts or not reference_counts:
        return float("nan")
    names = sorted(set(counts) | set(reference_counts))
    a = np.array([counts.get(n, 0) for n in names], "float64")
    b = np.array([reference_counts.get(n, 0) for n in names], "float64")
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def passes_filters(smiles, filter_smarts):
    """Whether each SMILES is a molecule MOSES' filters keep: no ring of 8
    atoms or more, no charged atom, only C, N, S, O, F, Cl, Br and H, and
    none of `filter_smarts`' substructures (MOSES' medicinal chemistry
    and PAINS filters: `kgen.datasets.moses_filter_smarts()`).

    Returns:
        `(n,)` bool array; `False` for what RDKit cannot parse.
    """
    chem = _rdkit()
    patterns = [chem.MolFromSmarts(text) for text in filter_smarts]
    allowed = {"C", "N", "S", "O", "F", "Cl", "Br", "H"}
    molecules = _molecules(smiles)
    passes = np.zeros(len(molecules), bool)
    for index, molecule in enumerate(molecules):
        if molecule is None:
            continue
        atoms = molecule.GetAtoms()
        rings = molecule.GetRingInfo().AtomRings()
        if any(len(ring) >= 8 for ring in rings):
            continue
        if any(
            a.GetFormalCharge() or a.GetSymbol() not in allowed for a in atoms
        ):
            continue
        explicit = chem.AddHs(molecule)  # the PAINS patterns name hydrogens
        passes[index] = not any(explicit.HasSubstructMatch(p) for p in patterns)
    return passes


def moses_metrics(
    smiles, training_smiles, test_statistics=None, filter_smarts=None
):
    """MOSES' table of the metrics above, for one set of samples.

    As in MOSES, every metric past validity scores the valid molecules
    in canonical form.

    Args:
        smiles: list or array of generated SMILES str (MOSES scores
            30,000).
        training_smiles: the model's training SMILES, canonical (as
            `kgen.datasets.load_molecules("moses", "train")` gives them).
        test_statistics: `kgen.datasets.load_moses_statistics("test")`,
            or `None` to leave out FCD/Test, SNN/Test, Frag/Test and
            Scaf/Test (without its `fcd_` entries: FCD alone).
        filter_smarts: `kgen.datasets.moses_filter_smarts()`, or `None`
            to leave out Filters.

    Returns:
        dict: `validity`, `unique_at_1k`, `unique_at_10k`, `novelty`,
        `internal_diversity_1`, `internal_diversity_2`, then `filters`,
        `fcd_test`, `snn_test`, `fragment_test` and `scaffold_test` as
        given the data; all but validity are NaN when no sample is a
        valid molecule.
    """
    names = ["unique_at_1k", "unique_at_10k", "novelty"]
    names += ["internal_diversity_1", "internal_diversity_2"]
    if filter_smarts is not None:
        names.append("filters")
    if test_statistics is not None:
        if "fcd_mean" in test_statistics:
            names.append("fcd_test")
        names += ["snn_test", "fragment_test", "scaffold_test"]
    canonical = canonical_smiles(smiles)
    valid = [c for c in canonical if c is not None]
    table = {"validity": len(valid) / len(canonical)}
    if not valid:
        return dict(table, **dict.fromkeys(names, float("nan")))
    with warnings.catch_warnings():
        # Fewer than 10,000 valid samples: unique@10k over those there
        # are, as MOSES reports it; the count is the caller's to say.
        warnings.simplefilter("ignore")
        table["unique_at_1k"] = uniqueness(valid, k=1000)
        table["unique_at_10k"] = uniqueness(valid, k=10_000)
    table["novelty"] = novelty(valid, training_smiles)
    table["internal_diversity_1"] = internal_diversity(valid, p=1)
    table["internal_diversity_2"] = internal_diversity(valid, p=2)
    if filter_smarts is not None:
        table["filters"] = float(np.mean(passes_filters(valid, filter_smarts)))
    if test_statistics is not None:
        stats = test_statistics
        if "fcd_mean" in stats:
            table["fcd_test"] = (
                frechet_chemnet_distance(
                    valid, (stats["fcd_mean"], stats["fcd_covariance"])
                )
                if len(valid) > 1
                else float("nan")
            )
        table["snn_test"] = nearest_neighbour_similarity(
            valid, stats["fingerprints"]
        )
        table["fragment_test"] = count_similarity(
            fragment_counts(valid), stats["fragments"]
        )
        table["scaffold_test"] = count_similarity(
            scaffold_counts(valid), stats["scaffolds"]
        )
    return table
