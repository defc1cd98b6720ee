"""The likelihood half of `VAE`: importance weights, the IWAE bound on
`log p(x)` and anomaly scores."""

import math

from keras import ops

from kgen import backend
from kgen.models import public_inputs
from kgen.utils.argument_validation import validate_int
from kgen.utils.mixed_precision import to_float32


class VAELikelihood:
    """Likelihood estimates of `VAE` (a mixin, kept apart so that the
    model's file holds its networks, objective and export).

    Needs from the model: `encode`, `decoder`, `decoder_inputs`,
    `likelihood_distribution`, `elbo`, `latent_dim`, `data_shape` and
    `_prior_log_prob`.
    """

    def log_importance_weights(self, x, num_samples, seed=None, labels=None):
        """`log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x)`, `z_k ~ q`.

        Returns:
            `(num_samples, batch)` log weights.
        """
        x = public_inputs.check_examples(self, x)
        labels = public_inputs.check_labels(self, labels, x)
        posterior = self.encode(x, labels=labels)
        latent = posterior.sample(
            num_samples, seed=public_inputs.seed_source(self, seed)
        )
        batch = ops.shape(x)[0]
        flat = ops.reshape(latent, (-1, self.latent_dim))
        if labels is not None:
            labels = ops.reshape(
                ops.repeat(ops.convert_to_tensor(labels)[None], num_samples, 0),
                (-1,),
            )
        decoder_output = to_float32(
            self.decoder(self.decoder_inputs(flat, labels), training=False)
        )
        repeated = ops.reshape(
            ops.repeat(x[None], num_samples, axis=0),
            (-1,) + self.data_shape,
        )
        log_likelihood = self.likelihood_distribution(decoder_output).log_prob(
            repeated
        )
        log_likelihood = ops.reshape(log_likelihood, (num_samples, batch))
        return (
            log_likelihood
            + self._prior_log_prob(latent)
            - posterior.log_prob(latent)
        )

    def log_likelihood(
        self,
        x,
        num_importance_samples=100,
        seed=None,
        chunk_size=100,
        labels=None,
    ):
        """Importance-weighted lower bound on `log p(x)` per example.

        ```
        log p(x) >= log (1/K) sum_k p(x, z_k) / q(z_k|x),   z_k ~ q(z|x)
        ```

        K = 1 is the ELBO; the bound rises towards `log p(x)` with K (Burda
        et al., 2015, arXiv:1509.00519). The K samples are drawn in chunks
        of `chunk_size` (memory) and combined exactly by log-sum-exp.
        """
        num_samples = validate_int(
            num_importance_samples, "num_importance_samples"
        )
        chunk_size = validate_int(chunk_size, "chunk_size")
        x = public_inputs.check_examples(self, x)
        labels = public_inputs.check_labels(self, labels, x)
        seed = public_inputs.seed_source(self, seed)
        chunks = []
        # An estimate, not a loss: on torch an autograd graph kept for
        # every chunk would undo the chunking (24 GB at K = 5,000).
        with backend.no_grad():
            for start in range(0, num_samples, chunk_size):
                count = min(chunk_size, num_samples - start)
                log_weights = self.log_importance_weights(
                    x, count, seed, labels
                )
                chunks.append(ops.logsumexp(log_weights, axis=0))
        return ops.logsumexp(ops.stack(chunks), axis=0) - math.log(num_samples)

    def anomaly_score(
        self, x, num_importance_samples=1, seed=None, labels=None
    ):
        """`-log p(x)` estimated by the ELBO (or the IWAE bound for
        `num_importance_samples > 1`): high for inputs unlike the training
        data."""
        num_samples = validate_int(
            num_importance_samples, "num_importance_samples"
        )
        if num_samples == 1:
            return -self.elbo(x, seed=seed, labels=labels)
        return -self.log_likelihood(x, num_samples, seed=seed, labels=labels)
