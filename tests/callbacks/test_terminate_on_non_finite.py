import os

import keras
import numpy as np
import pytest

import kgen
from tests.conftest import BACKEND
from tests.conftest import to_numpy
from tests.conftest import weights_of
from tests.models import contract_cases
from tests.models.gan import networks


class PoisonWeights(keras.callbacks.Callback):
    """Sets the discriminator's first kernel to NaN after a given step."""

    def __init__(self, after_step):
        super().__init__()
        self.after_step = after_step
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if self.steps == self.after_step:
            kernel = self.model.discriminator.trainable_variables[0]
            kernel.assign(np.full(kernel.shape, np.nan, "float32"))


def test_a_nan_gan_stops_at_its_step_and_keeps_the_good_checkpoint(
    digits_symmetric, tmp_path
):
    model = kgen.models.GAN(
        networks.generator(), networks.critic(), networks.LATENT_DIM, seed=0
    )
    model.compile(g_optimizer=networks.adam(), d_optimizer=networks.adam())
    path = str(tmp_path / "last_good.weights.h5")
    checkpoint = keras.callbacks.ModelCheckpoint(
        path,
        save_weights_only=True,
        save_best_only=True,
        monitor="g_loss",
        mode="min",
    )
    x = digits_symmetric[:128]
    # Two batches per epoch: epoch 1 is clean, the weights go bad after
    # the third optimizer step, so the fourth logs NaN.
    with pytest.raises(kgen.callbacks.NonFiniteLossError) as error:
        model.fit(
            x,
            batch_size=64,
            epochs=3,
            verbose=0,
            callbacks=[checkpoint, PoisonWeights(after_step=3)],
        )
    message = str(error.value)
    assert "step 4 of this fit (epoch 2, batch 2)" in message
    assert "d_loss=nan" in message
    assert os.path.exists(path)
    restored = kgen.models.GAN(
        networks.generator(), networks.critic(), networks.LATENT_DIM
    )
    restored.load_weights(path)
    for variable in restored.weights:
        assert np.isfinite(to_numpy(variable)).all(), variable.path


def test_an_explicit_callback_can_stop_quietly(digits_symmetric):
    model = kgen.models.GAN(
        networks.generator(), networks.critic(), networks.LATENT_DIM
    )
    model.compile(g_optimizer=networks.adam(), d_optimizer=networks.adam())
    quiet = kgen.callbacks.TerminateOnNonFinite(raise_error=False)
    model.fit(
        digits_symmetric[:128],
        batch_size=64,
        epochs=3,
        verbose=0,
        callbacks=[quiet, PoisonWeights(after_step=1)],
    )
    assert "step 2 of this fit (epoch 1, batch 2)" in quiet.message
    assert int(to_numpy(model.g_optimizer.iterations)) == 2


class Batches(keras.utils.PyDataset):
    """Fixed batches of `(x,)` or `(x, y)`, in order."""

    def __init__(self, batches):
        super().__init__()
        self.batches = batches

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        return self.batches[index]


@pytest.fixture
def unchecked_batches(monkeypatch):
    """`fit` refuses a batch holding infinity before any step
    (kgen/utils/checked_batches.py); these tests feed one anyway, as the
    simplest step that goes non-finite, to test what undoes it."""
    monkeypatch.setattr(kgen.models.data_path, "check_batch", lambda *_: None)


def _batches(case, poisoned=(), dropped=()):
    """`case`'s data in batches of 2; the batches in `poisoned` have an
    infinite first example (XLA's CPU `max` turns a NaN into 0 at a ReLU,
    so a NaN may never reach the loss), those in `dropped` are left out."""
    arrays = case.fit_arguments()
    batches = []
    for index in range(len(arrays[0]) // 2):
        batch = [np.array(a[2 * index : 2 * index + 2]) for a in arrays]
        if index in poisoned:
            batch[0][0] = np.inf
        if index not in dropped:
            batches.append(tuple(batch))
    return Batches(batches)


def _float_families():
    """Harness cases whose examples are floats (infinity can be fed)."""
    names = []
    for name in contract_cases.CASES:
        family = contract_cases.model_class_name(name)
        if family in INTEGER_FAMILIES:
            continue
        if family == "EquivariantDiffusion":
            # Molecules are a dict the model checks itself batch by batch
            # (an infinite coordinate is refused before any step); its
            # step is DiffusionModel's Keras step, covered here.
            continue
        if family in ("LatentDiffusion", "LatentTextToImage"):
            # Their frozen encoder's ReLUs absorb a non-finite pixel under
            # XLA (CPU max(NaN, 0) is 0), so their data cannot make a bad
            # step; DiffusionModel and TextToImage cover the same steps.
            continue
        names.append(name)
    return names


# Families whose examples are integer levels, tokens or codes, or binary
# units: infinity cannot be fed to them.
INTEGER_FAMILIES = (
    "PixelCNN",
    "GPT",
    "WaveNet",
    "RBM",
    "MaskGIT",
    "MaskedDiffusion",
    "SequenceVAE",
)

# TensorFlow undoes a bad step in one family per kind of step and of
# state the undo must restore; JAX and torch in one family per kind of
# step (Keras' own, a family's own), which proves those backends' undo
# code (`kgen.backend.undo_non_finite_steps`). That code snapshots every
# variable, so the families differ only in what their step changes, and
# that does not differ between backends: `-m large` undoes a step in
# every other family under torch (`KERAS_BACKEND=torch python -m pytest
# -m "large and torch_only"`), whose eager steps ran the 36 in 31 s where
# TensorFlow traced 27 of them in 435 s of worker time (two workers).
ONE_PER_MECHANISM = (
    "DCGAN",  # two optimizers; batch statistics
    "WGAN",  # weight clipping after the step
    "WGANGP",  # a gradient penalty (input gradients)
    "CycleGAN",  # four optimizers
    "Pix2Pix",  # paired data
    "EnergyModel",  # the replay buffer
    "JointEnergyModel",  # labels and chains
    "VAE",  # Keras' own step; reparameterised draws
    "DenoisingAutoencoder",  # Dropout's seed state
    "VQVAE",  # the codebook's EMA
    "Glow",  # ActNorm's data-dependent initialisation
)
# Left to the sweep (20-36 s each under TensorFlow), since a cheaper
# family above has their kind of step: StyleGAN (the running average of
# w, a state as the codebook's EMA is), VAEGAN (three optimizers;
# CycleGAN has four) and DiffusionModel (per-example timesteps and noise,
# as WGANGP's per-example draws).
ONE_PER_KIND_OF_STEP = ("DCGAN", "VAE")


@pytest.mark.all_backends
@pytest.mark.parametrize(
    "name",
    ONE_PER_MECHANISM if BACKEND == "tensorflow" else ONE_PER_KIND_OF_STEP,
)
def test_a_skipped_step_is_undone_whole(name, unchecked_batches):
    """A bad batch skipped leaves the weights, optimizer state, seed state
    and metrics of a run that never saw it."""
    assert_a_skipped_step_is_undone_whole(name)


@pytest.mark.large
@pytest.mark.torch_only
@pytest.mark.parametrize(
    "name",
    [n for n in _float_families() if n not in ONE_PER_KIND_OF_STEP],
)
def test_a_skipped_step_is_undone_whole_in_every_family(
    name, unchecked_batches
):
    assert_a_skipped_step_is_undone_whole(name)


def assert_a_skipped_step_is_undone_whole(name):
    # Both runs may skip, so both compile the same guarded step: XLA fuses
    # a step with the undo differently (last-bit differences on JAX).
    keras.utils.set_random_seed(0)
    clean = contract_cases.CASES[name]()
    clean_history = clean.model.fit(
        _batches(clean, dropped={1}),
        epochs=2,
        shuffle=False,
        verbose=0,
        callbacks=[kgen.callbacks.TerminateOnNonFinite(max_skipped_steps=2)],
    )
    assert clean_history.history.pop("skipped_steps") == [0, 0]
    keras.utils.set_random_seed(0)
    case = contract_cases.CASES[name]()
    check = kgen.callbacks.TerminateOnNonFinite(max_skipped_steps=2)
    with pytest.warns(UserWarning, match="skipped 2 non-finite step"):
        history = case.model.fit(
            _batches(case, poisoned={1}),
            epochs=2,
            shuffle=False,
            verbose=0,
            callbacks=[check],
        )
    assert [(epoch, batch) for epoch, batch, _ in check.skipped_steps] == [
        (0, 1),
        (1, 1),
    ]
    assert history.history.pop("skipped_steps") == [1, 1]
    for key, values in clean_history.history.items():
        np.testing.assert_allclose(
            history.history[key], values, rtol=1e-6, err_msg=key
        )
    for variable, wanted, actual in zip(
        case.model.weights, weights_of(clean.model), weights_of(case.model)
    ):
        np.testing.assert_array_equal(actual, wanted, err_msg=variable.path)


def test_skipping_stops_after_its_limit_with_the_last_good_weights(
    unchecked_batches,
):
    case = contract_cases.CASES["VAE"]()
    check = kgen.callbacks.TerminateOnNonFinite(max_skipped_steps=1)
    with pytest.raises(kgen.callbacks.NonFiniteLossError) as error:
        case.model.fit(
            _batches(case, poisoned={1, 2}),
            shuffle=False,
            verbose=0,
            callbacks=[check],
        )
    message = str(error.value)
    assert "step 3 of this fit (epoch 1, batch 3)" in message
    assert "after 1 skipped step(s)" in message
    assert len(check.skipped_steps) == 2
    for variable in case.model.weights:
        assert np.isfinite(to_numpy(variable)).all(), variable.path


def test_skipping_refuses_several_steps_per_execution():
    case = contract_cases.CASES["VAE"]()
    case.model.compile(optimizer="adam", steps_per_execution=2)
    with pytest.raises(ValueError, match="steps_per_execution=1"):
        case.model.fit(
            case.x,
            batch_size=2,
            verbose=0,
            callbacks=[
                kgen.callbacks.TerminateOnNonFinite(max_skipped_steps=1)
            ],
        )


def test_max_skipped_steps_is_checked_and_serialized():
    with pytest.raises(ValueError, match="max_skipped_steps"):
        kgen.callbacks.TerminateOnNonFinite(max_skipped_steps=-1)
    check = kgen.callbacks.TerminateOnNonFinite(max_skipped_steps=3)
    restored = kgen.callbacks.TerminateOnNonFinite(**check.get_config())
    assert restored.max_skipped_steps == 3
