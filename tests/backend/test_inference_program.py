"""`kgen.backend.inference_program` (a sampling loop compiled once per
model and options) and `build_then_load` (presets loaded without running
the initializers of the weights they overwrite)."""

import gc
import weakref

import keras
import numpy as np
import pytest

import kgen
from kgen import backend
from kgen.backend import program_cache
from tests.conftest import BACKEND
from tests.models.contract_cases import CASES


def diffusion_model():
    denoiser = kgen.networks.mlp_denoiser(2, hidden_dim=8, num_layers=1)
    scheduler = kgen.schedulers.DDPMScheduler(num_train_timesteps=20)
    return kgen.models.DiffusionModel(denoiser, scheduler, seed=0)


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def test_a_compiled_sampling_loop_reads_the_weights_of_each_call():
    model = diffusion_model()
    first = _numpy(model.sample(2, seed=1, num_steps=3))
    np.testing.assert_array_equal(
        first, _numpy(model.sample(2, seed=1, num_steps=3))
    )
    # Weights changed after the program was compiled are the ones it runs
    # (they are its arguments, not constants baked into it).
    rng = np.random.default_rng(0)
    for variable in model.denoiser.trainable_variables:
        variable.assign(rng.normal(size=variable.shape).astype("float32"))
    changed = _numpy(model.sample(2, seed=1, num_steps=3))
    assert np.abs(changed - first).max() > 1e-3


def test_a_sampling_loop_records_no_gradients_but_may_take_input_ones():
    # On torch, a loop that recorded autograd kept every step's
    # activations alive (23 GB for a video U-Net's fifty DDIM steps).
    weight = keras.Variable(np.array([2.0, -1.0], "float32"))
    owner = keras.layers.Layer()
    owner.weight = weight

    def loop(owner, x):
        for _ in range(3):
            x = x * owner.weight
            # An input gradient inside the loop (classifier guidance):
            # d/dx sum(w x**2) = 2 w x.
            x = x + backend.grad(lambda x: owner.weight * x**2, x)
        return x

    x = keras.ops.convert_to_tensor(np.array([1.0, 0.5], "float32"))
    output = backend.inference_program(owner, None, loop, x)
    expected = np.array([1.0, 0.5], "float32")
    for _ in range(3):
        expected = expected * [2.0, -1.0]
        expected = expected + 2 * np.array([2.0, -1.0]) * expected
    np.testing.assert_allclose(_numpy(output), expected, rtol=1e-6)
    if BACKEND == "torch":
        assert not output.requires_grad and output.grad_fn is None


@pytest.mark.skipif(BACKEND == "torch", reason="eager torch keeps nothing")
def test_one_program_per_options_is_kept_and_dropped_with_the_model():
    if BACKEND == "jax":
        from kgen.backend.jax import _INFERENCE_PROGRAMS
    else:
        from kgen.backend.tensorflow import _INFERENCE_PROGRAMS
    model = diffusion_model()
    for _ in range(2):
        model.sample(1, seed=0, num_steps=2)
    assert len(_INFERENCE_PROGRAMS._programs[model]) == 1
    # The programs do not keep their model alive.
    reference = weakref.ref(model)
    del model
    gc.collect()
    assert reference() is None


@pytest.mark.skipif(BACKEND == "torch", reason="eager torch keeps nothing")
def test_a_program_without_a_key_is_compiled_for_its_call_and_not_kept():
    # A preset's reference check runs its `sample` endpoint once this way:
    # run op by op, pixel_cnn_mnist's 784-pixel loop took 103 s on
    # TensorFlow.
    if BACKEND == "jax":
        from kgen.backend.jax import _INFERENCE_PROGRAMS
    else:
        from kgen.backend.tensorflow import _INFERENCE_PROGRAMS
    owner = keras.layers.Layer()
    owner.weight = keras.Variable(np.array([2.0, -1.0], "float32"))
    traced = []

    def double(owner, x):
        # The input as the function saw it: symbolic when compiled.
        traced.append(x)
        return x * owner.weight

    x = keras.ops.convert_to_tensor(np.array([1.0, 0.5], "float32"))
    output = backend.inference_program(owner, None, double, x)
    np.testing.assert_array_equal(_numpy(output), [2.0, -0.5])
    assert not backend.is_concrete(traced[0])
    assert owner not in _INFERENCE_PROGRAMS._programs


def test_a_seed_draws_the_same_samples_whatever_sizes_were_drawn_before():
    # TensorFlow traced a loop called at a second batch size with a free
    # one, which Grappler rounds otherwise than a graph of known shapes:
    # here sample(2) after sample(8) was 6e-5 off a fresh copy's, and
    # edm_qm9's preset check (the trained model against its loaded copy)
    # failed on oneDNN.
    def build():
        network = kgen.networks.egnn(
            features_dim=6, hidden_dim=8, num_layers=2, max_atoms=6
        )
        return kgen.models.EquivariantDiffusion(
            network,
            num_atom_types=5,
            atom_counts=[0, 0, 0, 4, 4, 4, 4],
            scheduler=kgen.schedulers.DDPMScheduler(num_train_timesteps=20),
            seed=0,
        )

    used, fresh = build(), build()
    rng = np.random.default_rng(5)
    used.set_weights(
        [rng.normal(scale=0.3, size=w.shape) for w in used.get_weights()]
    )
    fresh.set_weights(used.get_weights())
    used.sample(8, seed=3, num_steps=5)
    for key, value in fresh.sample(2, seed=1, num_steps=5).items():
        np.testing.assert_array_equal(
            _numpy(used.sample(2, seed=1, num_steps=5)[key]), _numpy(value)
        )


@pytest.mark.skipif(BACKEND != "tensorflow", reason="TensorFlow's traces")
def test_a_tensorflow_program_keeps_a_trace_per_shape_and_bounds_them():
    owner = keras.layers.Layer()
    owner.weight = keras.Variable(2.0)
    traced = []

    def double(owner, x):
        traced.append(tuple(x.shape))
        return x * owner.weight

    limit = program_cache.MAX_PROGRAMS_PER_OWNER
    for size in [*range(1, limit + 1), 1, limit + 1, 1, 2]:
        x = keras.ops.ones((size,))
        output = backend.inference_program(owner, "double", double, x)
        np.testing.assert_array_equal(_numpy(output), np.full(size, 2.0))
    # Every size traced with its own known shape, once while kept: size
    # 2, the least recently used when one more came, traced again.
    assert traced == [(size,) for size in range(1, limit + 2)] + [(2,)]


def test_a_program_cache_keeps_the_most_recently_used_programs_per_owner():
    compiled = []

    def compile(owner_ref, function):
        compiled.append(function)
        return function

    cache = program_cache.ProgramCache(compile)
    owner = keras.layers.Dense(1)
    limit = program_cache.MAX_PROGRAMS_PER_OWNER
    for key in range(limit):
        cache.get(owner, key, lambda owner: None)
    cache.get(owner, 0, None)  # 0 is now the most recent
    cache.get(owner, "new", lambda owner: None)
    assert len(compiled) == limit + 1
    keys = [key for key, _ in cache._programs[owner]]
    assert keys == [*range(2, limit), 0, "new"]
    # New variables (LoRA adapters, a build) mean a new program: one
    # traced before would compute without them.
    owner.build((None, 2))
    cache.get(owner, "new", lambda owner: None)
    assert len(compiled) == limit + 2


def test_build_then_load_gives_the_loaded_weights_and_initializes_the_rest(
    tmp_path,
):
    from keras.src.backend.common import global_state

    def build():
        return keras.Sequential(
            [keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(2)]
        )

    source = build()
    path = str(tmp_path / "source.weights.h5")
    source.save_weights(path)
    before = list(
        global_state.get_global_attribute("uninitialized_variables") or ()
    )
    loaded = backend.build_then_load(build, lambda m: m.load_weights(path))
    for expected, actual in zip(source.weights, loaded.weights):
        np.testing.assert_array_equal(_numpy(expected), _numpy(actual))
    assert backend.has_values(loaded.variables)
    # A load that assigns only part of the model: the rest is initialized.
    partial = backend.build_then_load(
        build, lambda m: m.layers[0].kernel.assign(np.ones((3, 4)))
    )
    assert backend.has_values(partial.variables)
    np.testing.assert_array_equal(_numpy(partial.layers[0].kernel), 1.0)
    assert np.abs(_numpy(partial.layers[1].kernel)).max() > 0
    after = global_state.get_global_attribute("uninitialized_variables")
    assert list(after or ()) == before


@pytest.mark.parametrize(
    "name",
    [
        "PixelCNN",
        "GPT",
        "GPT[class_conditional]",
        "MaskGIT",
        "MaskedDiffusion",
        "RBM",
        "EnergyModel",
        "JointEnergyModel",
        "WaveNet",
    ],
)
def test_a_compiled_loop_sampler_draws_as_its_eager_loop(name, monkeypatch):
    # Pixel by pixel, token by token or chain step by chain step, `sample`
    # runs as one program compiled once; it must draw what the loop called
    # eagerly draws, with the weights of the call, not those it was
    # compiled with.
    case = CASES[name]()
    model, arguments = case.model, case.sample_arguments(3)
    model.sample(3, seed=1, **arguments)
    rng = np.random.default_rng(0)
    for variable in model.trainable_variables:
        variable.assign(rng.normal(size=variable.shape).astype("float32"))
    compiled = _numpy(model.sample(3, seed=2, **arguments))
    monkeypatch.setattr(
        backend,
        "inference_program",
        lambda owner, key, function, *args: function(owner, *args),
    )
    eager = _numpy(model.sample(3, seed=2, **arguments))
    np.testing.assert_allclose(compiled, eager, rtol=1e-5, atol=1e-5)


class Always(kgen.samplers.TokenSampler):
    """Draws `token` whatever the logits."""

    stochastic = False

    def __init__(self, token, temperature=1.0):
        super().__init__(temperature)
        self.token = token

    def filter_logits(self, logits):
        vocabulary = keras.ops.arange(keras.ops.shape(logits)[-1])
        chosen = keras.ops.where(vocabulary == self.token, 0.0, -1e9)
        return chosen + 0.0 * logits

    def get_config(self):
        return {**super().get_config(), "token": self.token}


def test_generate_compiles_a_loop_per_length_and_sampler():
    # Lengths and rules share no program: one keyed by the prompt length
    # alone saw the total length as unknown on TensorFlow and failed.
    model = CASES["GPT"]().model
    prompt = np.ones((2, 2), "int32")
    for token, new_tokens in ((3, 2), (5, 3), (3, 3)):
        tokens = _numpy(
            model.generate(prompt, new_tokens, sampler=Always(token))
        )
        np.testing.assert_array_equal(tokens[:, 2:], token)
        assert tokens.shape == (2, 2 + new_tokens)


def test_a_compiled_flow_likelihood_equals_its_eager_loop(monkeypatch):
    # FlowMatching.log_prob integrates an ODE in a loop, compiled once per
    # step count: the same nats as the loop called eagerly, at every batch
    # size and without labels.
    case = CASES["FlowMatching"]()
    model, x, labels = case.model, case.x[:3], case.y[:3]
    calls = [(x, labels), (x[:2], labels[:2]), (x[:2], None)]

    def log_probs():
        return [
            _numpy(model.log_prob(x, labels=labels, num_steps=2, seed=3))
            for x, labels in calls
        ]

    compiled = log_probs()
    monkeypatch.setattr(
        backend,
        "inference_program",
        lambda owner, key, function, *args: function(owner, *args),
    )
    for compiled, eager in zip(compiled, log_probs()):
        np.testing.assert_allclose(compiled, eager, rtol=1e-4, atol=1e-3)


@pytest.mark.skipif(BACKEND != "torch", reason="torch's traced graphs")
@pytest.mark.parametrize(
    "name", ["PixelCNN", "WaveNet", "MaskGIT", "MaskedDiffusion"]
)
def test_a_loop_samplers_network_runs_as_its_traced_graph(name, monkeypatch):
    # Keras' layer by layer Python at every pixel or step took half of
    # pixel_cnn_mnist's sampling time and two thirds of wave_net's.
    from kgen.backend import torch as torch_backend

    case = CASES[name]()
    model, arguments = case.model, case.sample_arguments(3)
    for _ in range(torch_backend.CALLS_BEFORE_TRACING):
        traced = _numpy(model.sample(3, seed=2, **arguments))
    graphs = torch_backend._TRACED_CALLS[model.network].values()
    assert any(callable(graph) for graph in graphs)
    monkeypatch.setattr(torch_backend, "CALLS_BEFORE_TRACING", 10**9)
    torch_backend._TRACED_CALLS.clear()
    eager = _numpy(model.sample(3, seed=2, **arguments))
    np.testing.assert_allclose(traced, eager, rtol=1e-5, atol=1e-5)
