"""A benchmark's `--dry-run`, with the files it writes."""

import json

import numpy as np


def dry_run(main, results, *arguments):
    """`main(["--dry-run", "--results", results, *arguments])`, a
    benchmark's entry point writing its results as `results`.json.

    Returns what `main` returns and what that file holds.
    """
    returned = main(["--dry-run", "--results", str(results), *arguments])
    with open(f"{results}.json") as f:
        return returned, json.load(f)


def gpu_job_dry_run(main, folder):
    """A GPU job's `--dry-run` (`main`) writing its checkpoint, weights,
    samples and result into `folder`: it must train on the CPU to a finite
    loss and leave a checkpoint.

    Returns the result and the arrays of `samples.npz`.
    """
    out = folder / "result.json"
    main(
        ["--dry-run", "--checkpoint-dir", str(folder / "checkpoint")]
        + ["--weights", str(folder / "weights.npz")]
        + ["--samples", str(folder / "samples.npz"), "--out", str(out)]
    )
    result = json.loads(out.read_text())
    assert result["training"]["device"] == "cpu"
    assert np.isfinite(result["training"]["final_loss"])
    assert (folder / "checkpoint").is_dir()
    with np.load(folder / "samples.npz") as stored:
        return result, dict(stored)
