import pytest

import kgen

# What each kind of preset draws, as `kgen generate` and the gallery
# write it.
EXPECTED = {
    "gpt_shakespeare": ("text", (0.0, 1.0)),
    "gpt_moses": ("molecules", (0.0, 1.0)),
    "sequence_vae_moses": ("molecules", (0.0, 1.0)),
    "gpt_peptides": ("peptides", (0.0, 1.0)),
    "wave_net_spoken_digits": ("audio", (0.0, 1.0)),
    "wavegan_spoken_digits": ("audio", (-1.0, 1.0)),
    "masked_diffusion_chorales": ("music", (0.0, 1.0)),
    "nsf_checkerboard": ("points", (0.0, 1.0)),
    "video_diffusion_moving_mnist": ("video", (-1.0, 1.0)),
    "dcgan_digits": ("image", (-1.0, 1.0)),
    "vae_digits": ("image", (0.0, 1.0)),
    "rbm_mnist": ("image", (0.0, 1.0)),
}


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_preset_says_what_its_samples_are(name):
    model = kgen.presets.load_preset(name)
    card = kgen.presets.preset_metadata(name)
    kind = kgen.presets.sample_kind(
        model, card, has_tokenizer=kgen.presets.has_tokenizer(name)
    )
    assert kind in kgen.presets.SAMPLE_KINDS
    assert (kind, kgen.presets.value_range_of(model, card)) == EXPECTED[name]


def test_a_model_without_a_card_is_drawn_by_its_shape():
    model = kgen.models.RealNVP(event_shape=(2,), num_couplings=1)
    assert kgen.presets.sample_kind(model) == "points"
    clips = kgen.models.FlowMatching(
        kgen.networks.video_unet_denoiser(
            (2, 4, 4, 1), (4,), num_heads=2, timestep_dtype="float32"
        )
    )
    assert kgen.presets.sample_kind(clips) == "video"
    assert kgen.presets.value_range_of(model) == (0.0, 1.0)
