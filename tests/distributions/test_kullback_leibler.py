import numpy as np
import pytest

from kgen.distributions import Bernoulli
from kgen.distributions import Independent
from kgen.distributions import Normal
from kgen.distributions import kl_divergence
from tests.conftest import to_numpy
from tests.distributions.tfp_reference import tfp_distributions

RNG = np.random.default_rng(7)
LOC_Q, LOC_P = RNG.normal(size=(2, 5, 8)).astype("float32")
SCALE_Q, SCALE_P = RNG.uniform(0.1, 3.0, size=(2, 5, 8)).astype("float32")


def test_normal_kl_equals_tfp():
    tfd = tfp_distributions()
    np.testing.assert_allclose(
        to_numpy(kl_divergence(Normal(LOC_Q, SCALE_Q), Normal(LOC_P, SCALE_P))),
        tfd.kl_divergence(
            tfd.Normal(LOC_Q, SCALE_Q), tfd.Normal(LOC_P, SCALE_P)
        ).numpy(),
        rtol=1e-5,
        atol=1e-6,
    )


def test_diagonal_gaussian_kl_to_standard_normal_equals_tfp():
    # The VAE's KL term: KL(N(mu, sigma) || N(0, I)) per example.
    tfd = tfp_distributions()
    q = Independent(Normal(LOC_Q, SCALE_Q), 1)
    p = Independent(Normal(np.zeros(8, "float32"), np.ones(8, "float32")), 1)
    expected = tfd.kl_divergence(
        tfd.Independent(tfd.Normal(LOC_Q, SCALE_Q), 1),
        tfd.Independent(
            tfd.Normal(np.zeros(8, "float32"), np.ones(8, "float32")), 1
        ),
    ).numpy()
    np.testing.assert_allclose(
        to_numpy(q.kl_divergence(p)), expected, rtol=1e-5
    )


def test_bernoulli_kl_equals_tfp():
    tfd = tfp_distributions()
    np.testing.assert_allclose(
        to_numpy(
            kl_divergence(Bernoulli(logits=LOC_Q), Bernoulli(logits=LOC_P))
        ),
        tfd.kl_divergence(
            tfd.Bernoulli(logits=LOC_Q), tfd.Bernoulli(logits=LOC_P)
        ).numpy(),
        rtol=1e-5,
        atol=1e-6,
    )


def test_normal_kl_closed_form_on_every_backend():
    # KL(N(m1, s1) || N(m2, s2))
    #     = log(s2 / s1) + (s1^2 + (m1 - m2)^2) / (2 s2^2) - 1/2
    expected = (
        np.log(SCALE_P / SCALE_Q)
        + (SCALE_Q**2 + (LOC_Q - LOC_P) ** 2) / (2 * SCALE_P**2)
        - 0.5
    )
    np.testing.assert_allclose(
        to_numpy(kl_divergence(Normal(LOC_Q, SCALE_Q), Normal(LOC_P, SCALE_P))),
        expected,
        rtol=1e-4,
        atol=1e-5,
    )


def test_unregistered_pair_raises():
    with pytest.raises(NotImplementedError, match="Normal, Bernoulli"):
        kl_divergence(Normal(0.0, 1.0), Bernoulli(logits=0.0))


def test_independent_pairs_need_equal_event_rank():
    with pytest.raises(ValueError, match="reinterpreted_batch_ndims"):
        kl_divergence(
            Independent(Normal(LOC_Q, SCALE_Q), 1),
            Independent(Normal(LOC_P, SCALE_P), 2),
        )
