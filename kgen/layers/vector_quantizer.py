import keras
from keras import ops

from kgen import backend
from kgen.utils.argument_validation import validate_int
from kgen.utils.recorded_config import RecordedConfig


@keras.saving.register_keras_serializable(package="kgen")
class VectorQuantizer(RecordedConfig, keras.layers.Layer):
    """Snaps each encoder vector to its nearest codebook entry (VQ-VAE).

    For encoder outputs `z_e` (last axis `embedding_dim`), `k = argmin_j
    ||z_e - e_j||` and `z_q = e_k`. The straight-through estimator passes
    the decoder's gradient to the encoder: `z_e + sg[z_q - z_e]`. Returns a
    dict with `quantized`, `indices` and `loss`:

    ```
    loss = ||sg[z_e] - e||**2 + commitment_cost * ||z_e - sg[e]||**2
    ```

    With `use_ema` the codebook term is dropped and the codebook follows an
    exponential moving average of the vectors assigned to each code (van
    den Oord et al., appendix A.1), usually faster and more stable. Codes
    whose average usage falls below `dead_code_threshold` are restarted at
    random encoder outputs of the batch (EMA mode), a standard fix for
    codebook collapse.

    Args:
        num_embeddings: int >= 2. Codebook size.
        embedding_dim: int.
        commitment_cost: float. The paper's beta = 0.25.
        use_ema: bool.
        decay: float. EMA decay.
        dead_code_threshold: float. Minimum EMA cluster size (in vectors per
            batch) before a code is restarted; 0 disables restarts.
        seed: int or `None`.

    References:
        1. van den Oord et al. Neural Discrete Representation Learning.
           2017. arXiv:1711.00937.
    """

    def __init__(
        self,
        num_embeddings,
        embedding_dim,
        commitment_cost=0.25,
        use_ema=False,
        decay=0.99,
        dead_code_threshold=0.0,
        seed=None,
        **kwargs,
    ):
        # Nearest-code distances and the codebook's moving averages stay
        # float32 under a mixed policy (kgen.utils.mixed_precision).
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        num_embeddings = validate_int(
            num_embeddings, "num_embeddings", minimum=2
        )
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.commitment_cost = commitment_cost
        self.use_ema = use_ema
        self.decay = decay
        self.dead_code_threshold = dead_code_threshold
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            shape=(self.num_embeddings, self.embedding_dim),
            initializer=keras.initializers.RandomUniform(-1.0, 1.0),
            trainable=not self.use_ema,
            name="embeddings",
        )
        if self.use_ema:
            self.cluster_size = self.add_weight(
                shape=(self.num_embeddings,),
                initializer="ones",
                trainable=False,
                name="cluster_size",
            )
            self.embedding_sum = self.add_weight(
                shape=(self.num_embeddings, self.embedding_dim),
                initializer="zeros",
                trainable=False,
                name="embedding_sum",
            )
            # A copy: JAX must not see two variables share one buffer.
            self.embedding_sum.assign(ops.copy(self.embeddings.value))

    def nearest_codes(self, flat):
        """Nearest-code indices of `(n, embedding_dim)` vectors."""
        distances = (
            ops.sum(flat**2, axis=1, keepdims=True)
            - 2.0 * ops.matmul(flat, ops.transpose(self.embeddings))
            + ops.sum(self.embeddings**2, axis=1)[None, :]
        )
        return ops.argmin(distances, axis=1)

    def lookup(self, indices):
        """Code vectors for integer `indices` of any shape."""
        return ops.take(self.embeddings, indices, axis=0)

    def call(self, z_e, training=False):
        flat = ops.reshape(z_e, (-1, self.embedding_dim))
        indices = self.nearest_codes(flat)
        one_hot = ops.one_hot(indices, self.num_embeddings)
        if training and self.use_ema:
            self._ema_update(flat, one_hot)
        z_q = ops.reshape(self.lookup(indices), ops.shape(z_e))
        commitment = ops.mean(ops.square(z_e - ops.stop_gradient(z_q)))
        loss = self.commitment_cost * commitment
        if not self.use_ema:
            loss = loss + ops.mean(ops.square(ops.stop_gradient(z_e) - z_q))
        # Code usage of the global batch when the step runs data-parallel:
        # perplexity is not a mean, so replicas' values cannot be averaged.
        total = backend.sum_over_replicas
        usage = total(ops.sum(one_hot, axis=0)) / total(
            ops.cast(ops.shape(one_hot)[0], one_hot.dtype)
        )
        return {
            "quantized": z_e + ops.stop_gradient(z_q - z_e),
            "indices": ops.reshape(indices, ops.shape(z_e)[:-1]),
            "loss": loss,
            "perplexity": ops.exp(-ops.sum(usage * ops.log(usage + 1e-10))),
            "usage": ops.mean(ops.cast(usage > 0, "float32")),
        }

    def _ema_update(self, flat, one_hot):
        flat = ops.stop_gradient(flat)
        decay = self.decay
        # Totals over the global batch when the step runs data-parallel.
        counts = backend.sum_over_replicas(ops.sum(one_hot, axis=0))
        vector_sums = backend.sum_over_replicas(
            ops.matmul(ops.transpose(one_hot), flat)
        )
        cluster_size = decay * self.cluster_size + (1 - decay) * counts
        embedding_sum = decay * self.embedding_sum + (1 - decay) * vector_sums
        if self.dead_code_threshold > 0:
            # Restart dead codes at random vectors of this batch.
            flat = backend.gather_over_replicas(flat)
            picks = keras.random.randint(
                (self.num_embeddings,),
                0,
                ops.shape(flat)[0],
                seed=self.seed_generator,
            )
            dead = (cluster_size < self.dead_code_threshold)[:, None]
            embedding_sum = ops.where(
                dead, ops.take(flat, picks, axis=0), embedding_sum
            )
            cluster_size = ops.where(dead[:, 0], 1.0, cluster_size)
        self.cluster_size.assign(cluster_size)
        self.embedding_sum.assign(embedding_sum)
        self.embeddings.assign(embedding_sum / cluster_size[:, None])

    def compute_output_spec(self, z_e, training=False):
        return {
            "quantized": keras.KerasTensor(z_e.shape, z_e.dtype),
            "indices": keras.KerasTensor(z_e.shape[:-1], "int32"),
            "loss": keras.KerasTensor((), z_e.dtype),
            "perplexity": keras.KerasTensor((), z_e.dtype),
            "usage": keras.KerasTensor((), z_e.dtype),
        }
