"""The architectures that shipped presets were trained on, rebuilt.

A recipe builds its model with `kgen.presets.build_architecture`; the
entry's `rebuilds` names the presets whose weights it must hold.
"""

import collections

import h5py
import pytest

import kgen

REBUILT = sorted(
    (name, preset)
    for name, entry in kgen.presets.ARCHITECTURES.items()
    for preset in entry.get("rebuilds", ())
)


def _preset_weight_shapes(preset):
    """Shapes of the preset's saved weights, its seed states aside."""
    shapes = collections.Counter()

    def visit(path, item):
        if isinstance(item, h5py.Dataset) and "seed_generator" not in path:
            shapes[tuple(item.shape)] += 1

    directory = kgen.presets.shipped_presets()[preset]
    with h5py.File(f"{directory}/model.weights.h5", "r") as weights:
        weights.visititems(visit)
    return shapes


@pytest.mark.parametrize("name, preset", REBUILT)
def test_an_architecture_rebuilds_its_presets_weights(name, preset):
    model = kgen.presets.build_architecture(name, seed=0)
    card = kgen.presets.preset_metadata(preset)
    assert type(model).__name__ == card["model_class"]
    assert model.count_params() == card["num_parameters"]
    shapes = collections.Counter(tuple(w.shape) for w in model.weights)
    assert shapes == _preset_weight_shapes(preset)


def test_an_override_only_networks_take_goes_to_them_alone():
    model = kgen.presets.build_architecture(
        "ddpm_mnist_small_untrained",
        widths=(8, 16),
        attention_levels=(1,),
        prediction_type="epsilon",
    )
    assert model.prediction_type == "epsilon"
    widths = {w.shape[-1] for w in model.denoiser.weights if len(w.shape) == 4}
    assert max(widths) == 16
