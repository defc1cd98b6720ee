"""A benchmark's `--dry-run`, with the results file it writes."""

import json


def dry_run(main, results, *arguments):
    """`main(["--dry-run", "--results", results, *arguments])`, a
    benchmark's entry point writing its results as `results`.json.

    Returns what `main` returns and what that file holds.
    """
    returned = main(["--dry-run", "--results", str(results), *arguments])
    with open(f"{results}.json") as f:
        return returned, json.load(f)
