"""Every recipe's `--smoke` run: the script that trains a shipped preset,
end to end at toy size (its data, model, fit, metrics and card), written
under /tmp/kgen_smoke rather than over the preset.

A recipe runs for hours and only when its preset is retrained, so nothing
else notices when a change in kgen breaks one; these runs do. Minutes in
all, one process each: `pytest -m large`. A run that reads another's
output shares its `xdist_group`, after it: the MNIST and Fashion-MNIST
classifiers that generative recipes score with, and the EDM's training
stage that its preset stage reads. The others run on either worker.

`lora_ddpm_fashion_mnist` runs its `--dry-run`. Left out: the recipes
that write a preset from a lent GPU's or a benchmark's weights
(`video_diffusion_moving_mnist`, `masked_diffusion_chorales`,
`sequence_vae_moses`, `few_step_mnist`, `vqvae_mnist`,
`wavegan_spoken_digits`), whose benchmarks' `--dry-run` is tested in
tests/benchmarks/, and `gallery.py` and `update_presets.py`, which read
the shipped presets. `pixel_cnn_mnist` takes the longest (2-3 minutes):
its card's sample grid is drawn pixel by pixel.
"""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from tests.conftest import BACKEND
from tests.conftest import REPO

MNIST = "mnist_classifier"  # xdist groups: a run after the one it reads
FASHION = "fashion_mnist_classifier"
QM9 = "edm_qm9"
SMOKE_RUNS = [
    (MNIST, ("mnist_classifier.py", "--smoke")),
    (FASHION, ("mnist_classifier.py", "--data", "fashion_mnist", "--smoke")),
    (None, ("digits_classifier.py", "--smoke")),
    (None, ("spoken_digits_classifier.py", "--smoke")),
    (None, ("dcgan_digits.py", "--smoke")),
    (None, ("vae_digits.py", "--smoke")),
    (None, ("jem_digits.py", "--smoke")),
    (None, ("nsf_checkerboard.py", "--smoke")),
    (None, ("rbm_mnist.py", "--smoke")),
    (MNIST, ("gan_mnist.py", "dcgan", "--smoke")),
    (MNIST, ("gan_mnist.py", "wgan_gp", "--smoke")),
    (None, ("vae_mnist.py", "vae", "--smoke")),
    (None, ("vae_mnist.py", "hierarchical_vae", "--smoke")),
    (None, ("flow_mnist.py", "glow", "--smoke")),
    (None, ("flow_mnist.py", "realnvp", "--smoke")),
    (None, ("pixel_cnn_mnist.py", "--smoke")),
    (MNIST, ("ddpm_mnist.py", "--smoke")),
    (FASHION, ("flow_matching_fashion_mnist.py", "--smoke")),
    (None, ("gpt_shakespeare.py", "--smoke")),
    (None, ("gpt_moses.py", "--smoke")),
    (None, ("gpt_peptides.py", "--smoke")),
    (None, ("text_to_image_digits.py", "--smoke")),
    (None, ("text_to_image_emoji.py", "--smoke")),
    (None, ("flow_matching_emoji.py", "--smoke")),
    (None, ("wave_net_spoken_digits.py", "--smoke")),
    (QM9, ("edm_qm9.py", "--stage", "train", "--smoke")),
    (QM9, ("edm_qm9.py", "--stage", "preset", "--smoke")),
    (
        None,
        (
            "lora_ddpm_fashion_mnist.py",
            "--dry-run",
            "--out",
            "/tmp/kgen_smoke/lora",
        ),
    ),
]


@pytest.mark.large
@pytest.mark.skipif(
    BACKEND != "tensorflow",
    reason="a smoke run proves the script, not the backend: one runs them",
)
@pytest.mark.parametrize(
    "run",
    [
        pytest.param(
            run,
            id=" ".join(run),
            marks=pytest.mark.xdist_group(group) if group else (),
        )
        for group, run in SMOKE_RUNS
    ],
)
def test_a_recipe_runs_end_to_end_at_toy_size(run):
    before = changed_files()
    result = subprocess.run(
        [sys.executable, os.path.join("recipes", run[0]), *run[1:]],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # A toy run writes nothing into the checkout (three digits recipes
    # ignored `--smoke` and retrained their presets in place; the emoji
    # recipes left their weights in the working directory).
    assert changed_files() == before


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
