import math

import keras
import numpy as np
import pytest

from kgen import networks
from kgen.presets import build_architecture
from kgen.presets import image_size_rule
from kgen.presets.architectures import architecture


def _attention_positions(denoiser):
    return [
        math.prod(layer._build_shapes_dict["query_shape"][1:-1])
        for layer in denoiser._flatten_layers()
        if isinstance(layer, keras.layers.MultiHeadAttention)
    ]


def _coarsest_map(denoiser):
    return min(
        (math.prod(layer.output.shape[1:3]), tuple(layer.output.shape[1:3]))
        for layer in denoiser.layers
        if isinstance(layer, keras.layers.Conv2D)
    )[1]


@pytest.mark.parametrize("name", ["ddpm", "flow_matching"])
@pytest.mark.parametrize("shape", [(32, 32, 3), (64, 64, 3), (64, 96, 3)])
def test_a_unet_follows_the_image_size(name, shape):
    denoiser = build_architecture(name, shape, compile=False).denoiser
    positions = _attention_positions(denoiser)
    assert positions and max(positions) <= 16 * 16
    assert math.prod(_coarsest_map(denoiser)) <= 8 * 8
    x = np.zeros((2,) + shape, "float32")
    t = np.array([1, 2], denoiser.inputs[1].dtype)
    assert denoiser([x, t]).shape == (2,) + shape


@pytest.mark.parametrize(
    "name, shape",
    [
        ("ddpm", (8, 8, 1)),
        ("ddpm", (8, 8, 3)),
        ("flow_matching", (8, 8, 1)),
        ("ddpm_mnist_small_untrained", (28, 28, 1)),
    ],
)
def test_the_presets_own_image_size_keeps_its_network(name, shape):
    # The entry's own height and width (any channels) build its U-Net as
    # written, so the shipped presets keep their weights.
    entry = architecture(name)["networks"]["denoiser"]["arguments"]
    denoiser = build_architecture(name, shape, compile=False).denoiser
    arguments = {
        key: value
        for key, value in entry.items()
        if key in ("widths", "attention_levels", "num_classes")
    }
    expected = networks.unet_denoiser(
        shape, timestep_dtype=denoiser.inputs[1].dtype, **arguments
    )
    assert [w.shape for w in denoiser.weights] == [
        w.shape for w in expected.weights
    ]


def test_an_override_of_widths_wins_and_places_attention_for_it():
    denoiser = build_architecture(
        "ddpm", (32, 32, 3), compile=False, widths=(8, 16)
    ).denoiser
    widths = {w.shape[-1] for w in denoiser.weights if len(w.shape) == 4}
    assert max(widths) == 16
    # Two levels: 32x32 (no attention) and 16x16 and the middle.
    assert set(_attention_positions(denoiser)) == {16 * 16}


def test_a_size_that_cannot_be_halved_enough_names_the_flag():
    with pytest.raises(ValueError, match=r"--image-size .* e\.g\. 96"):
        build_architecture("flow_matching", (100, 100, 3), compile=False)


def test_the_rule():
    assert image_size_rule.unet_levels((96, 128, 3), [32, 64]) == {
        "widths": [32, 64, 64, 64, 64],
        "attention_levels": [3, 4],
    }
    assert image_size_rule.unet_levels((28, 28), [64, 128, 128]) == {
        "widths": [64, 128, 128],
        "attention_levels": [1, 2],
    }
