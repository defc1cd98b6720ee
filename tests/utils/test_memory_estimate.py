import pytest

from kgen.presets import build_architecture
from kgen.utils import memory_estimate

# The machine a 96x128 photograph folder ran out of memory on (TensorFlow:
# an 11.7 GB peak, then `OOM ... shape[58,4,3072,3072]`).
AVAILABLE = 23 * 10**9


def test_attention_over_3072_positions_is_refused():
    # The digits U-Net as it was built for 96x128 images: attention at
    # 48x64 positions.
    model = build_architecture(
        "flow_matching",
        (96, 128, 3),
        widths=(32, 64),
        attention_levels=(1,),
    )
    estimate = memory_estimate.estimate_training_bytes(model, 64, (96, 128, 3))
    assert estimate["attention_positions"] == 48 * 64
    # Four attention layers, each with two 64 x 4 x 3072^2 float matrices.
    assert estimate["activations"] > 4 * 2 * 64 * 4 * 3072**2 * 4
    with pytest.raises(ValueError) as error:
        memory_estimate.check_fits(model, 64, (96, 128, 3), available=AVAILABLE)
    message = str(error.value)
    assert "--batch-size" in message and "--image-size" in message
    assert "3,072 positions" in message and "23.0 GB available" in message


def test_the_same_images_at_64x64_fit():
    model = build_architecture("flow_matching", (64, 64, 3))
    estimate = memory_estimate.check_fits(
        model, 64, (64, 64, 3), available=AVAILABLE
    )
    assert estimate["attention_positions"] <= 16 * 16
    assert estimate["total"] < 0.8 * AVAILABLE
    parts = ("parameters", "gradients", "optimizer", "activations")
    assert estimate["total"] == sum(estimate[part] for part in parts)
    # Adam's two slots per trainable weight.
    assert estimate["optimizer"] == 2 * estimate["gradients"]


def test_available_memory_is_read():
    assert memory_estimate.available_bytes() > 0
