"""Every recipe's `--smoke` run: the script that trains a shipped preset,
end to end at toy size (its data, model, fit, metrics and card), written
under /tmp/kgen_smoke rather than over the preset.

A recipe runs for hours and only when its preset is retrained, so nothing
else notices when a change in kgen breaks one; these runs do. Minutes in
all, one process each: `pytest -m large`, and those `UNDER_TORCH`
`KERAS_BACKEND=torch pytest -m "large and torch_only"`. A run that
reads another's output shares its `xdist_group`, after it: the MNIST and
Fashion-MNIST classifiers that generative recipes score with, and the
EDM's training stage that its preset stage reads. The others run on
either worker.

`lora_ddpm_fashion_mnist` runs its `--dry-run`. Left out: the recipes
that write a preset from a lent GPU's or a benchmark's weights
(`video_diffusion_moving_mnist`, `masked_diffusion_chorales`,
`sequence_vae_moses`, `few_step_mnist`, `vqvae_mnist`,
`wavegan_spoken_digits`), whose benchmarks' `--dry-run` is tested in
tests/benchmarks/, and `gallery.py` and `update_presets.py`, which read
the shipped presets. `pixel_cnn_mnist`'s smoke run samples a 2-layer
network: its grid and references are drawn pixel by pixel (the full
network's grid alone took 160 s). Each run is a child forked from a
process that has imported kgen (`tests.fork_server`), which spares each
the 5.5 s of imports that a fresh `python` pays.
"""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from tests.conftest import REPO
from tests.fork_server import ForkServer

SMOKE_RUNS = [
    "mnist_classifier.py --smoke",
    "mnist_classifier.py --data fashion_mnist --smoke",
    "digits_classifier.py --smoke",
    "spoken_digits_classifier.py --smoke",
    "dcgan_digits.py --smoke",
    "vae_digits.py --smoke",
    "jem_digits.py --smoke",
    "nsf_checkerboard.py --smoke",
    "rbm_mnist.py --smoke",
    "gan_mnist.py dcgan --smoke",
    "gan_mnist.py wgan_gp --smoke",
    "vae_mnist.py vae --smoke",
    "vae_mnist.py hierarchical_vae --smoke",
    "flow_mnist.py glow --smoke",
    "flow_mnist.py realnvp --smoke",
    "pixel_cnn_mnist.py --smoke",
    "ddpm_mnist.py --smoke",
    "flow_matching_fashion_mnist.py --smoke",
    "gpt_shakespeare.py --smoke",
    "gpt_moses.py --smoke",
    "gpt_peptides.py --smoke",
    "text_to_image_digits.py --smoke",
    "text_to_image_emoji.py --smoke",
    "flow_matching_emoji.py --smoke",
    "wave_net_spoken_digits.py --smoke",
    "edm_qm9.py --stage train --smoke",
    "edm_qm9.py --stage preset --smoke",
    "lora_ddpm_fashion_mnist.py --dry-run --out /tmp/kgen_smoke/lora",
]
# The xdist group of each run that reads another's output, and of the run
# it reads (listed before it above).
GROUPS = {
    "mnist_classifier.py --smoke": "mnist_classifier",
    "gan_mnist.py dcgan --smoke": "mnist_classifier",
    "gan_mnist.py wgan_gp --smoke": "mnist_classifier",
    "ddpm_mnist.py --smoke": "mnist_classifier",
    "mnist_classifier.py --data fashion_mnist --smoke": "fashion_mnist",
    "flow_matching_fashion_mnist.py --smoke": "fashion_mnist",
    "edm_qm9.py --stage train --smoke": "edm_qm9",
    "edm_qm9.py --stage preset --smoke": "edm_qm9",
}


# A smoke run proves the script, not the backend: one backend runs each,
# TensorFlow (tests/conftest.py's default) or, where the script runs
# faster there and reads no other run's output, torch. Measured beside
# another run on two cores, `text_to_image_emoji` took 125 s under
# TensorFlow and 44 s under torch, the whole list below 475 s against
# 280 s; the GANs' and PixelCNN's took twice as long under torch (their
# FID-Inception and pixel-by-pixel sampling), and the digits recipes
# export SavedModels, which torch does not write.
UNDER_TORCH = (
    "text_to_image_emoji.py --smoke",
    "text_to_image_digits.py --smoke",
    "flow_matching_emoji.py --smoke",
    "lora_ddpm_fashion_mnist.py --dry-run --out /tmp/kgen_smoke/lora",
    "flow_mnist.py glow --smoke",
    "gpt_shakespeare.py --smoke",
    "nsf_checkerboard.py --smoke",
    "spoken_digits_classifier.py --smoke",
)


# A release retrains presets, and a recipe runs when its preset is
# retrained: the smoke runs below are `release` tests, run before a
# release with the rest of `pytest -m large` (the runs they read run there
# too), not in CI, whose budget they would outgrow (20-190 s each on its
# two cores, about 900 s of worker time in all). CI keeps the others:
# the MNIST, digits and spoken-digit classifiers, the digits GAN and VAE,
# the EDM's two stages and the runs under torch, which take the recipes'
# shared steps (`recipes/recipe_steps.py`, `recipes/model_card.py`) and
# each kind of data; the command line trains every MNIST architecture in CI
# (tests/test_cli.py).
RELEASE_RUNS = (
    "ddpm_mnist.py --smoke",
    "flow_matching_fashion_mnist.py --smoke",
    "gan_mnist.py dcgan --smoke",
    "gan_mnist.py wgan_gp --smoke",
    "gpt_moses.py --smoke",
    "gpt_peptides.py --smoke",
    "jem_digits.py --smoke",
    "mnist_classifier.py --data fashion_mnist --smoke",
    "pixel_cnn_mnist.py --smoke",
    "rbm_mnist.py --smoke",
    "flow_mnist.py realnvp --smoke",
    "vae_mnist.py vae --smoke",
    "vae_mnist.py hierarchical_vae --smoke",
    "wave_net_spoken_digits.py --smoke",
)


def _marks(run):
    marks = [pytest.mark.torch_only] if run in UNDER_TORCH else []
    if run in RELEASE_RUNS:
        marks.append(pytest.mark.release)
    if run in GROUPS:
        marks.append(pytest.mark.xdist_group(GROUPS[run]))
    return marks


@pytest.fixture(scope="module")
def server():
    """Forks each recipe's process on this run's backend."""
    server = ForkServer()
    yield server
    server.close()


@pytest.mark.large
@pytest.mark.parametrize(
    "run", [pytest.param(run, id=run, marks=_marks(run)) for run in SMOKE_RUNS]
)
def test_a_recipe_runs_end_to_end_at_toy_size(run, server):
    script, *arguments = run.split()
    before = changed_files()
    done = server.run(
        [os.path.join("recipes", script), *arguments], timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # A toy run writes nothing into the checkout (three digits recipes
    # ignored `--smoke` and retrained their presets in place; the emoji
    # recipes left their weights in the working directory).
    assert changed_files() == before


def test_every_grouped_run_is_a_smoke_run():
    # A mistyped key would leave its run ungrouped, free to run before
    # the run whose output it reads; a grouped run under torch would run
    # in another pytest process than the run it reads.
    assert set(GROUPS) <= set(SMOKE_RUNS)
    assert set(UNDER_TORCH) <= set(SMOKE_RUNS) - set(GROUPS)
    assert set(RELEASE_RUNS) <= set(SMOKE_RUNS) - set(UNDER_TORCH)


def changed_files():
    """What git sees changed or added in the checkout (ignored outputs
    such as runs/ aside)."""
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return status.stdout


def test_a_card_states_the_fit_that_ran():
    """`model_card.training_section` reads the epochs, steps, batch size,
    wall time and final loss of the `fit` that ran (`recipe_steps.FitRun`),
    so that a card cannot restate them wrong; a recipe that trains
    otherwise must give all four."""
    sys.path.insert(0, os.path.join(REPO, "recipes"))
    try:
        import model_card
        import recipe_steps
    finally:
        sys.path.pop(0)
    model = keras.Sequential([keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.zeros((10, 3), "float32")
    run = recipe_steps.timed_fit(
        model, x, x[:, :1], batch_size=4, epochs=2, verbose=0
    )
    section = model_card.training_section(
        "python recipes/toy.py", run, optimizers={}, config={}
    )
    assert section["epochs"] == 2
    assert section["steps"] == 6  # ceil(10 / 4) batches an epoch
    assert section["batch_size"] == 4
    assert section["examples_seen"] == 20  # the last batch holds 2
    assert section["final_loss"] == run.history.history["loss"][-1]
    assert section["wall_time_s"] == round(run.wall_time, 1)
    with pytest.raises(ValueError, match="not both"):
        model_card.training_section(
            "c", run, epochs=3, optimizers={}, config={}
        )
    with pytest.raises(ValueError, match="steps"):
        model_card.training_section(
            "c", epochs=1, batch_size=4, wall_time=1.0, optimizers={}, config={}
        )
