import keras
import numpy as np
import pytest

from kgen.privacy import likelihood_scores
from kgen.privacy import likelihood_statistic
from kgen.privacy import privacy_audit
from tests.models import contract_cases as cases

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only


@pytest.mark.parametrize(
    "builder, statistic",
    [
        (cases.vae_case, "elbo"),
        (cases.dcgan, "discriminate"),
        (cases.diffusion_model, "elbo"),
        (cases.glow, "log_prob"),
        (cases.flow_matching, "log_prob"),
        (cases.rbm, "free_energy"),
        (cases.energy_model, "energy"),
    ],
)
def test_each_family_is_scored_by_its_own_objective(builder, statistic):
    case = builder()
    labels = case.y if case.conditional else None
    options = {"num_steps": 2} if builder is cases.flow_matching else {}
    name, scores = likelihood_scores(
        case.model, case.x, labels=labels, seed=3, batch_size=3, **options
    )
    assert name == statistic == likelihood_statistic(case.model)
    assert scores.shape == (len(case.x),) and np.isfinite(scores).all()
    _, again = likelihood_scores(
        case.model, case.x, labels=labels, seed=3, batch_size=3, **options
    )
    np.testing.assert_array_equal(scores, again)


def test_scores_are_the_objective_itself_where_it_draws_nothing():
    case = cases.rbm()
    _, scores = likelihood_scores(case.model, case.x)
    expected = -keras.ops.convert_to_numpy(case.model.free_energy(case.x))
    np.testing.assert_allclose(scores, expected, rtol=1e-6)
    case = cases.dcgan()
    _, scores = likelihood_scores(case.model, case.x)
    expected = keras.ops.convert_to_numpy(case.model.discriminator(case.x))
    np.testing.assert_allclose(scores, expected[:, 0], rtol=1e-6)


def test_a_model_without_a_statistic_or_with_a_foreign_option_is_refused():
    case = cases.consistency_model()
    assert likelihood_statistic(case.model) is None
    with pytest.raises(ValueError, match="nearest-neighbour"):
        likelihood_scores(case.model, case.x, labels=case.y)
    case = cases.rbm()
    with pytest.raises(ValueError, match="`options` \\['num_steps'\\]"):
        likelihood_scores(case.model, case.x, num_steps=2)


def test_privacy_audit_reports_both_attacks_and_catches_copies():
    case = cases.rbm()
    rng = np.random.default_rng(0)
    train = rng.integers(0, 2, (64, 6)).astype("float32")
    holdout = rng.integers(0, 2, (64, 6)).astype("float32")
    report = privacy_audit(
        case.model,
        train,
        holdout,
        num_samples=32,
        num_members=16,
        sample_arguments={"num_steps": 2},
    )
    assert report["num_samples"] == 32 and report["num_members"] == 16
    assert report["likelihood_attack"]["statistic"] == "free_energy"
    for attack in ("nearest_neighbor_attack", "likelihood_attack"):
        assert 0.0 <= report[attack]["auroc"] <= 1.0
    assert 0.0 <= report["memorization"]["near_copy_fraction"] <= 1.0
    # Samples that are the training set: every member is at distance 0,
    # and no held-out example (grey levels, unlike the binary members).
    holdout = rng.uniform(0.1, 0.9, (64, 6)).astype("float32")
    copies = privacy_audit(
        case.model, train, holdout, samples=train, num_members=16
    )
    assert copies["nearest_neighbor_attack"]["auroc"] == 1.0
    assert copies["memorization"]["dcr_median"] == 0.0
    assert copies["memorization"]["near_copy_fraction"] == 1.0


def test_privacy_audit_refuses_missing_labels_and_foreign_shapes():
    case = cases.diffusion_model()
    with pytest.raises(ValueError, match="train_labels"):
        privacy_audit(case.model, case.x, case.x, samples=case.x)
    with pytest.raises(ValueError, match="`holdout` must be a batch"):
        privacy_audit(
            case.model,
            case.x,
            np.zeros((4, 5)),
            train_labels=case.y,
            holdout_labels=case.y[:4],
            samples=case.x,
        )
