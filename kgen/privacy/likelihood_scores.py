"""The white-box membership statistic each family offers: how well the
model explains an example, higher meaning "more likely a member"."""

import numpy as np
from keras import ops

from kgen.models import contract
from kgen.utils.argument_validation import validate_int
from kgen.utils.data_validation import host_array


def _free_energy(model, x, **_):
    return -model.free_energy(x)


def _elbo(model, x, **arguments):
    return model.elbo(x, **arguments)


def _log_prob(model, x, seed=None, **arguments):
    if getattr(model, "num_bins", None):
        # A flow of discrete data: the density of the dequantised example,
        # as the flow was trained (the bin corner itself is no data).
        x = model.dequantize(x, seed=seed)
    if "seed" in contract.options(model, "log_prob"):
        arguments["seed"] = seed
    return model.log_prob(x, **arguments)


def _discriminate(model, x, labels=None, **_):
    return model.discriminate(x, labels=labels)


def _energy(model, x, **_):
    return -model.energy(x)


# capability -> the score from its method of the same name: the first a
# model can compute, by its `kgen.models.contract` capabilities, is used.
# The order
# puts a family's own training objective first: an RBM also has `log_prob`
# through AIS, whose `log Z` is the same for every example and costs far
# more than the free energy it adds to.
STATISTICS = {
    "free_energy": _free_energy,
    "elbo": _elbo,
    "log_prob": _log_prob,
    "discriminate": _discriminate,
    "energy": _energy,
}


def likelihood_statistic(model):
    """The name of the statistic `likelihood_scores` uses for `model`, or
    `None` when the model offers none (a consistency model, a VQ-VAE:
    only the black-box nearest-neighbour attack applies)."""
    for name in STATISTICS:
        if contract.can(model, name):
            return name
    return None


def likelihood_scores(
    model, x, *, labels=None, seed=0, batch_size=250, **options
):
    """Per-example membership scores from the model's own fit to `x`.

    A model fits its training examples better than unseen ones when it
    overfits, so its own per-example objective is the classic loss
    attack (Yeom et al. 2018; for GANs the discriminator's output,
    LOGAN's white-box attack, Hayes et al. 2019). The statistic is the
    first of these the model has:

    - `free_energy` (RBM): `-F(x)`, `log p(x)` up to the constant `log Z`;
    - `elbo` (VAEs, diffusion): the evidence lower bound, one posterior
      draw; a diffusion model's variational bound, its KL terms estimated
      at `num_steps` drawn steps (`options`);
    - `log_prob` (flows, PixelCNN, WaveNet, flow matching): `log p(x)`,
      of the dequantised example for a flow of discrete data;
    - `discriminate` (GANs): the discriminator's realism score;
    - `energy` (energy-based models): `-E(x)`.

    Args:
        model: a `kgen.models.GenerativeModel`.
        x: array `(n, ...)` of examples in the model's data range.
        labels: int array `(n,)` for a class-conditional model: each
            example is scored under its own class.
        seed: int. Seeds every draw the statistic makes, so members and
            non-members are scored under the same noise.
        batch_size: int. Examples scored at once.
        **options: keyword arguments of the statistic's method that it
            takes (`num_steps=` for diffusion and flow matching); others
            are refused.

    Returns:
        `(statistic, scores)`: the statistic's name and a float64 NumPy
        array `(n,)`, higher meaning "more likely a member".

    Raises:
        ValueError: naming `model` when it offers no statistic, and
            `options` when one is not an argument of its method.
    """
    statistic = likelihood_statistic(model)
    if statistic is None:
        raise ValueError(
            f"`model` ({type(model).__name__}) offers no per-example "
            "likelihood, bound, discriminator or energy to score "
            "membership with; use the nearest-neighbour attack "
            "(`nearest_neighbor_scores`), which needs only "
            "samples."
        )
    batch_size = validate_int(batch_size, "batch_size")
    score = STATISTICS[statistic]
    accepted = contract.options(model, statistic) | {"x"}
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise ValueError(
            f"`options` {unknown} are not arguments of "
            f"{type(model).__name__}.{statistic}, which takes "
            f"{sorted(accepted - {'x', 'seed', 'labels'})}."
        )
    arguments = dict(options)
    if "seed" in accepted or statistic == "log_prob":
        arguments["seed"] = seed
    conditional = labels is not None and "labels" in accepted
    x = host_array(x, "x")
    scores = []
    for start in range(0, len(x), batch_size):
        batch_arguments = dict(arguments)
        if conditional:
            batch_arguments["labels"] = np.asarray(labels)[
                start : start + batch_size
            ]
        if "seed" in batch_arguments:
            # One seed per batch, the same for members and non-members
            # at the same position.
            batch_arguments["seed"] = seed + start
        values = score(model, x[start : start + batch_size], **batch_arguments)
        scores.append(np.asarray(ops.convert_to_numpy(values), "float64"))
    return statistic, np.concatenate(scores)
