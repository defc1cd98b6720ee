import os

import keras
import numpy as np
import pytest

import kgen
from tests.conftest import to_numpy
from tests.models.gan import networks


class PoisonWeights(keras.callbacks.Callback):
    """Sets the discriminator's first kernel to NaN after a given step."""

    def __init__(self, after_step):
        super().__init__()
        self.after_step = after_step
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if self.steps == self.after_step:
            kernel = self.model.discriminator.trainable_variables[0]
            kernel.assign(np.full(kernel.shape, np.nan, "float32"))


def test_a_nan_gan_stops_at_its_step_and_keeps_the_good_checkpoint(
    digits_symmetric, tmp_path
):
    model = kgen.models.GAN(
        networks.generator(), networks.critic(), networks.LATENT_DIM, seed=0
    )
    model.compile(g_optimizer=networks.adam(), d_optimizer=networks.adam())
    path = str(tmp_path / "last_good.weights.h5")
    checkpoint = keras.callbacks.ModelCheckpoint(
        path,
        save_weights_only=True,
        save_best_only=True,
        monitor="g_loss",
        mode="min",
    )
    x = digits_symmetric[:128]
    # Two batches per epoch: epoch 1 is clean, the weights go bad after
    # the third optimizer step, so the fourth logs NaN.
    with pytest.raises(kgen.callbacks.NonFiniteLossError) as error:
        model.fit(
            x,
            batch_size=64,
            epochs=3,
            verbose=0,
            callbacks=[checkpoint, PoisonWeights(after_step=3)],
        )
    message = str(error.value)
    assert "step 4 of this fit (epoch 2, batch 2)" in message
    assert "d_loss=nan" in message
    assert os.path.exists(path)
    restored = kgen.models.GAN(
        networks.generator(), networks.critic(), networks.LATENT_DIM
    )
    restored.load_weights(path)
    for variable in restored.weights:
        assert np.isfinite(to_numpy(variable)).all(), variable.path


def test_an_explicit_callback_can_stop_quietly(digits_symmetric):
    model = kgen.models.GAN(
        networks.generator(), networks.critic(), networks.LATENT_DIM
    )
    model.compile(g_optimizer=networks.adam(), d_optimizer=networks.adam())
    quiet = kgen.callbacks.TerminateOnNonFinite(raise_error=False)
    model.fit(
        digits_symmetric[:128],
        batch_size=64,
        epochs=3,
        verbose=0,
        callbacks=[quiet, PoisonWeights(after_step=1)],
    )
    assert "step 2 of this fit (epoch 1, batch 2)" in quiet.message
    assert int(to_numpy(model.g_optimizer.iterations)) == 2
