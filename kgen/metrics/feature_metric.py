import os

import keras

from kgen.metrics import image_features
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_range
from kgen.utils.recorded_config import RecordedConfig


class FeatureMetric(RecordedConfig, keras.metrics.Metric):
    """Base of metrics that compare real and generated images by features.

    Features come from the FID-Inception network (pool3, 2048-d) unless a
    `feature_extractor` is given (e.g. a domain classifier's penultimate
    layer, for a fast "domain FID"). The network runs outside any compiled
    step and its statistics are accumulated in float64 NumPy: FID is a
    difference of large, nearly equal traces, and float32 accumulation (or
    JAX's default 32-bit mode) would visibly change it. So these metrics are
    used eagerly: directly, from `kgen.callbacks.MetricCallback`, or from
    the command line, not inside `train_step`.

    `update_state(real_images, generated_images)` streams batches; either
    side may be `None`. `set_reference(images)` fixes the real side once
    (it survives `reset_state()`), so a callback can compare fresh samples
    against one precomputed reference every epoch.

    Args:
        feature_extractor: `keras.Model` with one input of images, or
            `None` for FID-Inception. A custom extractor receives images
            in [0, 1], resized to its input size.
        value_range: `(low, high)` of the images given to the metric.
        batch_size: int. Images per forward pass.
        weights_path: str or `None`. FID-Inception weights file (see
            `kgen.metrics.fid_inception.find_weights`).
        name: str.
    """

    def __init__(
        self,
        feature_extractor=None,
        value_range=(0.0, 1.0),
        batch_size=50,
        weights_path=None,
        name=None,
        dtype=None,
    ):
        super().__init__(name=name, dtype=dtype)
        if feature_extractor is not None:
            image_features.network_input_shape(
                feature_extractor, "feature_extractor"
            )
        self.feature_extractor = feature_extractor
        self.value_range = validate_range(value_range, "value_range")
        self.batch_size = validate_int(batch_size, "batch_size")
        self.weights_path = weights_path
        self._inception = None
        self._reference = None
        self.reset_state()

    # === Subclass interface ===

    def _new_accumulator(self):
        raise NotImplementedError

    # === Features ===

    def features(self, images, argument="images"):
        """Float64 features `(n, d)` of `images`."""
        images = image_features.validate_images(
            images, self.value_range, argument
        )
        if self.feature_extractor is None:
            if self._inception is None:
                self._inception = shared_fid_inception(self.weights_path)
            model = self._inception

            def preprocess(batch):
                return image_features.to_inception_input(
                    batch, self.value_range
                )
        else:
            model = self.feature_extractor
            input_shape = image_features.network_input_shape(
                model, "feature_extractor"
            )
            image_features.check_channels(
                images, input_shape[-1], argument, "feature_extractor"
            )

            def preprocess(batch):
                return image_features.to_unit_input(
                    batch, self.value_range, input_shape
                )

        return image_features.extract(
            model, images, preprocess, self.batch_size
        )

    # === State ===

    def update_state(
        self, real_images=None, generated_images=None, sample_weight=None
    ):
        if sample_weight is not None:
            raise ValueError(f"{type(self).__name__} takes no sample_weight.")
        if real_images is not None:
            self._real.add(self.features(real_images, "real_images"))
        if generated_images is not None:
            self._generated.add(
                self.features(generated_images, "generated_images")
            )

    def reset_state(self):
        self._real = self._new_accumulator()
        self._generated = self._new_accumulator()

    def set_reference(self, images):
        """Fixes the real side to `images` (kept across `reset_state`)."""
        reference = self._new_accumulator()
        reference.add(self.features(images, "images"))
        self._reference = reference

    def _real_side(self):
        return self._reference if self._reference is not None else self._real

    def _check_count(self, side, count, minimum, reason):
        """Refuses a result from fewer than `minimum` images of `side`
        ("real" or "generated"); `reason` says why they are needed."""
        if count < minimum:
            raise ValueError(
                f"{type(self).__name__} needs at least {minimum} {side} "
                f"images ({reason}); it has {count}. Pass more as "
                f"`{side}_images` to `update_state`."
            )


# The FID-Inception networks built in this process, by weights file.
_FID_INCEPTION = {}


def shared_fid_inception(weights_path=None):
    """FID-Inception with the weights at `weights_path`, built once per
    process: its 23.8 M weights take most of a minute to build, load and
    trace on a CPU, and the frozen network holds no state, so every
    metric of a process can share one (scoring many models, or a metric
    made per call, as `fid_of_images` makes one)."""
    from kgen.metrics.fid_inception import fid_inception_v3
    from kgen.metrics.fid_inception_weights import find_weights

    path = os.fspath(find_weights(weights_path))
    if path not in _FID_INCEPTION:
        _FID_INCEPTION[path] = fid_inception_v3(path)
    return _FID_INCEPTION[path]
