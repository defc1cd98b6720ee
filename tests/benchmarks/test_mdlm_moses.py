"""`python -m benchmarks.mdlm_moses --dry-run`: MDLM on MOSES SMILES
beside the gpt_moses preset at toy size (needs RDKit and the `molsets`
wheel; skipped without)."""

import numpy as np
import pytest

from tests.benchmarks.dry_run import dry_run
from tests.datasets.test_molecules import needs_molsets

pytest.importorskip("rdkit", reason="the molecule metrics need RDKit")

# The model is proved in tests/models/masked_token; this checks the
# script's own wiring, on the backend cheapest for it.
pytestmark = pytest.mark.torch_only


@needs_molsets
def test_dry_run_scores_mdlm_beside_the_gpt(tmp_path):
    from benchmarks import mdlm_moses

    results, stored = dry_run(mdlm_moses.main, tmp_path / "mdlm")
    assert stored["rows"][0]["model"] == "MaskedDiffusion"
    assert results["training"]["steps"] == 8
    mdlm, gpt, cold_gpt = results["rows"]
    # Both are in nats per molecule of the same 16 test molecules: a
    # bound of 8 steps' MDLM above the trained GPT's exact value.
    assert mdlm["nats_per_molecule"] > gpt["nats_per_molecule"] > 0
    assert gpt["nats_per_molecule"] == cold_gpt["nats_per_molecule"]
    assert 0.5 <= gpt["validity"] <= 1.0
    assert np.isfinite(gpt["novelty"])
