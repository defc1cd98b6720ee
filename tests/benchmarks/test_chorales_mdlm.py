"""`python -m benchmarks.chorales_mdlm --dry-run`: masked diffusion over
a few chorales at toy size, its bound, harmonisations and MIDI files
(needs music21; skipped without)."""

import numpy as np
import pytest

from tests.benchmarks.dry_run import dry_run

pytest.importorskip("music21", reason="the chorales come from music21")

# The model is proved in tests/models/masked_token; this checks the
# script's own wiring, on the backend cheapest for it.
pytestmark = pytest.mark.torch_only


def test_dry_run_bounds_harmonises_and_writes_midi(tmp_path):
    import music21

    from benchmarks import chorales_mdlm

    results, stored = dry_run(chorales_mdlm.main, tmp_path / "chorales")
    assert stored["training"]["steps"] == 4
    assert np.isfinite(results["negative_elbo_nats_per_frame"])
    assert results["negative_elbo_nats_per_frame"] > 0
    harmonised = results["table"][1]
    assert harmonised["soprano_kept"]
    assert 0.0 <= harmonised["atb_tokens_as_bach"] <= 1.0
    midi = tmp_path / "chorales_midi" / "harmonised_0.mid"
    score = music21.converter.parse(str(midi))
    assert len(score.parts) == 4
