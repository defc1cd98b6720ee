import numpy as np
import pytest

import kgen
from tests.conftest import to_numpy
from tests.models import contract_cases


def wave_net_preset(directory):
    """The contract's WaveNet saved as a preset folder whose card gives
    its clips as 6 samples at 800 Hz. Returns the model."""
    model = contract_cases.CASES["WaveNet"]().model
    kgen.presets.save_to_preset(
        model,
        directory,
        {"data": {"sample_rate": 800}, "sample_arguments": {"length": 6}},
    )
    return model


@pytest.mark.tensorflow_only
def test_a_preset_samples_with_its_cards_arguments(tmp_path):
    """`sample(n)` alone draws what the card measured: a WaveNet's clip
    length travels with the preset (it is a required argument of the
    class' `sample`)."""
    directory = str(tmp_path / "wave_net")
    model = wave_net_preset(directory)
    loaded = kgen.presets.load_preset(directory)
    clips = to_numpy(loaded.sample(2, seed=0))
    assert clips.shape == (2, 6)
    np.testing.assert_array_equal(
        clips, to_numpy(loaded.sample(2, seed=0, length=6))
    )
    assert to_numpy(loaded.sample(2, seed=0, length=9)).shape == (2, 9)
    with pytest.raises(TypeError, match="length"):
        model.sample(2)  # the class keeps its own signature
    assert kgen.presets.check_preset(directory) == 0.0
