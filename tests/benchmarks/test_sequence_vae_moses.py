"""`python -m benchmarks.sequence_vae_moses --dry-run`: the SMILES VAE's
training, sampling, reconstruction and latent-optimisation paths of the
benchmark at toy size (needs RDKit and the `molsets` wheel; skipped
without)."""

import pytest

from tests.benchmarks.dry_run import dry_run
from tests.datasets.test_molecules import needs_molsets

pytest.importorskip("rdkit", reason="the molecule metrics need RDKit")

# The model is proved in tests/models/vae; this checks the script's own
# wiring, on the backend cheapest for it.
pytestmark = pytest.mark.torch_only


@needs_molsets
def test_dry_run_trains_samples_and_climbs(tmp_path):
    from benchmarks import sequence_vae_moses

    cache = ["--cache", str(tmp_path / "cache")]
    weights = str(tmp_path / "chunk1.weights.h5")
    results, stored = dry_run(
        sequence_vae_moses.main, tmp_path / "vae", *cache, "--weights", weights
    )
    assert (
        stored["reconstruction_accuracy"] == results["reconstruction_accuracy"]
    )
    assert results["training"]["steps"] == 8
    assert [row["decoding"] for row in results["samples"]] == [
        "prior, random, temperature 1",
        "prior, greedy",
    ]
    for row in results["samples"]:
        assert 0.0 <= row["validity"] <= 1.0
    optimisation = results["latent_optimisation"]
    assert 0.0 < optimisation["test_molecules_qed"] < 1.0
    assert optimisation["climb_steps"] == 2
    # A second chunk goes on from the first: the KL warm-up's step
    # counter travels with the weights.
    resumed, _ = dry_run(
        sequence_vae_moses.main, tmp_path / "vae2", *cache, "--init", weights
    )
    assert resumed["training"]["steps"] == 16
