import keras
from keras import ops

from kgen.losses.perceptual import watson_dct_loss
from kgen.utils.argument_validation import validate_choice
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_range

IMAGE_LOSSES = ("mse", "watson_dct")


class BitKeyModel(keras.Model):
    """What `BitWatermark` and `StableSignature` share: an extractor of
    bit logits from images in `value_range`, and the loss that trains a
    key into images at a bounded change to them,

    ```
    L = mean_a BCE(logits_a, bits) + image_weight * d(x_w, x)
    ```

    with `d` the `image_loss`: `"mse"`, `mean |x_w - x|**2` (pixels in
    units of the range), or `"watson_dct"`, `kgen.losses.watson_dct_loss`
    (a change costs what it shows against `x`: least in bright, busy
    blocks, most in flat dark ones). Logged as `bit_accuracy` (of the
    first read-out, the plain image's) and `image_loss`.

    Args:
        extractor: `keras.Model`, images in [0, 1] -> `(batch, num_bits)`
            logits.
        image_weight: float >= 0.
        value_range: `(low, high)` of the images.
        image_loss: `"mse"` or `"watson_dct"`.
    """

    def __init__(
        self, extractor, image_weight, value_range, image_loss="mse", **kwargs
    ):
        super().__init__(**kwargs)
        self.extractor = extractor
        self.image_weight = validate_float(image_weight, "image_weight", 0.0)
        self.value_range = validate_range(value_range, "value_range")
        self.image_loss = validate_choice(
            image_loss, "image_loss", IMAGE_LOSSES
        )
        self.num_bits = int(extractor.output_shape[-1])
        self.image_shape = tuple(extractor.input_shape[1:])
        self.bit_accuracy_tracker = keras.metrics.Mean(name="bit_accuracy")
        self.image_tracker = keras.metrics.Mean(name="image_loss")

    @property
    def metrics(self):
        return super().metrics + [self.bit_accuracy_tracker, self.image_tracker]

    def _unit(self, images):
        low, high = self.value_range
        return (ops.convert_to_tensor(images, "float32") - low) / (high - low)

    def _key_loss(self, logits, bits, images, reference):
        """`logits` `(num_read_outs, batch, num_bits)`, `bits` broadcast
        to them; `images` and their `reference` in [0, 1]."""
        bits = ops.broadcast_to(bits, ops.shape(logits))
        bit_loss = ops.mean(
            ops.binary_crossentropy(bits, logits, from_logits=True)
        )
        if self.image_loss == "watson_dct":
            image_loss = ops.mean(watson_dct_loss(reference, images))
        else:
            image_loss = ops.mean(ops.square(images - reference))
        correct = ops.cast((logits[0] > 0) == (bits[0] > 0.5), "float32")
        self.bit_accuracy_tracker.update_state(ops.mean(correct))
        self.image_tracker.update_state(image_loss)
        return bit_loss + self.image_weight * image_loss

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "extractor": keras.saving.serialize_keras_object(
                    self.extractor
                ),
                "image_weight": self.image_weight,
                "value_range": self.value_range,
                "image_loss": self.image_loss,
            }
        )
        return config
