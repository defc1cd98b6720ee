"""`kgen.backend.inference_call` and `first_rows`: the eager inference pass
and the row cut of `sample`, compiled once per shape on JAX."""

import gc
import weakref

import keras
import numpy as np
import pytest

from kgen import backend
from tests.conftest import BACKEND


def network():
    return keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4),
            keras.layers.BatchNormalization(),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(2),
        ]
    )


def test_inference_call_is_the_networks_inference_pass():
    model = network()
    for rows in (1, 2, 5):
        x = np.random.default_rng(rows).normal(size=(rows, 3))
        x = x.astype("float32")
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(backend.inference_call(model, x)),
            keras.ops.convert_to_numpy(model(x, training=False)),
            rtol=1e-6,
            atol=1e-6,
        )


def test_first_rows_are_the_leading_rows():
    x = keras.ops.reshape(keras.ops.arange(24, dtype="float32"), (6, 4))
    for rows in (1, 3, 6):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(backend.first_rows(x, rows)),
            keras.ops.convert_to_numpy(x)[:rows],
        )


@pytest.mark.skipif(BACKEND != "jax", reason="JAX keeps one call a network")
def test_jax_keeps_one_call_per_network_and_drops_it_with_the_network():
    from kgen.backend import jax as jax_backend

    model = network()
    for rows in (1, 2, 4):
        backend.inference_call(model, np.zeros((rows, 3), "float32"))
    assert model in jax_backend._INFERENCE_CALLS
    # The cached call does not keep its network alive.
    reference = weakref.ref(model)
    del model
    gc.collect()
    assert reference() is None


def test_inference_method_is_the_layers_method_on_its_current_weights():
    from kgen import bijectors

    coupling = bijectors.AffineCoupling("channel", hidden_dim=4, num_layers=1)
    x = np.random.default_rng(0).normal(size=(3, 2, 2, 2)).astype("float32")
    coupling.forward(x)  # builds it
    for step in range(2):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(
                backend.inference_method(coupling, "forward", x)
            ),
            keras.ops.convert_to_numpy(coupling.forward(x)),
            rtol=1e-5,
            atol=1e-6,
        )
        # A later call reads the weights as they are then.
        for variable in coupling.trainable_variables:
            variable.assign(variable + 0.1)


@pytest.mark.skipif(BACKEND != "torch", reason="torch traces hot networks")
def test_torch_traces_a_hot_network_that_then_reads_its_current_weights():
    import torch

    from kgen.backend import torch as torch_backend

    model = network()
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    x = torch.as_tensor(x)
    with torch.no_grad():
        for _ in range(torch_backend.CALLS_BEFORE_TRACING + 1):
            backend.inference_call(model, x)
        (graph,) = torch_backend._TRACED_CALLS[model].values()
        assert isinstance(graph, torch.fx.GraphModule)
        model.layers[0].kernel.assign(model.layers[0].kernel * 2.0)
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(backend.inference_call(model, x)),
            keras.ops.convert_to_numpy(model(x, training=False)),
            rtol=1e-6,
            atol=1e-6,
        )
    # Not with autograd on: a training pass records its own graph.
    assert backend.inference_call(model, x).requires_grad


class ValueBranch(keras.layers.Layer):
    """Reads a tensor's value in Python, which no graph can replay."""

    def call(self, x):
        return x * 2.0 if float(keras.ops.sum(x)) > 0 else x


@pytest.mark.skipif(BACKEND != "torch", reason="torch traces hot networks")
def test_torch_runs_a_network_that_reads_values_eagerly_and_says_why():
    import torch

    from kgen.backend import torch as torch_backend

    model = keras.Sequential([keras.Input((3,)), ValueBranch()])
    with torch.no_grad():
        for _ in range(torch_backend.CALLS_BEFORE_TRACING - 1):
            backend.inference_call(model, torch.ones((2, 3)))
        with pytest.warns(UserWarning, match="runs its inference passes"):
            backend.inference_call(model, torch.ones((2, 3)))
        # The branch follows the values: -1s are not doubled.
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(
                backend.inference_call(model, -torch.ones((2, 3)))
            ),
            -np.ones((2, 3)),
        )


def dit_diffusion(seed=0):
    import kgen

    keras.utils.set_random_seed(seed)
    model = kgen.models.DiffusionModel(
        kgen.networks.dit_denoiser(
            (4, 4, 1), hidden_dim=8, num_layers=1, num_heads=2, num_classes=3
        ),
        kgen.schedulers.DDPMScheduler(num_train_timesteps=100),
        num_classes=3,
        seed=seed,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    return model


@pytest.mark.skipif(BACKEND != "torch", reason="torch traces hot networks")
def test_torch_trains_through_the_traced_graph_to_the_same_weights(
    monkeypatch,
):
    import torch

    from kgen.backend import torch as torch_backend

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (24, 4, 4, 1)).astype("float32")
    y = rng.integers(0, 3, 24)
    weights = []
    for calls in (torch_backend.CALLS_BEFORE_TRACING, 10**9):
        monkeypatch.setattr(torch_backend, "CALLS_BEFORE_TRACING", calls)
        model = dit_diffusion()
        model.fit(x, y, batch_size=2, epochs=1, shuffle=False, verbose=0)
        graphs = list(torch_backend._TRACED_CALLS[model.denoiser].values())
        traced = [g for g in graphs if isinstance(g, torch.fx.GraphModule)]
        assert len(traced) == (calls < 100)
        weights.append([v.numpy() for v in model.trainable_variables])
    # The graph runs the eager pass's kernels under autograd: the same
    # gradients, so the same weights bit for bit after 12 steps.
    for traced, eager in zip(*weights):
        np.testing.assert_array_equal(traced, eager)


@pytest.mark.skipif(BACKEND != "torch", reason="torch traces hot networks")
def test_torch_trains_a_pass_that_assigns_or_draws_eagerly():
    import torch

    from kgen.backend import torch as torch_backend

    # Batch normalization assigns its statistics and dropout draws: a
    # graph of the outputs would drop both, so the pass stays eager,
    # silently (it computes as it should).
    model = network()
    x = torch.as_tensor(
        np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    )
    for _ in range(torch_backend.CALLS_BEFORE_TRACING + 1):
        moving_mean = model.layers[1].moving_mean.numpy().copy()
        backend.training_call(model, x)
        assert not np.array_equal(
            model.layers[1].moving_mean.numpy(), moving_mean
        )
    assert list(torch_backend._TRACED_CALLS[model].values()) == [None]


@pytest.mark.skipif(BACKEND != "torch", reason="torch traces hot networks")
def test_torch_retraces_a_layer_unfrozen_without_variables_of_its_own():
    import torch

    from kgen.backend import torch as torch_backend

    norm = keras.layers.BatchNormalization(center=False, scale=False)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3), norm])
    x = torch.as_tensor(
        np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    )
    # Frozen, batch normalization normalises by its moving statistics and
    # assigns nothing: that pass is traced.
    norm.trainable = False
    for _ in range(torch_backend.CALLS_BEFORE_TRACING + 1):
        backend.training_call(model, x)
    (graph,) = torch_backend._TRACED_CALLS[model].values()
    assert isinstance(graph, torch.fx.GraphModule)
    # Unfrozen (no variable's flag changes), it normalises by the batch
    # and moves its statistics, as the eager pass does.
    norm.trainable = True
    outputs = keras.ops.convert_to_numpy(backend.training_call(model, x))
    np.testing.assert_allclose(outputs.mean(axis=0), 0.0, atol=1e-5)
    assert np.abs(keras.ops.convert_to_numpy(norm.moving_mean)).max() > 0


@pytest.mark.skipif(BACKEND != "torch", reason="torch traces hot networks")
def test_torch_keeps_a_rematerialised_training_pass_eager():
    import torch

    from kgen.backend import torch as torch_backend

    # A graph of the pass would keep every activation that remat drops.
    with keras.RematScope(mode="full"):
        model = keras.Sequential(
            [keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(2)]
        )
    x = torch.ones((2, 3))
    for _ in range(torch_backend.CALLS_BEFORE_TRACING + 1):
        backend.training_call(model, x)
    assert list(torch_backend._TRACED_CALLS[model].values()) == [None]
