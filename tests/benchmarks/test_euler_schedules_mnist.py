"""`python -m benchmarks.euler_schedules_mnist --dry-run`: every Euler
grid of the benchmark drawn at toy size."""

import numpy as np
import pytest

from benchmarks import euler_schedules_mnist
from benchmarks import flow_matching_mnist
from tests.benchmarks.dry_run import dry_run

# The Euler solver is proved in tests/schedulers; this checks the
# script's grids and wiring, on the backend cheapest for it.
pytestmark = pytest.mark.torch_only


def test_grids_move_steps_between_the_ends_of_the_path():
    model = flow_matching_mnist.build("flow", (8,), 1e-3, data_shape=(8, 8, 1))
    rows = {
        name: (calls, sigmas)
        for name, calls, sigmas, _ in euler_schedules_mnist.draws(model)
    }
    ten, fifty = rows["euler-10"][1], rows["euler-50"][1]
    tail = ten[-3]
    for name, (calls, sigmas) in rows.items():
        assert len(sigmas) == calls + 1, name
        assert sigmas[0] == ten[0] and sigmas[-1] == 0.0, name
        assert np.all(np.diff(sigmas) < 0), name
    coarse = rows["euler-50-coarse-tail"][1]
    np.testing.assert_array_equal(coarse[coarse > tail], fifty[fifty > tail])
    np.testing.assert_array_equal(coarse[-3:], ten[-3:])
    fine = rows["euler-10-fine-tail"][1]
    np.testing.assert_array_equal(fine[fine > tail], ten[ten > tail])
    assert np.sum((fine < tail) & (fine > 0)) == 10


def test_dry_run_draws_every_row(tmp_path):
    results, stored = dry_run(
        euler_schedules_mnist.main, tmp_path / "schedules"
    )
    assert stored["dry_run"] == results
    finite = [name for name in results if name.endswith("_finite")]
    assert len(finite) == 4 + len(euler_schedules_mnist.SHIFTS)
    assert all(results[name] for name in finite)
