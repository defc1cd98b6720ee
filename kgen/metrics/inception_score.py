import keras
import numpy as np

from kgen.metrics import image_features
from kgen.utils.argument_validation import validate_bool
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_range
from kgen.utils.data_validation import validate_finite
from kgen.utils.recorded_config import RecordedConfig


@keras.saving.register_keras_serializable(package="kgen")
class InceptionScore(RecordedConfig, keras.metrics.Metric):
    """Inception Score over any classifier of the images' domain.

    ```
    IS = exp(E_x[KL(p(y|x) || p(y))]),   p(y) = E_x[p(y|x)]
    ```

    averaged over `num_splits` splits of the samples, as in Salimans et al.
    The splits are consecutive runs of the samples given: give them in a
    random order (real examples sorted by class score 1 in every split).
    It is high when each sample is classified confidently (fidelity) and
    the classes are used evenly (diversity); its maximum is the number of
    classes. The FID-Inception network has no classifier head, so a
    classifier is required: `kgen.presets.load_preset("digits_classifier")`
    gives a domain IS for 8x8 digits (label such numbers as such).

    Args:
        classifier: `keras.Model` from images in [0, 1] (resized to its
            input) to class probabilities (or logits with `from_logits`),
            or from audio clips `(steps, channels)` in [-1, 1] (of its
            input's length), e.g. the `spoken_digits_classifier` preset
            for an audio model's IS.
        num_splits: int.
        from_logits: bool.
        value_range: `(low, high)` of the images given to the metric.
        batch_size: int.

    References:
        1. Salimans et al. Improved Techniques for Training GANs. 2016.
           arXiv:1606.03498.
    """

    def __init__(
        self,
        classifier,
        num_splits=10,
        from_logits=False,
        value_range=(0.0, 1.0),
        batch_size=256,
        name="inception_score",
        dtype=None,
    ):
        super().__init__(name=name, dtype=dtype)
        if classifier is None:
            raise ValueError(
                "InceptionScore needs a `classifier` (FID-Inception has no "
                "classifier head), e.g. "
                "kgen.presets.load_preset('digits_classifier')."
            )
        _classifier_input_shape(classifier)
        self.classifier = classifier
        self.num_splits = validate_int(num_splits, "num_splits")
        self.from_logits = validate_bool(from_logits, "from_logits")
        self.value_range = validate_range(value_range, "value_range")
        self.batch_size = validate_int(batch_size, "batch_size")
        self.reset_state()

    def update_state(self, generated_images, sample_weight=None):
        input_shape = _classifier_input_shape(self.classifier)
        if len(input_shape) == 2:
            outputs = self._audio_outputs(generated_images, input_shape)
        else:
            outputs = self._image_outputs(generated_images, input_shape)
        if self.from_logits:
            outputs = np.exp(outputs - outputs.max(axis=1, keepdims=True))
            outputs /= outputs.sum(axis=1, keepdims=True)
        else:
            _check_probabilities(
                outputs,
                "the `classifier`'s outputs",
                " If it gives logits, pass `from_logits=True`.",
            )
        self._probabilities.append(outputs)

    def reset_state(self):
        self._probabilities = []

    def _image_outputs(self, generated_images, input_shape):
        images = image_features.validate_images(
            generated_images, self.value_range, "generated_images"
        )
        image_features.check_channels(
            images, input_shape[-1], "generated_images", "classifier"
        )
        return image_features.extract(
            self.classifier,
            images,
            lambda batch: image_features.to_unit_input(
                batch, self.value_range, input_shape
            ),
            self.batch_size,
        )

    def _audio_outputs(self, generated_clips, input_shape):
        clips = np.asarray(keras.ops.convert_to_numpy(generated_clips))
        if clips.ndim == 2:
            clips = clips[..., None]
        if clips.shape[1:] != tuple(input_shape):
            raise ValueError(
                "`generated_images` must be clips shaped as the "
                f"`classifier`'s input, (n, {input_shape[0]}, "
                f"{input_shape[1]}); received shape {clips.shape}."
            )
        clips = validate_finite(
            clips, (None,) + tuple(input_shape), "generated_images"
        ).astype("float32")
        low, high = self.value_range
        if clips.size and (clips.min() < low or clips.max() > high):
            raise ValueError(
                "`generated_images` values must lie in the declared "
                f"value_range [{low}, {high}]; received [{clips.min():g}, "
                f"{clips.max():g}]."
            )
        return image_features.extract(
            self.classifier,
            clips,
            # Audio classifiers take clips in [-1, 1].
            lambda batch: (batch - low) * (2.0 / (high - low)) - 1.0,
            self.batch_size,
        )

    def split_scores(self):
        """The score of each split (float64 array)."""
        count = sum(len(p) for p in self._probabilities)
        if count < self.num_splits:
            raise ValueError(
                f"Inception Score with `num_splits` = {self.num_splits} "
                f"needs at least {self.num_splits} images; it has {count}. "
                "Pass more as `generated_images` to `update_state`."
            )
        probabilities = np.concatenate(self._probabilities)
        return np.array(
            [
                inception_score(split)
                for split in np.array_split(probabilities, self.num_splits)
            ]
        )

    def result(self):
        return float(self.split_scores().mean())


def _classifier_input_shape(classifier):
    """`(height, width, channels)` of an image classifier's input or
    `(steps, channels)` of an audio classifier's; a `ValueError` for any
    other network."""
    inputs = getattr(classifier, "inputs", None)
    if (
        isinstance(classifier, keras.Model)
        and inputs
        and len(inputs) == 1
        and len(inputs[0].shape) == 3
    ):
        return tuple(inputs[0].shape[1:])
    return image_features.network_input_shape(classifier, "classifier")


def inception_score(probabilities):
    """`exp(mean_x KL(p(y|x) || p(y)))` of a `(n, classes)` matrix whose
    rows are probabilities."""
    p = validate_finite(probabilities, (None, None), "probabilities")
    if not p.size:
        raise ValueError(
            f"`probabilities` holds no values; received shape {p.shape}."
        )
    _check_probabilities(p, "`probabilities`")
    marginal = p.mean(axis=0, keepdims=True)
    # 0 log 0 = 0: classes a sample never uses contribute nothing.
    terms = np.where(
        p > 0,
        p
        * (
            np.log(np.where(p > 0, p, 1.0))
            - np.log(np.where(marginal > 0, marginal, 1.0))
        ),
        0.0,
    )
    return float(np.exp(terms.sum(axis=1).mean()))


def _check_probabilities(p, what, hint=""):
    """Refuses a matrix `p` whose rows are not probabilities: non-negative
    and summing to 1 (up to the rounding of a mixed-precision softmax)."""
    sums = p.sum(axis=1)
    if (p < 0).any() or not np.allclose(sums, 1.0, rtol=0.0, atol=1e-2):
        raise ValueError(
            f"The rows of {what} must be probabilities (non-negative, "
            f"summing to 1); received values in [{p.min():g}, {p.max():g}] "
            f"and row sums in [{sums.min():g}, {sums.max():g}].{hint}"
        )
