"""LoRA through `fit`: only the adapters train, the base stays bit for bit,
the optimizer holds the adapters alone, and the merged copy computes what
the adapted model computes."""

import json

import keras
import numpy as np
import pytest

import kgen

SHAPE = (8, 8, 1)


def small_diffusion(seed=0):
    denoiser = kgen.networks.unet_denoiser(
        SHAPE, widths=(8, 16), num_heads=2, num_classes=3
    )
    return kgen.models.DiffusionModel(
        denoiser,
        kgen.schedulers.DDPMScheduler(num_train_timesteps=50),
        num_classes=3,
        seed=seed,
    )


def images_and_labels(num_examples=16):
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (num_examples, *SHAPE)).astype("float32")
    return images, np.arange(num_examples) % 3


def base_values(model):
    return {
        v.path: keras.ops.convert_to_numpy(v.value).copy()
        for v in model.weights
        if not v.name.startswith("lora_")
    }


def denoised(model, images, labels):
    timesteps = np.arange(len(images)) * 3
    return keras.ops.convert_to_numpy(
        model.denoiser([images, timesteps, labels])
    )


@pytest.mark.all_backends
def test_fit_trains_only_the_adapters_and_merging_keeps_the_outputs():
    model = small_diffusion()
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    images, labels = images_and_labels()
    # A model compiled and trained before: `enable_lora` recompiles it,
    # so the optimizer it trains the adapters with holds nothing else.
    model.fit(images, labels, batch_size=8, epochs=1, verbose=0)
    before = base_values(model)
    digest = kgen.lora.base_weights_sha256(model)

    # Sampled before: the compiled sampling programs (traced torch
    # graphs, tf.functions, jitted JAX) must not outlive the change.
    model.sample(2, labels=[0, 1], num_steps=10, seed=0)
    paths = kgen.lora.enable_lora(model, rank=2, seed=0)

    # 1. The query and value projections of the four attention layers
    # (keras-hub's default), nothing else.
    assert len(paths) == 8
    assert {path.rsplit("/", 1)[1] for path in paths} == {"query", "value"}
    assert {v.name for v in model.trainable_variables} == {
        "lora_kernel_a",
        "lora_kernel_b",
    }
    # 2. Fit moves the adapters and nothing of the base.
    model.fit(images, labels, batch_size=8, epochs=2, verbose=0)
    after = base_values(model)
    assert all(np.array_equal(before[path], after[path]) for path in before)
    assert kgen.lora.base_weights_sha256(model) == digest
    adapters = kgen.lora.lora_weights(model)
    assert (
        max(
            np.abs(value).max()
            for name, value in adapters.items()
            if name.endswith("lora_kernel_b")
        )
        > 0
    )
    # 3. The optimizer's state is the adapters' (two Adam slots each).
    slots = [
        v
        for v in model.optimizer.variables
        if v.name not in ("iteration", "learning_rate")
    ]
    assert len(slots) == 2 * len(adapters)
    assert all("lora_kernel" in v.name for v in slots)
    # 4. The merged copy: no adapters, the same outputs, trainable again.
    merged = kgen.lora.merge_lora(model)
    assert kgen.lora.lora_layers(merged) == {}
    assert len(merged.trainable_variables) == len(before)
    np.testing.assert_allclose(
        denoised(merged, images[:4], labels[:4]),
        denoised(model, images[:4], labels[:4]),
        atol=1e-5,
    )
    # The adapted model samples through the one sampling path, with its
    # adapters: as its merged copy, which no program has seen.
    samples = model.sample(2, labels=[0, 1], num_steps=10, seed=0)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(samples),
        keras.ops.convert_to_numpy(
            merged.sample(2, labels=[0, 1], num_steps=10, seed=0)
        ),
        atol=1e-4,
    )


@pytest.mark.torch_only
def test_patterns_choose_layers_by_path_or_name_and_refuse_what_matches_none():
    model = small_diffusion()
    paths = kgen.lora.enable_lora(
        model, rank=4, target_layers=["*_conv1", "stem"], seed=0
    )
    assert paths and all(
        path.endswith("_conv1") or path.endswith("/stem") for path in paths
    )
    with pytest.raises(ValueError, match="already has LoRA adapters"):
        kgen.lora.enable_lora(model)

    with pytest.raises(ValueError, match="pattern 'missing' matches no"):
        kgen.lora.enable_lora(small_diffusion(), target_layers=["missing"])
    # Normalization layers hold weights but take no adapter.
    with pytest.raises(ValueError, match="matches no trainable layer"):
        kgen.lora.enable_lora(small_diffusion(), target_layers=["*_norm*"])
    for rank in (0, 2.0, True):
        with pytest.raises(ValueError, match="`rank` must be an int"):
            kgen.lora.enable_lora(small_diffusion(), rank=rank)
    # NumPy's integers are ints (a rank from a config or a sweep).
    numpy_ranked = small_diffusion()
    kgen.lora.enable_lora(numpy_ranked, rank=np.int64(2))
    assert kgen.lora.lora_settings(numpy_ranked)["rank"] == 2
    with pytest.raises(ValueError, match="`alpha` must be"):
        kgen.lora.enable_lora(small_diffusion(), alpha=-1)
    with pytest.raises(ValueError, match="`target_layers` must be"):
        kgen.lora.enable_lora(small_diffusion(), target_layers="query")
    with pytest.raises(ValueError, match="no LoRA adapters to merge"):
        kgen.lora.merge_lora(small_diffusion())


@pytest.mark.torch_only
def test_the_adapters_initial_values_follow_the_seed_rule():
    def initial(seed):
        model = small_diffusion()
        kgen.lora.enable_lora(model, seed=seed)
        return kgen.lora.lora_weights(model)

    first, again, other = initial(3), initial(3), initial(4)
    name = next(name for name in first if name.endswith("lora_kernel_a"))
    np.testing.assert_array_equal(first[name], again[name])
    assert not np.array_equal(first[name], other[name])
    # B starts at zero: the adapted model starts as its base.
    assert all(
        not value.any()
        for name, value in first.items()
        if name.endswith("lora_kernel_b")
    )


@pytest.mark.torch_only
def test_a_gan_trains_adapters_on_both_networks_with_its_two_optimizers():
    model = kgen.models.DCGAN(SHAPE, latent_dim=4, filters=8, seed=0)
    model.compile()
    images, _ = images_and_labels()
    model.fit(images, batch_size=8, epochs=1, verbose=0)
    before = base_values(model)
    paths = kgen.lora.enable_lora(model, target_layers=["*conv*"], seed=0)
    assert any(p.startswith(model.generator.name) for p in paths)
    assert any(p.startswith(model.discriminator.name) for p in paths)
    model.fit(images, batch_size=8, epochs=1, verbose=0)
    after = base_values(model)
    assert all(np.array_equal(before[path], after[path]) for path in before)
    moved = kgen.lora.lora_weights(model)
    assert all(
        value.any() for name, value in moved.items() if "lora_kernel_b" in name
    )


@pytest.mark.torch_only
def test_mixed_precision_keeps_adapters_float32_and_the_base_unchanged():
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    try:
        model = small_diffusion()
        # Away from the initial weights, whose zero output convolution
        # passes no gradient to the adapters.
        rng = np.random.default_rng(0)
        for variable in model.denoiser.trainable_variables:
            variable.assign(variable + 0.05 * rng.normal(size=variable.shape))
        kgen.lora.enable_lora(model, seed=0)
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
        before = base_values(model)
        images, labels = images_and_labels()
        model.fit(images, labels, batch_size=8, epochs=1, verbose=0)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    adapters = [v for v in model.weights if v.name.startswith("lora_")]
    assert {v.dtype for v in adapters} == {"float32"}
    # The layers compute in bfloat16, and the adapters trained there.
    assert model.denoiser.layers[-1].compute_dtype == "bfloat16"
    assert all(
        value.any()
        for name, value in kgen.lora.lora_weights(model).items()
        if name.endswith("lora_kernel_b")
    )
    after = base_values(model)
    assert all(np.array_equal(before[path], after[path]) for path in before)


def assert_rank_8_adapters_are_at_most_5_percent(model):
    """Rank-8 LoRA on `model` trains at most 5% of the weights it had."""

    def size():
        return sum(int(np.prod(v.shape)) for v in model.trainable_variables)

    base = size()
    kgen.lora.enable_lora(model, rank=8)
    assert 0 < size() <= 0.05 * base


@pytest.mark.torch_only
@pytest.mark.parametrize("preset", ["ddpm_mnist", "flow_matching_mnist"])
def test_rank_8_adapters_are_at_most_5_percent_of_a_shipped_unet(preset):
    model = kgen.presets.load_preset(preset)
    assert_rank_8_adapters_are_at_most_5_percent(model)


@pytest.mark.torch_only
def test_rank_8_adapters_are_at_most_5_percent_of_a_dit():
    denoiser = kgen.networks.dit_denoiser(
        (32, 32, 4), hidden_dim=384, num_layers=12, num_heads=6
    )
    model = kgen.models.DiffusionModel(denoiser)
    assert_rank_8_adapters_are_at_most_5_percent(model)


@pytest.mark.tensorflow_only
def test_adapters_train_data_parallel_on_two_devices_as_on_one():
    # A JAX process with two host devices, as tests/data_parallel does.
    pytest.importorskip("jax")
    from tests.data_parallel.test_data_parallel import run_module

    stdout = run_module(
        "tests.lora.lora_data_parallel_check",
        [],
        "jax",
        {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"},
    )
    result = json.loads(stdout.strip().splitlines()[-1])
    assert result["base_moved"] == 0.0
    assert result["adapters_moved"] > 0
    assert result["adapters"] < 1e-5, result


class _Twins(keras.Model):
    """Two networks of one name sharing a layer, as a consistency model's
    network and target share their name."""

    def __init__(self):
        super().__init__()
        shared = keras.layers.Dense(3, name="shared")
        self.first = self._network(shared, "own")
        self.second = self._network(shared, "own")

    @staticmethod
    def _network(shared, name):
        inputs = keras.Input((2,))
        outputs = keras.layers.Dense(2, name=name)(shared(inputs))
        return keras.Model(inputs, outputs, name="twin")

    def call(self, x):
        return self.first(x) + self.second(x)


@pytest.mark.torch_only
def test_paths_name_each_layer_once_and_number_a_repeated_name():
    model = _Twins()
    model(np.zeros((1, 2), "float32"))
    paths = kgen.lora.layer_paths(model)
    assert sorted(p for p in paths if "input_layer" not in p) == [
        "twin",
        "twin/own",
        "twin/shared",
        "twin~1",
        "twin~1/own",
    ]
    adapted = kgen.lora.enable_lora(model, target_layers=["shared", "own"])
    assert adapted == ["twin/own", "twin/shared", "twin~1/own"]
    assert len(kgen.lora.lora_weights(model)) == 6


@pytest.mark.torch_only
def test_an_adapter_over_a_base_that_moved_in_training_is_not_saved(
    tmp_path,
):
    # Spectral normalization writes the discriminator's kernels in every
    # training call, frozen or not: the base the adapter would name is
    # gone.
    model = kgen.models.GAN(
        kgen.networks.dcgan_generator(SHAPE, 4, filters=8),
        kgen.networks.dcgan_discriminator(
            SHAPE, filters=8, spectral_normalization=True
        ),
        latent_dim=4,
        seed=0,
    )
    kgen.lora.enable_lora(
        model, target_layers=[f"{model.generator.name}/*conv*"], seed=0
    )
    model.compile()
    images, _ = images_and_labels()
    model.fit(images, batch_size=8, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="base weights changed"):
        kgen.presets.save_lora_adapter(model, tmp_path / "adapter", "x")
    assert not (tmp_path / "adapter").exists()


def _base_arrays(model):
    """The base weights of the model's layers, in its order (two networks
    of one model may share variable paths; its own step count moves)."""
    return [
        keras.ops.convert_to_numpy(v.value).copy()
        for layer in model._flatten_layers(include_self=False)
        for v in layer.weights
        if not kgen.lora.is_adapter(v)
    ]


def _adapters_of(layer):
    return [
        keras.ops.convert_to_numpy(v.value)
        for v in layer.weights
        if kgen.lora.is_adapter(v)
    ]


def to_number(variable):
    return float(keras.ops.convert_to_numpy(variable))


def _off_zero(model):
    """Moves the kernels that start at zero (the U-Nets' output heads)
    off it: untrained, a teacher and its student all output their input
    and the consistency loss is exactly zero."""
    rng = np.random.default_rng(0)
    for variable in model.weights:
        value = keras.ops.convert_to_numpy(variable.value)
        if value.ndim > 1 and not value.any():
            variable.assign(rng.normal(scale=0.1, size=value.shape))


@pytest.mark.all_backends
def test_a_consistency_models_target_averages_the_adapters_over_a_still_base():
    from tests.models import contract_cases

    case = contract_cases.consistency_model()
    model = case.model
    _off_zero(model)
    base = _base_arrays(model)
    # The convolutions: an untrained U-Net's attention output starts at
    # zero, so its query and value adapters would get no gradient.
    adapted = kgen.lora.enable_lora(
        model, rank=2, target_layers=["*conv*"], seed=0
    )
    layers = kgen.lora.layer_paths(model)
    followers = kgen.lora.follower_layers(model)
    twins = {leader: follower for follower, leader in followers.items()}
    # Each adapted layer of the network has its twin in the EMA target,
    # adapted alike and frozen; only the network's adapters train.
    assert adapted and set(adapted) <= set(twins)
    for path in adapted:
        twin = layers[twins[path]]
        assert twin.lora_enabled
        for mine, theirs in zip(_adapters_of(twin), _adapters_of(layers[path])):
            np.testing.assert_array_equal(mine, theirs)
    assert len(model.trainable_variables) == 2 * len(adapted)
    assert all(kgen.lora.is_adapter(v) for v in model.trainable_variables)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(case.x, case.y, batch_size=4, epochs=2, verbose=0)
    for before, after in zip(base, _base_arrays(model)):
        np.testing.assert_array_equal(before, after)
    kgen.lora.check_base_unchanged(model)
    # `fit` counted its steps on: training state, not the base.
    assert to_number(model.training_step) > 0
    # The target's `B` (zero at first) averages the network's: it moved,
    # and lags behind it.
    moved = lagging = 0
    for path in adapted:
        twin_b = _adapters_of(layers[twins[path]])[1]
        network_b = _adapters_of(layers[path])[1]
        moved += bool(np.abs(twin_b).max() > 0)
        lagging += bool(not np.allclose(twin_b, network_b))
    assert moved == lagging == len(adapted)
    # An adapter holds the network's adapters; applied to a fresh copy,
    # the target starts from them.
    saved = kgen.lora.lora_weights(model)
    assert sorted({name.split(".")[0] for name in saved}) == sorted(adapted)
    fresh = contract_cases.consistency_model().model
    _off_zero(fresh)
    # The network adapted alone leaves its target behind: refused.
    kgen.lora.enable_lora(fresh.network, rank=2, target_layers=["*conv*"])
    fresh.compile(optimizer=keras.optimizers.Adam(1e-2))
    with pytest.raises(ValueError, match="adapt the model"):
        fresh.fit(case.x, case.y, batch_size=4, epochs=1, verbose=0)
    fresh = contract_cases.consistency_model().model
    _off_zero(fresh)
    kgen.lora.enable_lora(fresh, rank=2, target_layers=["*conv*"], seed=1)
    kgen.lora.set_lora_weights(fresh, saved)
    fresh_layers = kgen.lora.layer_paths(fresh)
    for path in adapted:
        for mine, theirs in zip(
            _adapters_of(fresh_layers[twins[path]]),
            _adapters_of(layers[path]),
        ):
            np.testing.assert_array_equal(mine, theirs)
