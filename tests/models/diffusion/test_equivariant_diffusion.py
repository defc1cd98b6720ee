"""EquivariantDiffusion: samples that commute with rotations, reflections,
translations and permutations of their start noise (on every backend),
atom counts drawn from the histogram or given, conditioning on
properties through `fit(molecules, properties)`, and bad molecules
refused by name."""

import keras
import numpy as np
import pytest
from scipy import special
from scipy import stats

import kgen
from kgen import schedulers
from tests.conftest import needs_wheel
from tests.conftest import to_numpy
from tests.models.contract_cases import molecules
from tests.networks.test_egnn import random_orthogonal

ATOMS, TYPES = 6, 3


def model_of(
    condition_dim=None, atom_counts=(0, 0, 0, 2, 3, 0, 1), scheduler=None
):
    keras.utils.set_random_seed(0)
    features = TYPES + 1 + (condition_dim or 0)
    network = kgen.networks.egnn(
        features, hidden_dim=16, num_layers=2, max_atoms=ATOMS
    )
    # Move the zero-initialised coordinate heads off zero, so that the
    # positions' equivariance is tested, not their staying put.
    rng = np.random.default_rng(1)
    for weight in network.weights:
        if weight.path.endswith("position_2/kernel"):
            weight.assign(rng.normal(size=weight.shape) * 0.02)
    return kgen.models.EquivariantDiffusion(
        network,
        num_atom_types=TYPES,
        atom_counts=None if atom_counts is None else list(atom_counts),
        condition_dim=condition_dim,
        scheduler=scheduler
        or schedulers.DDPMScheduler(
            num_train_timesteps=20, beta_schedule="cosine"
        ),
        seed=0,
    )


def served(model, noise, num_atoms):
    """The exported `sample` (deterministic DDIM from `noise`) as NumPy."""
    function, _ = model.serving_endpoints(num_steps=5)["sample"]
    outputs = function(
        keras.ops.convert_to_tensor(noise),
        keras.ops.convert_to_tensor(num_atoms),
    )
    return {key: to_numpy(value) for key, value in outputs.items()}


@pytest.mark.all_backends
def test_samples_commute_with_rotations_translations_and_permutations():
    model = model_of()
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(3, ATOMS, 3 + TYPES)).astype("float32")
    num_atoms = np.array([6, 4, 3], "int32")
    base = served(model, noise, num_atoms)
    scale = np.abs(base["positions"]).max()
    assert scale > 0.1  # the sampler moved the atoms
    for reflect in (False, True):
        q = random_orthogonal(rng, reflect).astype("float32")
        turned = noise.copy()
        # A rotated (or reflected) and translated start.
        turned[..., :3] = noise[..., :3] @ q + np.array([5.0, -2.0, 1.0])
        moved = served(model, turned, num_atoms)
        np.testing.assert_allclose(
            moved["positions"], base["positions"] @ q, atol=1e-5 * scale
        )
        np.testing.assert_array_equal(moved["atom_types"], base["atom_types"])
    # The first four atoms of the second molecule in another order.
    order = np.array([2, 0, 3, 1, 4, 5])
    permuted = noise.copy()
    permuted[1] = noise[1, order]
    moved = served(model, permuted, num_atoms)
    np.testing.assert_allclose(
        moved["positions"][1], base["positions"][1, order], atol=1e-5 * scale
    )
    np.testing.assert_array_equal(
        moved["atom_types"][1], base["atom_types"][1, order]
    )
    # Centred, zero where padded; the mask the counts ask for.
    mask = base["atom_mask"].astype(bool)
    np.testing.assert_array_equal(mask.sum(axis=1), num_atoms)
    assert np.all(base["positions"][~mask] == 0)
    np.testing.assert_allclose(
        base["positions"].sum(axis=1), 0.0, atol=1e-5 * scale
    )


@pytest.mark.torch_only
def test_atom_counts_are_drawn_from_the_histogram_or_given():
    model = model_of()
    drawn = model.sample(200, num_steps=2, seed=0)
    counts = to_numpy(drawn["atom_mask"]).sum(axis=1)
    # The histogram (0, 0, 0, 2, 3, 0, 1): 3, 4 or 6 atoms, 4 most often.
    assert set(counts) == {3, 4, 6}
    assert np.mean(counts == 4) == pytest.approx(0.5, abs=0.1)
    given = model.sample(3, num_steps=2, seed=0, num_atoms=[2, 5, 6])
    np.testing.assert_array_equal(
        to_numpy(given["atom_mask"]).sum(axis=1), [2, 5, 6]
    )
    types = to_numpy(given["atom_types"])
    assert types.min() >= 0 and types.max() < TYPES
    with pytest.raises(ValueError, match="num_atoms"):
        model.sample(2, num_atoms=ATOMS + 1)
    unsized = kgen.models.EquivariantDiffusion(
        model.denoiser, num_atom_types=TYPES
    )
    with pytest.raises(ValueError, match="num_atoms"):
        unsized.sample(2)


@pytest.mark.torch_only
def test_properties_condition_through_fit_and_sample():
    model = model_of(condition_dim=1)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    x = molecules(num_atom_types=TYPES, max_atoms=ATOMS)
    properties = np.linspace(-1, 1, len(x["positions"]))[:, None]
    history = model.fit(x, properties, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    drawn = model.sample(2, num_steps=2, seed=0, condition=[[1.0], [-1.0]])
    assert to_numpy(drawn["positions"]).shape == (2, ATOMS, 3)
    # The same noise under other properties: other molecules.
    other = model.sample(2, num_steps=2, seed=0, condition=[[-1.0], [1.0]])
    assert not np.allclose(
        to_numpy(drawn["positions"]), to_numpy(other["positions"])
    )
    with pytest.raises(ValueError, match="condition"):
        model.sample(2, num_steps=2)
    with pytest.raises(ValueError, match="`y`"):
        model.fit(x, batch_size=4, verbose=0)
    history = model.fit(
        x,
        properties,
        validation_data=(x, properties),
        batch_size=4,
        verbose=0,
    )
    assert np.isfinite(history.history["val_loss"]).all()
    unconditional = model_of()
    unconditional.compile(optimizer="adam")
    with pytest.raises(ValueError, match="`y`"):
        unconditional.fit(x, properties, batch_size=4, verbose=0)


@pytest.mark.torch_only
def test_a_dataset_of_molecules_trains_and_bad_batches_are_named():
    model = model_of()
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    x = molecules(num_atom_types=TYPES, max_atoms=ATOMS)

    def batches(spoil):
        for start in range(0, 8, 4):
            batch = {key: value[start : start + 4] for key, value in x.items()}
            if spoil and start:
                batch["positions"] = batch["positions"].copy()
                batch["positions"][0, 0, 0] = np.nan
            yield (batch,)  # Keras' generators yield tuples

    history = model.fit(batches(False), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    # Whatever a batch's padded slots hold is not read.
    padded = {key: value[:4].copy() for key, value in x.items()}
    padded["positions"][~padded["atom_mask"]] = np.nan
    history = model.fit(iter([(padded,)]), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    with pytest.raises(ValueError, match=r"x \(batch 1\).*NaN"):
        model.fit(batches(True), epochs=1, verbose=0)


@pytest.mark.torch_only
@pytest.mark.parametrize(
    "spoil, message",
    [
        (lambda x: x.pop("atom_mask"), "exactly the keys"),
        (
            lambda x: x.update(positions=np.zeros((8, ATOMS + 1, 3))),
            r"x\['positions'\].*shape",
        ),
        (
            lambda x: x["positions"].__setitem__((0, 0, 0), np.nan),
            r"x\['positions'\].*NaN",
        ),
        (
            lambda x: x.update(atom_types=np.where(x["atom_mask"], 7, 0)),
            r"x\['atom_types'\].*\[0, 3\)",
        ),
    ],
    ids=["missing mask", "too many atoms", "NaN", "unknown type"],
)
def test_bad_molecules_are_refused_by_name(spoil, message):
    model = model_of()
    model.compile(optimizer="adam")
    x = molecules(num_atom_types=TYPES, max_atoms=ATOMS)
    spoil(x)
    with pytest.raises(ValueError, match=message):
        model.fit(x, batch_size=4, verbose=0)


@pytest.mark.torch_only
@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"num_atom_types": 2}, "features must be 3 wide"),
        ({"atom_counts": [0, 1]}, "atom_counts"),
        ({"atom_counts": [1, 0, 0, 0, 0, 0, 0]}, "atom_counts"),
        ({"type_scale": 0.0}, "type_scale"),
        ({"scheduler": "ddpm"}, "scheduler"),
    ],
)
def test_bad_constructor_arguments_are_named(arguments, message):
    network = kgen.networks.egnn(TYPES + 1, hidden_dim=4, max_atoms=ATOMS)
    arguments = dict({"num_atom_types": TYPES}, **arguments)
    with pytest.raises(ValueError, match=message):
        kgen.models.EquivariantDiffusion(network, **arguments)


def expected_bound_of_a_silent_network(model, x, rng):
    """`E[L]` of a network that predicts zero noise, written out: then
    `x0_hat = z_t / sqrt(alpha_bar_t)` and each KL term is a multiple of
    `|eps|^2` on the molecule's `3 (N - 1) + N K` dimensions."""
    alpha_bar = model.scheduler.alphas_cumprod.astype("float64")
    atoms = x["atom_mask"].sum(axis=1)
    dims = 3 * (atoms - 1) + atoms * TYPES
    positions = np.where(x["atom_mask"][..., None], x["positions"], 0.0)
    mean = positions.sum(axis=1, keepdims=True) / atoms[:, None, None]
    positions = (positions - mean) * x["atom_mask"][..., None]
    squared = np.square(positions).sum(axis=(1, 2)) + atoms * 0.25**2
    last = alpha_bar[-1]
    bound = 0.5 * (last * squared + dims * (-last - np.log(1 - last)))
    for t in range(1, len(alpha_bar)):
        beta = 1 - alpha_bar[t] / alpha_bar[t - 1]
        weight = np.sqrt(alpha_bar[t - 1]) * beta / (1 - alpha_bar[t])
        variance = beta * (1 - alpha_bar[t - 1]) / (1 - alpha_bar[t])
        spread = (1 - alpha_bar[t]) / alpha_bar[t]
        bound = bound + weight**2 * spread * dims / (2 * variance)
    beta = 1 - alpha_bar[0]
    spread = beta / alpha_bar[0]
    bound = bound + 1.5 * (atoms - 1) * (
        spread / beta + np.log(2 * np.pi * beta)
    )
    # Each atom's type: its Gaussian's mass on [1/2, 3/2] per type,
    # normalised, averaged over many draws.
    predicted = np.eye(TYPES)[0] + np.sqrt(spread) / 0.25 * rng.normal(
        size=(200_000, TYPES)
    )
    scale = np.sqrt(beta) / 0.25
    mass = stats.norm.cdf((1.5 - predicted) / scale) - stats.norm.cdf(
        (0.5 - predicted) / scale
    )
    log_mass = np.log(mass + 1e-10)
    per_atom = -np.mean(log_mass[:, 0] - special.logsumexp(log_mass, axis=1))
    return bound + atoms * per_atom


@pytest.mark.torch_only
def test_the_bound_of_a_silent_network_is_the_written_out_expectation():
    x = molecules(num_atom_types=TYPES, max_atoms=ATOMS)
    # Each molecule 1024 times over: 1024 draws of its bound at once.
    copies = {
        key: np.tile(value, (1024,) + (1,) * (value.ndim - 1))
        for key, value in x.items()
    }
    # Few, noisy steps: every term of the bound of a like size. Two
    # steps weigh the prior and the decoder most; four, with one drawn
    # term scaled by 3, test the estimate.
    for steps, options in ((2, (None,)), (4, (None, 1))):
        schedule = schedulers.DDPMScheduler(
            num_train_timesteps=steps,
            beta_schedule="linear",
            beta_start=0.05,
            beta_end=0.05 if steps == 2 else 0.5,
        )
        given_count = model_of(atom_counts=None, scheduler=schedule)
        for weight in given_count.denoiser.weights:
            weight.assign(np.zeros(weight.shape, weight.dtype))
        expected = -expected_bound_of_a_silent_network(
            given_count, x, np.random.default_rng(0)
        )
        for num_steps in options:
            bounds = given_count.elbo(copies, num_steps=num_steps, seed=0)
            bounds = to_numpy(bounds).reshape(1024, -1)
            error = bounds.std(axis=0) / np.sqrt(len(bounds))
            np.testing.assert_array_less(
                np.abs(bounds.mean(axis=0) - expected), 4 * error
            )
    # With a histogram, `-log p(N)` joins the bound (minus infinity for
    # a count no training molecule had); without one it is the bound of
    # the molecule given its atom count.
    model = model_of(scheduler=schedule)
    for weight, zero in zip(
        model.denoiser.weights, given_count.denoiser.weights
    ):
        weight.assign(zero)
    counts = np.array([0, 0, 0, 2, 3, 0, 1])
    share = counts[x["atom_mask"].sum(axis=1)] / counts.sum()
    with_counts = to_numpy(model.elbo(x, seed=7))
    without = to_numpy(given_count.elbo(x, seed=7))
    possible = share > 0
    assert 0 < possible.sum() < len(share)
    np.testing.assert_allclose(
        (with_counts - without)[possible],
        np.log(share[possible]),
        rtol=1e-4,
        atol=1e-3,
    )
    assert (with_counts[~possible] == -np.inf).all()


@pytest.mark.torch_only
@needs_wheel("qm9pack", "pip install kgen[qm9]")
def test_the_shipped_preset_bounds_real_molecules_above_spoiled_ones():
    model = kgen.presets.load_preset("edm_qm9")
    test = kgen.datasets.load_qm9("test", max_molecules=12)
    x = {key: test[key] for key in kgen.datasets.QM9_INPUTS}
    real = to_numpy(model.elbo(x, num_steps=10, seed=0))
    rng = np.random.default_rng(0)
    shaken = dict(
        x,
        positions=(
            x["positions"]
            + 0.2
            * rng.normal(size=x["positions"].shape)
            * x["atom_mask"][..., None]
        ).astype("float32"),
    )
    retyped = dict(
        x, atom_types=np.where(x["atom_mask"], (x["atom_types"] + 1) % 5, 0)
    )
    # Measured on 64 molecules: every one bound higher than itself
    # shaken by 0.2 angstroms or with its elements changed.
    assert (real > to_numpy(model.elbo(shaken, num_steps=10, seed=0))).all()
    assert (real > to_numpy(model.elbo(retyped, num_steps=10, seed=0))).all()


@pytest.mark.torch_only
def test_the_bound_refuses_bad_arguments_by_name():
    model = model_of()
    x = molecules(num_atom_types=TYPES, max_atoms=ATOMS)
    with pytest.raises(ValueError, match="`num_steps`"):
        model.elbo(x, num_steps=0)
    with pytest.raises(ValueError, match="`condition`"):
        model.elbo(x, condition=np.zeros((len(x["positions"]), 1)))
    with pytest.raises(ValueError, match="condition"):
        model_of(condition_dim=1).elbo(x)
    spoiled = dict(x, positions=np.where(x["positions"] > 1, np.nan, 0.0))
    with pytest.raises(ValueError, match=r"`x\['positions'\]`"):
        model.elbo(spoiled)
