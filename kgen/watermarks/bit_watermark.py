import keras
import numpy as np
from keras import ops

from kgen.utils import seeds
from kgen.utils.argument_validation import validate_bool
from kgen.utils.argument_validation import validate_float
from kgen.utils.data_validation import validate_input
from kgen.utils.nested_config import with_objects_rebuilt
from kgen.watermarks.bit_key import bit_match_scores
from kgen.watermarks.bit_key_model import BitKeyModel
from kgen.watermarks.training_attacks import attacked_versions


@keras.saving.register_keras_serializable(package="kgen")
class BitWatermark(BitKeyModel):
    """A multi-bit message an encoder hides in any image and an extractor
    reads back, robust to the attack suite (HiDDeN, Zhu et al. 2018).

    Trained by `fit` on images alone: each step draws a random message
    per image, embeds it,

    ```
    x_w = clip(x + strength * encoder(x, m), 0, 1)
    L = mean_a BCE(extractor(a(x_w)), m) + image_weight * d(x_w, x)
    ```

    over the attacks `a` of `image_attacks.attack_suite` and the plain
    8-bit image (`training_attacks.attacked_versions`). Its extractor is
    what `StableSignature` needs: a reader of bits that has learnt where
    in an image they can hide and survive.

    Args:
        encoder: `keras.Model` `[images, bits] -> residual` in [-1, 1]
            (`kgen.networks.watermark_encoder`).
        extractor: `keras.Model` `images -> (batch, num_bits)` logits
            (`kgen.networks.watermark_extractor`).
        strength: float > 0. The largest change per pixel, in units of
            the image range.
        image_weight: float >= 0. Weight of the image distortion.
        value_range: `(low, high)` of the images.
        attack_training: bool. Read the bits from the attacked images too
            (else from the plain 8-bit image alone: a watermark that
            learns fast but breaks under attack; train without, then
            with, as a curriculum). Surviving the suite takes a stronger
            key: where the images must change least (a generator's FID),
            train without.
        image_loss: `"mse"` (`d = |x_w - x|**2`) or `"watson_dct"`
            (`kgen.losses.watson_dct_loss`: the encoder learns to hide
            the bits where the image masks them).
        seed: int or `None`. Seeds the messages and the noise attack.

    References:
        [1] Zhu et al. HiDDeN: Hiding Data With Deep Networks. ECCV 2018.
            arXiv:1807.09937.
    """

    def __init__(
        self,
        encoder,
        extractor,
        strength=0.1,
        image_weight=10.0,
        value_range=(0.0, 1.0),
        attack_training=True,
        image_loss="mse",
        seed=None,
        **kwargs,
    ):
        super().__init__(
            extractor, image_weight, value_range, image_loss, **kwargs
        )
        # === Layers ===
        self.encoder = encoder
        # === Config ===
        self.strength = validate_float(
            strength, "strength", 0.0, exclusive_minimum=True
        )
        self.attack_training = validate_bool(attack_training, "attack_training")
        self.seed = seeds.validate_model_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def _from_unit(self, unit):
        low, high = self.value_range
        return unit * (high - low) + low

    def _embed_unit(self, unit, bits):
        residual = self.encoder([unit, bits])
        return ops.clip(unit + self.strength * residual, 0.0, 1.0)

    def embed(self, images, bits):
        """`images` carrying `bits` (`(num_bits,)` for all, or one row
        per image), in the images' range."""
        images = validate_input(
            images, self.image_shape, "images", self.value_range
        )
        bits = np.asarray(ops.convert_to_numpy(bits), "float32")
        if bits.shape[-1:] != (self.num_bits,) or bits.ndim > 2:
            raise ValueError(
                f"`bits` must be ({self.num_bits},) or (batch, "
                f"{self.num_bits}); received shape {bits.shape}."
            )
        bits = ops.convert_to_tensor(
            np.broadcast_to(bits, (len(images), self.num_bits))
        )
        return self._from_unit(self._embed_unit(self._unit(images), bits))

    def fit(self, x=None, y=None, *args, **kwargs):
        # The networks are built for one image shape; Keras would report
        # another shape as "Exception encountered when calling
        # BitWatermark.call()" deep in the encoder.
        if hasattr(x, "shape"):
            validate_input(x, self.image_shape, "x", self.value_range)
        return super().fit(x, y, *args, **kwargs)

    def extract(self, images):
        """The extractor's `(batch, num_bits)` logits for `images`."""
        images = validate_input(
            images, self.image_shape, "images", self.value_range
        )
        return self.extractor(self._unit(images))

    def score(self, images, bits):
        """`bit_match_scores` of `images` against `bits`: bit accuracy,
        matching bits and the binomial p-value of each image."""
        return bit_match_scores(self.extract(images), bits)

    def call(self, images, training=False):
        unit = self._unit(images)
        bits = ops.cast(
            keras.random.uniform(
                (ops.shape(unit)[0], self.num_bits), seed=self.seed_generator
            )
            < 0.5,
            "float32",
        )
        marked = self._embed_unit(unit, bits)
        # Without attack training the suite is not run: it would draw from
        # the seed generator for images that are thrown away.
        versions = attacked_versions(
            marked, self.seed_generator, attacks=self.attack_training
        )
        logits = [
            self.extractor(attacked, training=training) for attacked in versions
        ]
        return {
            "unit": unit,
            "marked": marked,
            "bits": bits,
            "logits": ops.stack(logits, axis=0),
        }

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        if y_pred is None:
            y_pred = self(x, training=training)
        return self._key_loss(
            y_pred["logits"], y_pred["bits"], y_pred["marked"], y_pred["unit"]
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "strength": self.strength,
                "attack_training": self.attack_training,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**with_objects_rebuilt(config, "encoder", "extractor"))
