"""Presets scored by an exact likelihood re-measure it (large: minutes).

The GPT's validation loss, the spline flow's test NLL and the WaveNet's
held-out NLL are deterministic functions of the weights and fixed data,
so every backend must find the card's value to float tolerance.
"""

import os

import numpy as np
import pytest
from keras import ops

import kgen

# Means over thousands of terms, computed with other kernels (reductions
# in other orders, float32): a thousandth of a nat.
TOLERANCE_NATS = 1e-3


def metric(name, key):
    return kgen.presets.preset_metadata(name)["metrics"][key]["value"]


@pytest.mark.large
def test_gpt_preset_reaches_its_validation_loss():
    model = kgen.presets.load_preset("gpt_shakespeare")
    tokenizer = kgen.presets.load_tokenizer("gpt_shakespeare")
    path = os.path.join(os.environ["KGEN_DATA_DIR"], "tinyshakespeare.txt")
    _, validation = kgen.datasets.load_text(path)
    # nanoGPT's estimate: 20 batches of 12 random windows (seed 2).
    windows = kgen.datasets.random_windows(tokenizer(validation), 65, 240, 2)
    model.compile()  # presets load uncompiled; `evaluate` needs no optimizer
    loss = model.evaluate(
        windows[:, :-1], windows[:, 1:], batch_size=240, verbose=0
    )
    expected = metric("gpt_shakespeare", "val_loss_nanogpt_estimate")
    assert abs(loss - expected) <= TOLERANCE_NATS, (loss, expected)


@pytest.mark.large
def test_spline_flow_preset_reaches_its_test_nll():
    model = kgen.presets.load_preset("nsf_checkerboard")
    test = kgen.datasets.load_toy("checkerboard", 10000, seed=1)
    nll = -float(np.mean(ops.convert_to_numpy(model.log_prob(test))))
    expected = metric("nsf_checkerboard", "test_nll_nats")
    assert abs(nll - expected) <= TOLERANCE_NATS, (nll, expected)


@pytest.mark.large
def test_wave_net_preset_reaches_its_held_out_nll():
    model = kgen.presets.load_preset("wave_net_spoken_digits")
    _, (audio, labels) = kgen.datasets.load_spoken_digits_split()
    levels = kgen.utils.mu_law_encode(audio).astype("int32")
    nats = kgen.metrics.nats_per_sample(model, levels, labels)
    expected = metric("wave_net_spoken_digits", "test_nats_per_sample")
    assert abs(nats - expected) <= TOLERANCE_NATS, (nats, expected)
