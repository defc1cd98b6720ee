"""Generated bad inputs are refused with an error naming their argument,
except the open gaps listed in `known_gaps.txt`, which may only shrink.

One test per model family, for the metrics, for export and per `kgen`
subcommand (`tests/fuzz/bad_inputs.py` generates the cases). A failure
lists each case that was not `clear` and is not a known gap, with its bin
and message, and each known gap that is now refused clearly (delete its
line); `python -m tests.fuzz.bad_inputs` prints all cases as a report.
"""

import pathlib

import pytest

from tests.fuzz import bad_inputs

MESSAGE_LENGTH = 200
KNOWN_GAPS = pathlib.Path(__file__).with_name("known_gaps.txt")


def known_gaps():
    lines = KNOWN_GAPS.read_text().splitlines()
    return {line for line in lines if line and not line.startswith("#")}


def gap_key(bad):
    """The case's line in `known_gaps.txt`."""
    return f"{bad.target} [{bad.argument}] {bad.description}"


def _cases():
    """The groups, each where one backend proves it: the checks are of
    argument validation, which kgen does in NumPy and Python before any
    backend runs, so torch (eager: cheapest, tests/conftest.py), and
    TensorFlow for export's, which writes SavedModels."""
    for area, group in bad_inputs.groups():
        exports = "export" in (area, group)
        mark = (
            pytest.mark.tensorflow_only if exports else pytest.mark.torch_only
        )
        yield pytest.param(area, group, id=f"{area}-{group}", marks=mark)


@pytest.mark.parametrize("area, group", _cases())
def test_bad_inputs_are_refused_clearly(area, group, tmp_path):
    results = bad_inputs.run_group(area, group, str(tmp_path))
    assert results, f"no bad inputs were generated for {area} {group}"
    gaps = known_gaps()
    new = [
        f"[{outcome.bin}] {bad} (must name {' or '.join(bad.names)}): "
        f"{outcome.message[:MESSAGE_LENGTH]}"
        for bad, outcome in results
        if outcome.bin != "clear" and gap_key(bad) not in gaps
    ]
    closed = [
        gap_key(bad)
        for bad, outcome in results
        if outcome.bin == "clear" and gap_key(bad) in gaps
    ]
    problems = []
    if new:
        problems.append(
            f"{len(new)} of {len(results)} bad inputs were not refused "
            "clearly:\n" + "\n".join(new)
        )
    if closed:
        problems.append(
            f"{len(closed)} known gaps are refused clearly now; delete "
            f"their lines from {KNOWN_GAPS.name}:\n" + "\n".join(closed)
        )
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
