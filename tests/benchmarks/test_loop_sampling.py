"""`benchmarks.loop_sampling`: one preset's row, compiled beside eager."""

import pytest

from benchmarks import loop_sampling
from kgen import backend

# The peer (the eager loop) exists on TensorFlow and JAX alike; the script
# is the same on both, so one proves it.
pytestmark = pytest.mark.tensorflow_only


def test_a_row_times_both_loops_and_restores_the_compiled_one():
    compiled_program = backend.inference_program
    row = loop_sampling.measure("gpt_shakespeare", 2, 1)
    assert backend.inference_program is compiled_program
    assert row["preset"] == "gpt_shakespeare"
    for column in ("compiled", "eager"):
        assert row[f"{column}_seconds"] > 0
        assert row[f"{column}_first_seconds"] > 0
    # From the unrounded times; the row keeps three decimals of each.
    ratio = row["eager_seconds"] / row["compiled_seconds"]
    assert row["speedup"] == pytest.approx(ratio, rel=0.01)
