"""A fuzzer of bad inputs: hundreds of calls kgen must refuse, over every
public model class, the metrics, export and the command line.

The cases come in groups (one per model family, one for the metrics, one
for export, one per `kgen` subcommand); `tests/fuzz/bad_input.py` says
how each is judged. Run as a report:

```
KERAS_BACKEND=tensorflow python -m tests.fuzz.bad_inputs --json counts.json
```

It prints the counts per area and bin and every case that is not `clear`
with its message, and writes the counts (and those cases) as JSON.
`tests/fuzz/test_bad_inputs.py` asserts that every case is `clear` but
the open gaps listed in `tests/fuzz/known_gaps.txt`.
"""

import argparse
import collections
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

from tests.fuzz.bad_input import BINS
from tests.fuzz.bad_input import UNSUPPORTED
from tests.fuzz.bad_input import classify

AREAS = ("models", "metrics", "export", "cli")
MESSAGE_LENGTH = 200


def groups():
    """`(area, group)` pairs, each a set of cases built and run together."""
    from tests.fuzz import cli_inputs
    from tests.fuzz import model_inputs

    return (
        [("models", name) for name in model_inputs.families()]
        + [("metrics", "metrics"), ("export", "export")]
        + [("cli", subcommand) for subcommand in cli_inputs.SUBCOMMANDS]
    )


def group_inputs(area, group, workspace):
    """The `BadInput`s of one group; files go under `workspace`."""
    if area == "models":
        from tests.fuzz.model_inputs import family_inputs

        return family_inputs(group)
    if area == "metrics":
        from tests.fuzz.metric_inputs import metric_inputs

        return metric_inputs(workspace)
    if area == "export":
        from tests.fuzz.export_inputs import export_inputs

        return export_inputs(workspace)
    from tests.fuzz.cli_inputs import cli_inputs

    return cli_inputs(group, workspace)


def run_group(area, group, workspace):
    """`[(BadInput, Outcome)]` for one group."""
    return [
        (bad, classify(bad)) for bad in group_inputs(area, group, workspace)
    ]


# === Report ===


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="write the counts here")
    parser.add_argument(
        "--area", action="append", choices=AREAS, help="repeatable"
    )
    parser.add_argument(
        "--group", action="append", help="e.g. VAE or train; repeatable"
    )
    parser.add_argument(
        "--list", action="store_true", help="list the cases, run none"
    )
    args = parser.parse_args(argv)
    # As tests/conftest.py: the shared data beside the checkout.
    repository = pathlib.Path(__file__).resolve().parents[2]
    os.environ.setdefault(
        "KGEN_DATA_DIR", str(repository.parent / "shared" / "data")
    )
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    selected = [
        (area, group)
        for area, group in groups()
        if (not args.area or area in args.area)
        and (not args.group or group in args.group)
    ]
    results, unbuilt = [], []
    with tempfile.TemporaryDirectory() as workspace:
        for area, group in selected:
            start = time.time()
            folder = os.path.join(workspace, f"{area}_{group}")
            os.makedirs(folder)
            try:
                inputs = group_inputs(area, group, folder)
            except Exception as error:
                unbuilt.append(
                    (area, group, f"{type(error).__name__}: {error}")
                )
                print(f"{area}/{group}: not built: {error}", file=sys.stderr)
                continue
            if args.list:
                for bad in inputs:
                    print(f"{bad.area} {bad} [{', '.join(bad.names)}]")
                continue
            for bad in inputs:
                results.append((bad, classify(bad)))
            print(
                f"{area}/{group}: {len(inputs)} cases, "
                f"{time.time() - start:.1f}s",
                file=sys.stderr,
            )
    counts = count(results)
    print(f"\nbackend {keras.backend.backend()}\n")
    print(table(counts))
    for area, group, error in unbuilt:
        print(f"not built: {area}/{group}: {error[:MESSAGE_LENGTH]}")
    unclear = [
        (bad, outcome) for bad, outcome in results if outcome.bin != "clear"
    ]
    if unclear:
        print(f"\n{len(unclear)} cases not clear:")
    for bad, outcome in unclear:
        print(
            f"  [{outcome.bin}] {bad.area} {bad}: "
            f"{outcome.message[:MESSAGE_LENGTH]}"
        )
    if args.json:
        report = {
            "backend": keras.backend.backend(),
            "code": _code_version(repository),
            "counts": counts,
            "unbuilt": [
                {"area": area, "group": group, "error": error}
                for area, group, error in unbuilt
            ],
            "not_clear": [
                {
                    "area": bad.area,
                    "target": bad.target,
                    "argument": bad.argument,
                    "description": bad.description,
                    "bin": outcome.bin,
                    "message": outcome.message[:MESSAGE_LENGTH],
                }
                for bad, outcome in unclear
            ],
        }
        with open(args.json, "w") as file:
            json.dump(report, file, indent=2)
    return 0


def _code_version(repository):
    """`git describe` of the checkout under test, or `None`."""
    try:
        return subprocess.run(
            ["git", "-C", str(repository), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def count(results):
    """`{area: {"total": n, bin: n, ...}}` plus an `"all"` row."""
    columns = ("total",) + BINS + (UNSUPPORTED,)
    counts = {
        area: collections.Counter(dict.fromkeys(columns, 0))
        for area in AREAS + ("all",)
    }
    for bad, outcome in results:
        for row in (bad.area, "all"):
            counts[row]["total"] += 1
            counts[row][outcome.bin] += 1
    return {area: dict(row) for area, row in counts.items()}


def table(counts):
    columns = ("total",) + BINS + (UNSUPPORTED,)
    lines = [f"{'area':<8}" + "".join(f"{c:>12}" for c in columns)]
    for area, row in counts.items():
        lines.append(f"{area:<8}" + "".join(f"{row[c]:>12}" for c in columns))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
