import numpy as np
import pytest

import kgen


@pytest.mark.parametrize("upsampling", ["transposed", "nearest"])
def test_generator_makes_clips_of_the_length_in_tanh_range(upsampling):
    generator = kgen.networks.wavegan_generator(
        2048, latent_dim=8, model_size=2, upsampling=upsampling
    )
    clips = kgen.backend.predict(
        generator, np.ones((3, 8), "float32"), verbose=0
    )
    assert clips.shape == (3, 2048, 1)
    assert np.abs(clips).max() <= 1.0
    # The projection starts at 2048 / 4**5 = 2 steps of 16 d channels.
    assert generator.layers[1].units == 2 * 16 * 2


def test_class_conditional_networks_take_labels():
    generator = kgen.networks.wavegan_generator(
        1024, latent_dim=4, model_size=1, num_classes=3
    )
    discriminator = kgen.networks.wavegan_discriminator(
        1024, model_size=1, num_classes=3
    )
    noise, labels = np.ones((2, 4), "float32"), np.array([0, 2])
    clips = kgen.backend.predict(generator, [noise, labels], verbose=0)
    scores = kgen.backend.predict(discriminator, [clips, labels], verbose=0)
    assert scores.shape == (2, 1)
    # Each label has its own projection.
    other = kgen.backend.predict(
        discriminator, [clips, np.array([1, 1])], verbose=0
    )
    assert not np.allclose(scores, other)


def test_discriminator_shuffles_phase_after_all_but_its_last_stage():
    discriminator = kgen.networks.wavegan_discriminator(1024, model_size=1)
    shuffles = [
        layer
        for layer in discriminator.layers
        if isinstance(layer, kgen.layers.PhaseShuffle)
    ]
    assert [layer.radius for layer in shuffles] == [2] * 4
    plain = kgen.networks.wavegan_discriminator(
        1024, model_size=1, phase_shuffle=0
    )
    assert not any(
        isinstance(layer, kgen.layers.PhaseShuffle) for layer in plain.layers
    )


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="audio_length.*1024"):
        kgen.networks.wavegan_generator(6000)
    with pytest.raises(ValueError, match="audio_length"):
        kgen.networks.wavegan_discriminator(100)
    with pytest.raises(ValueError, match="upsampling"):
        kgen.networks.wavegan_generator(1024, upsampling="linear")
    with pytest.raises(ValueError, match="phase_shuffle"):
        kgen.networks.wavegan_discriminator(1024, phase_shuffle=-1)


def test_audio_classifier_scores_clips():
    classifier = kgen.networks.audio_classifier(1024, num_classes=4)
    probabilities = kgen.backend.predict(
        classifier, np.zeros((2, 1024, 1)), verbose=0
    )
    assert probabilities.shape == (2, 4)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert classifier.get_layer("features").units == 128
    with pytest.raises(ValueError, match="frame_length"):
        kgen.networks.audio_classifier(100, frame_length=256)
