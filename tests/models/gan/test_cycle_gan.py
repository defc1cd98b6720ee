import numpy as np
import pytest

import kgen
from tests.conftest import iterations
from tests.conftest import reloaded
from tests.conftest import to_numpy
from tests.models.gan import networks

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only


@pytest.fixture(scope="module")
def domains():
    (a, b), _ = kgen.datasets.load_paired("inverted")
    return kgen.datasets.unpaired(a[:128], b[:128])


def cycle_gan():
    model = kgen.models.CycleGAN(
        kgen.networks.unet_generator((8, 8, 1), filters=8, name="g_ab"),
        kgen.networks.unet_generator((8, 8, 1), filters=8, name="g_ba"),
        kgen.networks.patchgan_discriminator((8, 8, 1), filters=8, name="d_a"),
        kgen.networks.patchgan_discriminator((8, 8, 1), filters=8, name="d_b"),
    )
    model.compile(
        g_ab_optimizer=networks.adam(),
        g_ba_optimizer=networks.adam(),
        d_a_optimizer=networks.adam(),
        d_b_optimizer=networks.adam(),
    )
    return model


def test_fit_cycles_and_resumes_every_optimizer(domains, tmp_path):
    a, b = domains
    model = cycle_gan()
    history = model.fit(a, b, batch_size=64, epochs=1, verbose=0)
    assert set(history.history) == {
        "g_loss",
        "d_a_loss",
        "d_b_loss",
        "cycle_loss",
    }
    back = model.translate(model.translate(a[:3]), direction="b_to_a")
    assert to_numpy(back).shape == (3, 8, 8, 1)
    logs = model.evaluate(a, b, batch_size=64, verbose=0, return_dict=True)
    assert np.isfinite(logs["cycle_loss"])
    restored = reloaded(model, tmp_path)
    # Each of the four optimizers' state comes back with the model.
    for optimizer in (
        restored.g_ab_optimizer,
        restored.g_ba_optimizer,
        restored.d_a_optimizer,
        restored.d_b_optimizer,
    ):
        assert iterations(optimizer) == 2


def test_bad_inputs(domains):
    a, b = domains
    model = cycle_gan()
    with pytest.raises(ValueError, match="Unpaired batches"):
        model.fit(a, b[:10], verbose=0)
    with pytest.raises(ValueError, match="direction"):
        model.translate(a[:2], direction="sideways")
    with pytest.raises(ValueError, match="cycle_weight"):
        kgen.models.CycleGAN(
            model.generator_ab,
            model.generator_ba,
            model.discriminator_a,
            model.discriminator_b,
            cycle_weight=-1,
        )
