"""`sample(n)` at the backend's batch sizes (kgen/models/sample_batching.py).

On JAX a call runs at a bucket of rows and keeps the first `n`; these tests
check that this returns the samples of an unpadded call, on every case of
the contract harness (`-m large`; CI on one case per `sample` code), and
how per-example arguments are padded. The draws
are the same numbers; the arithmetic may not be: XLA's kernels for a batch
of 4 can round differently from those for 3 in the last bit (6e-8 in
ProgressiveGAN's samples, 38 classes agree bit for bit).
"""

import numpy as np
import pytest

import kgen
from tests.conftest import BACKEND
from tests.models.test_contract import SEED
from tests.models.test_contract import draw
from tests.models.test_contract import over_cases
from tests.models.test_contract import samples
from tests.models.test_contract import trained

# Cases whose `sample` is another case's code on the same kind of model
# (the name after "as"): CI pads one of each, `-m large` every case.
SAME_SAMPLE_CODE = {
    "GAN": "DCGAN",
    "WGAN": "DCGAN",
    "WGANGP": "DCGAN",
    "WaveGAN": "DCGAN",
    "BetaVAE": "VAE",
    "FlowModel": "Glow",
    "MAF": "Glow",
    "NeuralSplineFlow": "Glow",
    "RealNVP": "Glow",
    "DiffusionModel[dit]": "DiffusionModel",
    "TextToImage[dit]": "TextToImage",
    "SRGAN": "Pix2Pix",
}


@pytest.mark.all_backends
@pytest.mark.skipif(
    BACKEND != "jax", reason="only JAX pads: elsewhere the bucket is n"
)
@over_cases(large=SAME_SAMPLE_CODE)
def test_a_padded_call_returns_the_unpadded_samples(name, monkeypatch):
    # `samples` draws 3 through JAX's bucket of 4.
    padded = samples(name)
    case, _ = trained(name)
    monkeypatch.setattr(kgen.backend, "sample_batch_size", lambda n: n)
    unpadded = draw(case.model, case, SEED)
    np.testing.assert_allclose(padded, unpadded, rtol=1e-6, atol=1e-6)


def power_of_two(num_samples):
    return 1 << (num_samples - 1).bit_length()


class Rows(kgen.models.GenerativeModel):
    """Returns its per-example arguments, and records each call's size."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def sample(
        self,
        num_samples,
        *,
        seed=None,
        labels=None,
        condition=None,
        prompts=None,
    ):
        self.calls.append(num_samples)
        if isinstance(num_samples, bool) or num_samples < 1:
            raise ValueError("num_samples must be a positive int")
        if (
            labels is not None
            and np.ndim(labels)
            and len(labels) != num_samples
        ):
            raise ValueError(f"{len(labels)} labels for {num_samples} samples")
        rows = np.arange(num_samples)
        return {
            "rows": rows,
            "pair": (rows, np.asarray(labels)),
            "prompts": prompts,
        }


@pytest.fixture
def bucketed(monkeypatch):
    monkeypatch.setattr(kgen.backend, "sample_batch_size", power_of_two)
    return Rows()


def test_per_example_arguments_are_padded_with_their_last_row(bucketed):
    outputs = bucketed.sample(3, labels=[4, 5, 6], prompts=["a", "b", "c"])
    assert bucketed.calls == [4]
    np.testing.assert_array_equal(outputs["rows"], [0, 1, 2])
    np.testing.assert_array_equal(outputs["pair"][1], [4, 5, 6])
    assert outputs["prompts"] == ["a", "b", "c"]


def test_arguments_without_rows_pass_unchanged(bucketed):
    outputs = bucketed.sample(5, labels=7, prompts="a digit")
    assert bucketed.calls == [8]
    assert outputs["prompts"] == "a digit"
    assert outputs["pair"][1] == 7


def test_a_wrong_length_is_reported_with_the_callers_count(bucketed):
    with pytest.raises(ValueError, match="2 labels for 3 samples"):
        bucketed.sample(3, labels=[1, 2])
    assert bucketed.calls == [3]


@pytest.mark.parametrize("num_samples", [0, True, -3])
def test_a_bad_count_reaches_the_models_own_check(bucketed, num_samples):
    with pytest.raises(ValueError, match="num_samples"):
        bucketed.sample(num_samples)
    assert bucketed.calls == [num_samples]


def test_every_model_samples_through_the_buckets():
    for name in kgen.models.__all__:
        model_class = getattr(kgen.models, name)
        if isinstance(model_class, type) and name != "GenerativeModel":
            assert model_class.sample.batches_samples, name


def test_jax_buckets_are_powers_of_two_then_multiples_of_1024():
    jax_backend = pytest.importorskip("kgen.backend.jax")
    sizes = [1, 2, 3, 5, 200, 1024, 1025, 3000]
    assert [jax_backend.sample_batch_size(n) for n in sizes] == [
        1,
        2,
        4,
        8,
        256,
        1024,
        2048,
        3072,
    ]
