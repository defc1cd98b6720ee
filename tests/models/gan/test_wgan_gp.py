import numpy as np
import pytest

import kgen
from tests.conftest import iterations
from tests.models.gan import networks

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only


def test_fit_with_gradient_penalty_on_every_backend(digits_symmetric):
    # The critic keeps its dropout: the penalty runs it in inference mode,
    # so JAX's input gradient carries no state.
    model = kgen.models.WGANGP(
        networks.generator(),
        networks.critic(),
        networks.LATENT_DIM,
        gradient_penalty_weight=10.0,
        n_critic=2,
    )
    model.compile(g_optimizer=networks.adam(), d_optimizer=networks.adam())
    history = model.fit(digits_symmetric, batch_size=64, epochs=1, verbose=0)
    assert np.isfinite(history.history["d_loss"][-1])
    assert iterations(model.d_optimizer) == 4
    assert iterations(model.g_optimizer) == 2


def test_penalty_enters_the_critic_loss(digits_symmetric):
    losses = []
    for weight in (0.0, 100.0):
        model = kgen.models.WGANGP(
            networks.generator(),
            networks.critic(dropout_rate=0.0),
            networks.LATENT_DIM,
            gradient_penalty_weight=weight,
            n_critic=1,
            seed=0,
        )
        model.compile(g_optimizer=networks.adam(), d_optimizer=networks.adam())
        logs = model.evaluate(
            digits_symmetric, batch_size=64, verbose=0, return_dict=True
        )
        del logs
        history = model.fit(
            digits_symmetric[:64], batch_size=64, epochs=1, verbose=0
        )
        losses.append(history.history["d_loss"][0])
    # A fresh critic's input gradients are far from unit norm.
    assert losses[1] > losses[0] + 1.0


def test_rejects_negative_weight():
    with pytest.raises(ValueError, match="gradient_penalty_weight"):
        kgen.models.WGANGP(
            networks.generator(),
            networks.critic(),
            networks.LATENT_DIM,
            gradient_penalty_weight=-1.0,
        )


def test_spectral_norm_critic_with_hinge_loss_and_r1(digits_symmetric):
    model = kgen.models.GAN(
        networks.generator(),
        networks.critic(spectral_normalization=True),
        networks.LATENT_DIM,
        loss="hinge",
        r1_gamma=1.0,
    )
    model.compile(g_optimizer=networks.adam(), d_optimizer=networks.adam())
    history = model.fit(digits_symmetric, batch_size=64, epochs=1, verbose=0)
    assert np.isfinite(history.history["d_loss"][-1])
    assert iterations(model.d_optimizer) == 2
