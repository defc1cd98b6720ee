"""`python -m benchmarks.one_step_mnist --dry-run`: the MeanFlow and
shortcut-model training and sampling paths of the benchmark at toy
size."""

import pytest

from benchmarks import one_step_mnist
from tests.benchmarks.dry_run import dry_run


# A CPU benchmark (no lease to protect), whose model and sampler the
# contract harness fits and draws on every backend; one backend proves the
# script: torch's eager steps, 3.6 s where TensorFlow traced for 62 s.
@pytest.mark.torch_only
def test_dry_run_trains_and_samples_both_models_at_every_call_count(tmp_path):
    results, stored = dry_run(one_step_mnist.main, tmp_path / "one_step")
    assert stored["dry_run"] == results
    for kind in ("mean_flow", "shortcut"):
        for calls in one_step_mnist.MEAN_FLOW_CALLS:
            assert results[f"{kind}-{calls}_finite"]
        assert results[f"{kind}_loss"] > 0
