"""The written contract, checked by behaviour on every public model.

Each test runs over `contract_cases.CASES`, one tiny compiled instance of
every class in `kgen.models`: `fit` steps every optimizer (with labelled
`validation_data` for class-conditional models), `sample` gives finite
examples of the data's shape, the three forms of a seed agree, a `.keras`
round trip reproduces samples, `get_config` lists exactly the
constructor's arguments, and an exported endpoint computes what the model
does. `test_contract_signatures.py` checks the same contract by signature.
"""

import functools
import inspect

import keras
import numpy as np
import pytest

import kgen
from kgen.utils.nested_config import is_serialized_object
from tests.conftest import BACKEND
from tests.conftest import iterations
from tests.conftest import to_numpy
from tests.conftest import weights_of
from tests.models.contract_cases import CASES
from tests.models.contract_cases import model_class_name

PUBLIC_MODELS = {
    name
    for name in kgen.models.__all__
    if isinstance(getattr(kgen.models, name), type)
    and name != "GenerativeModel"
}
# Keras' own `Model` arguments, in every config.
KERAS_CONFIG_KEYS = {"name", "trainable", "dtype"}
SEED = 3
# The class-conditional cases (`Case.conditional`), named here so that
# collecting the tests builds no model.
CONDITIONAL = (
    "ConsistencyModel",
    "DiffusionModel",
    "DiffusionModel[dit]",
    "FlowMatching",
    "GAN[conditional]",
    "GPT[class_conditional]",
    "JointEnergyModel",
    "MaskGIT",
    "MaskedDiffusion",
    "MeanFlow",
    "PixelCNN",
    "ShortcutModel",
    "VAE[conditional]",
    "WaveGAN",
    "WaveNet",
)
# One representative per family keeps export's XLA compiles few
# (LatentDiffusion: the diffusion loop and a decoder, at an MLP's cost).
EXPORT_ENDPOINTS = {
    "ConsistencyModel": "sample",
    "DiffusionModel[dit]": "sample",
    "EquivariantDiffusion": "sample",
    "FlowMatching": "sample",
    "GAN": "sample",
    "GPT": "generate",
    "LatentDiffusion": "sample",
    "MaskGIT": "sample",
    "RealNVP": "sample",
    "TextToImage": "generate",
    "VAE": "sample",
}


# Variants whose classes each run on every backend in their own cases
# (`LatentDiffusion` on a VAE, `KLAutoencoder`): their combination is the
# same code on each, so TensorFlow alone proves it.
PROVEN_ON_TENSORFLOW = ("LatentDiffusion[kl]",)


def over_cases(names=None, xfail=None, large=()):
    """Parametrizes `name` over `names` (every case by default); the cases
    in `xfail` (`{name: reason}`) are expected to fail, strictly, and
    those in `large` run only under `-m large`."""
    xfail = xfail or {}

    def param(name):
        # One worker runs every test of a case: `trained` and `samples`
        # (a fit and a sampling loop, compiled) are cached per process.
        marks = [pytest.mark.xdist_group(name)]
        if name in PROVEN_ON_TENSORFLOW:
            marks.append(pytest.mark.tensorflow_only)
        if name in xfail:
            marks.append(pytest.mark.xfail(strict=True, reason=xfail[name]))
        if name in large:
            marks.append(pytest.mark.large)
        return pytest.param(name, id=name, marks=marks)

    return pytest.mark.parametrize(
        "name", [param(name) for name in sorted(names or CASES)]
    )


@functools.cache
def trained(name):
    """The case `name` after one `fit` step, and its history.

    Fitted once per session: the tests below only read the model (sample
    with explicit seeds, save, export), never train it further. A
    class-conditional case fits with labelled `validation_data`.
    """
    case = CASES[name]()
    validation_data = (case.x, case.y) if case.conditional else None
    history = case.model.fit(
        *case.fit_arguments(),
        validation_data=validation_data,
        epochs=1,
        batch_size=len(case.x),
        verbose=0,
    )
    return case, history.history


def draw(model, case, seed, num_samples=3):
    arguments = case.sample_arguments(num_samples)
    drawn = model.sample(num_samples, seed=seed, **arguments)
    # No autograd graph behind samples (torch): `np.asarray` reads them.
    assert not getattr(drawn, "requires_grad", False)
    return to_numpy(drawn)


@functools.cache
def samples(name):
    """`sample(3, seed=SEED)` of the trained case `name`, drawn once (each
    draw compiles a sampling loop)."""
    case, _ = trained(name)
    return draw(case.model, case, SEED)


def plain_config(model):
    """`get_config()` without the nested networks, whose layer names are
    renumbered when a model is loaded."""
    return {
        name: entry
        for name, entry in model.get_config().items()
        if not is_serialized_object(entry)
    }


def optimizers_of(model):
    """Every optimizer `compile` set: `optimizer`, or each network's
    (`g_optimizer`, `d_optimizer`, ...) under one `MultiOptimizer`."""
    return [
        value
        for value in vars(model).values()
        if isinstance(value, keras.optimizers.Optimizer)
        and not isinstance(value, keras.optimizers.MultiOptimizer)
    ]


def test_registry_covers_every_public_model():
    assert {model_class_name(name) for name in CASES} == PUBLIC_MODELS


@over_cases()
def test_fit_steps_every_optimizer(name):
    case, history = trained(name)
    assert history
    for metric, values in history.items():
        assert np.isfinite(values).all(), metric
    optimizers = optimizers_of(case.model)
    assert optimizers
    for optimizer in optimizers:
        assert iterations(optimizer) >= 1, optimizer.name


@over_cases()
def test_sample_shape_dtype_finite(name):
    case, _ = trained(name)
    shape = case.sample_shape or case.model.data_shape
    if isinstance(shape, dict):
        # Samples of several arrays (molecules): each as `data_shape` says.
        drawn = case.model.sample(3, seed=SEED, **case.sample_arguments(3))
        assert set(drawn) == set(shape)
        for key, array in drawn.items():
            array = np.asarray(keras.ops.convert_to_numpy(array))
            assert array.shape == (3,) + tuple(shape[key]), key
            assert np.isfinite(array.astype("float64")).all(), key
        return
    drawn = samples(name)
    assert drawn.shape == (3,) + tuple(shape)
    kind = np.integer if case.integer_samples else np.floating
    assert np.issubdtype(drawn.dtype, kind), drawn.dtype
    assert np.isfinite(drawn).all()


@over_cases()
def test_seed_forms_agree(name):
    case, _ = trained(name)
    for seed in (np.int64(SEED), keras.random.SeedGenerator(SEED)):
        np.testing.assert_array_equal(
            draw(case.model, case, seed), samples(name)
        )
    if case.stochastic:
        other = draw(case.model, case, SEED + 1)
        assert not np.array_equal(other, samples(name))


@over_cases()
@pytest.mark.parametrize("form", ["str", "float", "(2,) tensor"])
def test_a_seed_that_is_no_integer_is_refused(name, form):
    # A tensor seed is refused on every backend alike: keras.random takes
    # one on JAX alone, so it would work for some draws and not others.
    seed = {
        "str": str(SEED),
        "float": float(SEED),
        "(2,) tensor": keras.ops.convert_to_tensor([SEED, 1], "int32"),
    }[form]
    case, _ = trained(name)
    with pytest.raises(ValueError, match="`seed` must be None, an int"):
        draw(case.model, case, seed)


@over_cases()
def test_keras_round_trip_reproduces_samples(name, tmp_path):
    case, _ = trained(name)
    path = tmp_path / "m.keras"
    case.model.save(path)
    restored = keras.saving.load_model(path)
    assert type(restored) is type(case.model)
    assert plain_config(restored) == plain_config(case.model)
    expected = weights_of(case.model)
    actual = weights_of(restored)
    assert len(actual) == len(expected)
    for restored_weight, weight in zip(actual, expected):
        np.testing.assert_array_equal(restored_weight, weight)
    np.testing.assert_allclose(
        draw(restored, case, SEED), samples(name), atol=1e-5
    )


@over_cases()
def test_get_config_is_the_constructor(name):
    case, _ = trained(name)
    parameters = inspect.signature(type(case.model).__init__).parameters
    arguments = set(parameters) - {"self", "kwargs"}
    assert set(case.model.get_config()) - KERAS_CONFIG_KEYS == arguments


def serving_inputs(endpoint):
    """Seeded inputs for a loaded signature: 3 examples where the batch is
    free, class ids / tokens in [0, 2) for integer inputs."""
    rng = np.random.default_rng(0)
    inputs = {}
    for spec in endpoint.structured_input_signature[1].values():
        shape = tuple(3 if size is None else size for size in spec.shape)
        if spec.dtype.is_integer:
            inputs[spec.name] = rng.integers(0, 2, shape).astype("int32")
        else:
            inputs[spec.name] = rng.normal(size=shape).astype("float32")
    return inputs


@pytest.mark.skipif(
    BACKEND == "torch", reason="export needs the TensorFlow or JAX backend"
)
@over_cases(EXPORT_ENDPOINTS)
def test_export_matches_the_model(name, tmp_path):
    import tensorflow as tf

    case, _ = trained(name)
    endpoint_name = EXPORT_ENDPOINTS[name]
    # TF's checkpoint reader globs its path: no brackets in it.
    folder = name.replace("[", "_").replace("]", "")
    path = kgen.export.export_saved_model(case.model, str(tmp_path / folder))
    endpoint = tf.saved_model.load(path).signatures[endpoint_name]
    inputs = serving_inputs(endpoint)
    served = endpoint(**inputs)
    function, _ = case.model.serving_endpoints()[endpoint_name]
    tensors = {k: keras.ops.convert_to_tensor(v) for k, v in inputs.items()}
    expected = function(**tensors)
    if not isinstance(expected, dict):  # one output, named by the export
        (served,) = served.values()
        served, expected = {"output": served}, {"output": expected}
    assert set(served) == set(expected)
    for key, value in expected.items():
        np.testing.assert_allclose(
            served[key].numpy(), to_numpy(value), atol=1e-5, err_msg=key
        )


@over_cases(CONDITIONAL)
def test_labelled_validation_data(name):
    case, history = trained(name)
    assert case.conditional
    validation = {k: v for k, v in history.items() if k.startswith("val_")}
    assert validation
    for metric, values in validation.items():
        assert np.isfinite(values).all(), metric
