import keras
from keras import ops

from kgen.utils.argument_validation import validate_bool
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int
from kgen.utils.data_validation import validate_input
from kgen.utils.nested_config import with_objects_rebuilt
from kgen.watermarks.bit_key import bit_match_scores
from kgen.watermarks.bit_key import key_bits
from kgen.watermarks.bit_key_model import BitKeyModel
from kgen.watermarks.training_attacks import attacked_versions


@keras.saving.register_keras_serializable(package="kgen")
class StableSignature(BitKeyModel):
    """Fine-tunes a generative model's decoder so that every image it
    makes carries one multi-bit key (Stable Signature, Fernandez et al.
    2023): the watermark is in the weights, not added afterwards.

    A frozen extractor (a trained `BitWatermark`'s) reads the key's bits;
    the decoder `D` (a GAN's generator, a VAE's decoder: latents to
    images) is fine-tuned from its original `D_0` on latents `z` by `fit`:

    ```
    L = mean_a BCE(extractor(a(D(z))), key)
        + image_weight * d(D(z), D_0(z))
    ```

    over the plain 8-bit image and, with `attack_training`, each attack
    of the suite. `score` tests images for the key (bit accuracy and the
    binomial p-value of `bit_key.bit_match_scores`).

    Args:
        decoder: `keras.Model`, latents -> images in `value_range`; its
            weights are the ones fine-tuned.
        extractor: `keras.Model`, images in [0, 1] -> `(batch, num_bits)`
            logits; frozen.
        key: int. Seeds the key's bits (`bit_key.key_bits`).
        image_weight: float >= 0. Weight of the change to the images.
        value_range: `(low, high)` of the decoder's images.
        attack_training: bool. Also read the key from attacked images
            while fine-tuning.
        original_decoder: the decoder before fine-tuning; `None` clones
            `decoder` as it is now.
        image_loss: `"mse"` (`d = |D(z) - D_0(z)|**2`) or `"watson_dct"`
            (`kgen.losses.watson_dct_loss`, as the paper's perceptual
            loss: the key goes where the image masks it; pair it with an
            extractor trained under the same loss).

    Example:

    ```python
    signature = kgen.watermarks.StableSignature(
        gan.generator, bit_watermark.extractor, key=7, value_range=(-1, 1)
    )
    signature.compile(optimizer=keras.optimizers.Adam(1e-4))
    signature.fit(np.random.normal(size=(8192, latent_dim)), batch_size=64)
    images = gan.sample(16)  # the same generator, now watermarked
    signature.score(images)["p_value"]
    ```

    References:
        [1] Fernandez et al. The Stable Signature: Rooting Watermarks in
            Latent Diffusion Models. ICCV 2023. arXiv:2303.15435.
    """

    def __init__(
        self,
        decoder,
        extractor,
        key=0,
        image_weight=10.0,
        value_range=(0.0, 1.0),
        attack_training=True,
        original_decoder=None,
        image_loss="mse",
        **kwargs,
    ):
        super().__init__(
            extractor, image_weight, value_range, image_loss, **kwargs
        )
        # === Layers ===
        self.decoder = decoder
        self.extractor.trainable = False
        if original_decoder is None:
            # Why a clone: the reference images must not move while the
            # decoder they come from is trained.
            original_decoder = keras.models.clone_model(decoder)
            original_decoder.set_weights(decoder.get_weights())
        self.original_decoder = original_decoder
        self.original_decoder.trainable = False
        # === Config ===
        self.key = validate_int(key, "key", minimum=0)
        self.bits = key_bits(self.key, self.num_bits)
        self.attack_training = validate_bool(attack_training, "attack_training")
        # The noise attack's draws while fine-tuning.
        self.seed_generator = keras.random.SeedGenerator(self.key)

    def call(self, latents, training=False):
        return {
            "images": self._unit(self.decoder(latents, training=False)),
            "original": ops.stop_gradient(
                self._unit(self.original_decoder(latents, training=False))
            ),
        }

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        if y_pred is None:
            y_pred = self(x, training=training)
        images = y_pred["images"]
        # Without attack training the suite is not run at all: its noise
        # attack would otherwise draw (unseeded) for a discarded version.
        versions = attacked_versions(
            images, self.seed_generator, attacks=self.attack_training
        )
        logits = ops.stack(
            [self.extractor(v, training=False) for v in versions], axis=0
        )
        return self._key_loss(logits, self.bits, images, y_pred["original"])

    def score(self, images, bits=None):
        """`bit_match_scores` of `images` (in `value_range`) against the
        key's bits (or other `bits`: to test for another key):
        `num_matching`, `bit_accuracy`, `p_value` per image."""
        images = validate_input(
            images, self.image_shape, "images", self.value_range
        )
        bits = self.bits if bits is None else bits
        return bit_match_scores(self.extractor(self._unit(images)), bits)

    def detect(self, images, p_value=1e-2):
        """`(batch,)` bool: the key found with a binomial p-value below
        `p_value`."""
        p_value = validate_float(
            p_value, "p_value", 0.0, 1.0, exclusive_minimum=True
        )
        return self.score(images)["p_value"] < p_value

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "decoder": keras.saving.serialize_keras_object(self.decoder),
                "key": self.key,
                "attack_training": self.attack_training,
                "original_decoder": keras.saving.serialize_keras_object(
                    self.original_decoder
                ),
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(
            **with_objects_rebuilt(
                config, "decoder", "extractor", "original_decoder"
            )
        )
