"""`python -m benchmarks.guidance_mnist --dry-run`: the guide's training
and every guidance row of the benchmark at toy size."""

import pytest

from benchmarks import guidance_mnist
from tests.benchmarks.dry_run import dry_run

# The samplers' guidance is proved in tests/models/diffusion; this checks
# the script's own wiring, on the backend cheapest for it.
pytestmark = pytest.mark.torch_only


def test_dry_run_trains_a_guide_and_draws_every_row(tmp_path):
    results, stored = dry_run(guidance_mnist.main, tmp_path / "guidance")
    assert stored["dry_run"] == results
    rows = [name for name in results if name.endswith("_finite")]
    # The unguided row, CFG, CFG in an interval and autoguidance at each
    # scale, and CFG++ at each strength.
    assert len(rows) == (
        1
        + 3 * len(guidance_mnist.GUIDANCE_SCALES)
        + len(guidance_mnist.CFG_PLUS_PLUS_STRENGTHS)
    )
    assert all(results[name] for name in rows)
    assert results["guide_loss"] > 0
