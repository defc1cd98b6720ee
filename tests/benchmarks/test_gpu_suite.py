"""`python -m benchmarks.gpu_suite --dry-run`: every path at toy size.

The suite is prepared here and run where a GPU is lent; this runs each of
its measurements (kgen's U-Net and DiT training and sampling, GPT, and
the diffusers and nanoGPT peers where installed) on the CPU, in the
processes the real run uses, so a lease is never spent on a broken path.
"""

import importlib.util
import json
import sys

from tests.conftest import run_checked


def installed(module):
    return importlib.util.find_spec(module) is not None


def test_dry_run_measures_every_installed_path(tmp_path):
    out = tmp_path / "suite.json"
    run_checked(
        [sys.executable, "-m", "benchmarks.gpu_suite", "--dry-run"]
        + ["--out", str(out), "--nanogpt", str(tmp_path / "no_nanogpt")],
        timeout=600,
    )
    results = json.loads(out.read_text())
    rows = {row["part"]: row for row in results["rows"]}
    assert results["dry_run"] and results["device"] == "cpu"
    for network in ("unet8", "dit8"):
        for backend in ("tensorflow", "jax", "torch"):
            row = rows[f"{network}/{backend}"]
            if installed(backend):
                assert row["status"] == "ok", row
                assert row["train_images_per_s"] > 0
                assert row["sample_images_per_s"] > 0
                if installed("torch"):  # torch counts the FLOPs
                    assert row["forward_flops_per_image"] > 0
            else:
                assert row["status"] == f"skipped: {backend} is not installed"
        peer = rows[f"{network}/diffusers"]
        if installed("diffusers"):
            assert peer["status"] == "ok", peer
            assert peer["train_tflops"] > 0
        else:
            assert peer["status"] == "skipped: diffusers is not installed"
    for backend in ("tensorflow", "jax", "torch"):
        if installed(backend):
            assert rows[f"gpt/{backend}"]["train_tokens_per_s"] > 0
    assert rows["gpt/nanogpt"]["status"].startswith("skipped: nanoGPT")
