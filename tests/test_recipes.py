"""Every recipe's `--smoke` run: the script that trains a shipped preset,
end to end at toy size (its data, model, fit, metrics and card), written
under /tmp/kgen_smoke rather than over the preset.

A recipe runs for hours and only when its preset is retrained, so nothing
else notices when a change in kgen breaks one; these runs do. Minutes in
all, one process each: `pytest -m large`. In order, on one worker: the
classifier presets a generative recipe scores with come first.

Left out: the recipes that turn a lent GPU's or a benchmark's weights into
a preset (`--weights` of `video_diffusion_moving_mnist`,
`masked_diffusion_chorales`, `sequence_vae_moses`, `few_step_mnist`),
whose benchmarks' `--dry-run` is tested in tests/benchmarks/, and
`gallery.py` and `update_presets.py`, which read the shipped presets.
"""

import os
import subprocess
import sys

import pytest

from tests.conftest import BACKEND
from tests.conftest import REPO

SMOKE_RUNS = [
    ("mnist_classifier.py",),
    ("mnist_classifier.py", "--data", "fashion_mnist"),
    ("digits_classifier.py",),
    ("spoken_digits_classifier.py",),
    ("dcgan_digits.py",),
    ("vae_digits.py",),
    ("jem_digits.py",),
    ("nsf_checkerboard.py",),
    ("rbm_mnist.py",),
    ("gan_mnist.py", "dcgan"),
    ("gan_mnist.py", "wgan_gp"),
    ("vae_mnist.py", "vae"),
    ("vae_mnist.py", "hierarchical_vae"),
    ("flow_mnist.py", "glow"),
    ("flow_mnist.py", "realnvp"),
    ("pixel_cnn_mnist.py",),
    ("vqvae_mnist.py", "vqvae_mask_git_mnist"),
    ("vqvae_mnist.py", "vqvae_pixel_cnn_mnist"),
    ("ddpm_mnist.py",),
    ("flow_matching_fashion_mnist.py",),
    ("gpt_shakespeare.py",),
    ("gpt_moses.py",),
    ("gpt_peptides.py",),
    ("text_to_image_digits.py",),
    ("text_to_image_emoji.py",),
    ("flow_matching_emoji.py",),
    ("wave_net_spoken_digits.py",),
    ("wavegan_spoken_digits.py",),
    ("edm_qm9.py", "--stage", "train"),
    ("edm_qm9.py", "--stage", "preset"),
]


@pytest.mark.large
@pytest.mark.xdist_group("recipes")
@pytest.mark.skipif(
    BACKEND != "tensorflow",
    reason="a smoke run proves the script, not the backend: one runs them",
)
@pytest.mark.parametrize(
    "run", SMOKE_RUNS, ids=[" ".join(run) for run in SMOKE_RUNS]
)
def test_a_recipe_runs_end_to_end_at_toy_size(run):
    script, *arguments = run
    result = subprocess.run(
        [sys.executable, os.path.join("recipes", script), *arguments]
        + ["--smoke"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
