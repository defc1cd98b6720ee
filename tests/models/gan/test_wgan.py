import keras
import numpy as np
import pytest

import kgen
from tests.conftest import iterations
from tests.conftest import weights_of
from tests.models.gan import networks

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only


def test_fit_keeps_every_critic_weight_clipped(digits_symmetric):
    model = kgen.models.WGAN(
        networks.generator(),
        networks.critic(),
        networks.LATENT_DIM,
        clip_value=0.02,
        n_critic=3,
    )
    model.compile(
        g_optimizer=keras.optimizers.RMSprop(5e-3),
        d_optimizer=keras.optimizers.RMSprop(5e-3),
    )
    history = model.fit(digits_symmetric, batch_size=64, epochs=1, verbose=0)
    assert np.isfinite(history.history["d_loss"][-1])
    assert iterations(model.d_optimizer) == 6
    assert iterations(model.g_optimizer) == 2
    kernels = weights_of(model.discriminator)
    assert max(np.abs(w).max() for w in kernels) <= 0.02 + 1e-7


def test_loss_is_the_wasserstein_estimate(digits_symmetric):
    model = kgen.models.WGAN(
        networks.generator(), networks.critic(), networks.LATENT_DIM
    )
    assert model.adversarial_loss.objective == "wasserstein"
    with pytest.raises(ValueError, match="clip_value"):
        kgen.models.WGAN(
            networks.generator(),
            networks.critic(),
            networks.LATENT_DIM,
            clip_value=-1.0,
        )
