import numpy as np
import pytest

import kgen
from tests.conftest import randomise_weights
from tests.conftest import to_numpy

SHAPE = (3, 8, 8, 1)


def tiny(**kwargs):
    return kgen.networks.video_unet_denoiser(
        SHAPE, widths=(4, 8), num_heads=2, **kwargs
    )


def test_every_frame_sees_the_others_and_keeps_its_place():
    network = tiny(num_classes=10)
    assert [x.name for x in network.inputs] == [
        "noisy_videos",
        "timesteps",
        "labels",
    ]
    clips = np.random.default_rng(0).normal(size=(2,) + SHAPE)
    timesteps, labels = np.array([5, 7], "int32"), np.array([1, 10], "int32")
    # Zero-initialised output, as the image U-Net's.
    np.testing.assert_array_equal(
        to_numpy(network([clips, timesteps, labels])), 0.0
    )
    randomise_weights(network, scale=0.1)
    outputs = to_numpy(network([clips, timesteps, labels]))
    assert outputs.shape == (2,) + SHAPE
    # Changing the first frame changes the last frame's output: the
    # temporal layers carry it along the clip.
    changed = clips.copy()
    changed[:, 0] += 1.0
    moved = to_numpy(network([changed, timesteps, labels]))
    assert np.abs(moved[:, -1] - outputs[:, -1]).max() > 1e-4


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"`video_shape` must be \(frames"):
        kgen.networks.video_unet_denoiser((8, 8, 1))
    with pytest.raises(ValueError, match="cannot be halved"):
        kgen.networks.video_unet_denoiser((3, 6, 6, 1), widths=(4, 8, 8))
    with pytest.raises(ValueError, match="divisible by `num_heads`"):
        kgen.networks.video_unet_denoiser(SHAPE, widths=(6,), num_heads=4)


@pytest.mark.torch_only
@pytest.mark.parametrize("axes", [(1,), (2, 3)])
def test_attention_folds_the_kept_axes_into_the_batch_exactly(axes):
    """The block attends over `axes` as `MultiHeadAttention(attention_axes=
    axes)` on the whole clip does, with the same weights, without the 6-D
    scores that TensorFlow's oneDNN softmax refuses."""
    import keras

    from kgen.networks.video_denoiser import _attention_block

    clips = keras.Input((3, 4, 4, 8))
    folded = keras.Model(clips, _attention_block(clips, 2, axes, "block"))
    randomise_weights(folded, scale=0.3)
    norm = folded.get_layer("block_norm")
    attention = folded.get_layer("block_attention")
    whole = keras.layers.MultiHeadAttention(2, 4, attention_axes=axes)
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 4, 8))
    x = x.astype("float32")
    normalised = norm(x)
    whole(normalised, normalised)
    whole.set_weights(attention.get_weights())
    expected = x + to_numpy(whole(normalised, normalised))
    np.testing.assert_allclose(
        to_numpy(folded(x)), expected, rtol=1e-5, atol=1e-5
    )
