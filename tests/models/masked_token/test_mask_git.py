import keras
import numpy as np
import pytest

import kgen
from kgen.models.masked_token.mask_git import mask_ratio
from tests.conftest import to_numpy
from tests.models import contract_cases

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

CODE_SHAPE = (4, 4)


def class_grids(count=2048, noise=0.1, seed=0):
    """4x4 grids of 8 codes whose tokens are their class id (4 classes),
    each replaced by a uniform code with probability `noise`."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, count)
    codes = np.broadcast_to(labels[:, None, None], (count,) + CODE_SHAPE)
    replaced = rng.uniform(size=codes.shape) < noise
    codes = np.where(replaced, rng.integers(0, 8, codes.shape), codes)
    return codes.astype("int32"), labels


def small_model(num_classes=4, **kwargs):
    network = kgen.networks.masked_token_transformer(
        CODE_SHAPE,
        8,
        width=16,
        num_layers=1,
        num_heads=2,
        num_classes=num_classes,
    )
    model = kgen.models.MaskGIT(
        network, num_classes=num_classes, seed=0, **kwargs
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    return model


def test_mask_schedules_run_from_all_to_none():
    progress = np.array([0.0, 0.5, 1.0], "float32")
    expected = {
        "cosine": [1.0, np.cos(np.pi / 4), 0.0],
        "arccos": [1.0, 2.0 / 3.0, 0.0],
        "linear": [1.0, 0.5, 0.0],
    }
    for schedule, values in expected.items():
        np.testing.assert_allclose(
            to_numpy(mask_ratio(schedule, progress)), values, atol=1e-6
        )


def test_learns_class_grids_with_and_without_guidance():
    codes, labels = class_grids()
    model = small_model()
    model.fit(codes, labels, epochs=5, batch_size=64, verbose=0)
    wanted = np.arange(64) % 4
    # The data's grids hold their class id at 91% of positions (90% kept,
    # plus 1/8 of the replaced ones).
    agreement = {}
    for scale in (0.0, 2.0):
        grids = to_numpy(
            model.sample(
                64, labels=wanted, num_steps=4, seed=1, guidance_scale=scale
            )
        )
        assert grids.dtype == np.int32 and grids.shape == (64,) + CODE_SHAPE
        agreement[scale] = np.mean(grids == wanted[:, None, None])
    # Unconditioned draws would agree at ~25%.
    assert agreement[0.0] > 0.85
    assert agreement[2.0] > 0.85


@pytest.mark.parametrize("num_steps", [1, 3, 16])
def test_every_token_is_decided_and_inpainting_keeps_the_known(num_steps):
    model = small_model(num_classes=None)
    codes, _ = class_grids(count=4)
    grids = to_numpy(model.sample(4, num_steps=num_steps, seed=0))
    assert ((grids >= 0) & (grids < 8)).all()
    mask = np.zeros(CODE_SHAPE, "int32")
    mask[:, :2] = 1
    filled = to_numpy(model.inpaint(codes, mask, num_steps=num_steps, seed=0))
    np.testing.assert_array_equal(filled[:, :, :2], codes[:, :, :2])
    assert ((filled >= 0) & (filled < 8)).all()


def test_a_fitted_mask_git_is_a_vqvae_prior():
    vqvae = contract_cases.vq_vae().model
    code_shape = vqvae.code_shape
    prior = kgen.models.MaskGIT(
        kgen.networks.masked_token_transformer(
            code_shape, 8, width=8, num_layers=1, num_heads=2, num_classes=3
        ),
        num_classes=3,
        seed=0,
    )
    vqvae.prior = prior
    # Labels pick the prior's classes; the autoencoder trains without them.
    assert vqvae.samples_by_class and vqvae.num_classes == 3
    assert not vqvae.is_class_conditional
    labels = np.array([0, 1, 2])
    images = to_numpy(vqvae.sample(3, seed=0, labels=labels, num_steps=2))
    assert images.shape == (3,) + vqvae.data_shape
    codes = prior.sample(3, seed=0, labels=labels, num_steps=2)
    np.testing.assert_allclose(images, to_numpy(vqvae.decode(codes)))
    # The exported endpoint is the prior's, its grids decoded.
    sample, signature = vqvae.serving_endpoints()["sample"]
    prior_sample, prior_signature = prior.serving_endpoints()["sample"]
    assert [(s.shape, s.dtype) for s in signature] == [
        (s.shape, s.dtype) for s in prior_signature
    ]
    # As the exported function receives them: backend tensors.
    inputs = [
        keras.ops.convert_to_tensor(x)
        for x in (
            np.array([1, 2], "int32"),
            np.full((3, int(np.prod(code_shape))), 8, "int32"),
            labels.astype("int32"),
        )
    ]
    np.testing.assert_allclose(
        to_numpy(sample(*inputs)),
        to_numpy(vqvae.decode(prior_sample(*inputs))),
    )
    with pytest.raises(ValueError, match="`windowed`|`num_steps`"):
        vqvae.prior = kgen.models.PixelCNN(
            code_shape, num_levels=8, filters=4, num_layers=1
        )
        vqvae.sample(2, num_steps=2)


def test_bad_arguments_are_named():
    model = small_model()
    with pytest.raises(ValueError, match="mask_schedule"):
        kgen.models.MaskGIT(model.network, mask_schedule="square")
    with pytest.raises(ValueError, match="must take 1 inputs"):
        kgen.models.MaskGIT(model.network)
    with pytest.raises(ValueError, match="temperature"):
        model.sample(2, temperature=0.0)
    with pytest.raises(ValueError, match="num_steps"):
        model.sample(2, num_steps=0)
    with pytest.raises(ValueError, match="`mask`"):
        model.inpaint(np.zeros((2,) + CODE_SHAPE, "int32"), np.ones((3, 3)))
    with pytest.raises(ValueError, match="`mask`"):
        model.inpaint(
            np.zeros((2,) + CODE_SHAPE, "int32"), np.full(CODE_SHAPE, 2)
        )
    with pytest.raises(ValueError, match="`tokens`"):
        model.inpaint(np.full((2,) + CODE_SHAPE, 9), np.ones(CODE_SHAPE))
    unconditional = small_model(num_classes=None)
    with pytest.raises(ValueError, match="guidance"):
        unconditional.sample(2, guidance_scale=1.0)
    with pytest.raises(ValueError, match="x"):
        unconditional.fit(np.full((4,) + CODE_SHAPE, 8), verbose=0)
