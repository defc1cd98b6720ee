import keras
import numpy as np

from kgen.utils import batch_random
from kgen.utils import seeds
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int
from kgen.utils.data_validation import host_array
from kgen.utils.data_validation import is_host_array
from kgen.utils.data_validation import validate_input
from kgen.utils.data_validation import validate_labels
from kgen.utils.data_validation import validate_levels


class PublicInputs:
    """The checks and seed rule of a model's public methods (a mixin of
    `GenerativeModel`): `sample`'s count, seeds and labels, and the
    examples, codes and labels that `encode`, `decode`, `log_prob` and
    their kin take, each checked as `fit` checks its data."""

    def _seed_generator(self, seed):
        """The source of a method's draws for its `seed=` argument: the
        model's own generator for `None`, else `kgen.utils.seeds`' rule."""
        return seeds.seed_generator(seed, default=self.seed_generator)

    def _loop_seed(self, seed):
        """A `(2,)` int32 seed drawn from `seed`, for the stateless draws
        inside an `ops.fori_loop` body."""
        return seeds.loop_seed(seed)

    def _sample_labels(self, labels, num_samples, seed):
        """Class ids for `sample` of a class-conditional model: `None`
        draws them uniformly with `seed`, an int gives every sample that
        class, else one id per sample (checked). An unconditional model
        returns `None` and refuses labels."""
        if not self.is_class_conditional:
            self._refuse_labels(labels)
            return None
        if labels is None:
            return batch_random.randint(
                (num_samples,), 0, self.num_classes, seed
            )
        return keras.ops.convert_to_tensor(
            validate_labels(labels, num_samples, self.num_classes)
        )

    def _check_guidance_scale(self, guidance_scale):
        """`guidance_scale` as a float; a nonzero one needs a
        class-conditional model (trained with label dropout)."""
        guidance_scale = validate_float(guidance_scale, "guidance_scale")
        if guidance_scale and self.num_classes is None:
            raise ValueError(
                "Classifier-free guidance (`guidance_scale` != 0) needs a "
                "class-conditional model: build it with `num_classes` and "
                "train it with `condition_dropout` > 0."
            )
        return guidance_scale

    def _refuse_labels(self, labels):
        """Raises if an unconditional model is given `labels`."""
        if labels is not None:
            raise ValueError(
                f"`labels` were given, but this {type(self).__name__} "
                "is unconditional (`num_classes=None`)."
            )

    def _check_examples(self, x, argument="x"):
        """Checks examples given to a public method (`encode`, `log_prob`,
        `elbo`...) as `fit` checks its data, family checks included (a
        PixelCNN's levels, an RBM's binary units); a backend tensor by
        its dtype and shape only (`validate_input` says why).

        Returns:
            `x`, as NumPy if it was host data.
        """
        if not is_host_array(x):
            return validate_input(x, self.data_shape, argument)
        x = host_array(x, argument)
        validate_input(x, self.data_shape, argument)
        self._validate_data(x, argument)
        return x

    def _check_codes(self, codes, shape, argument, num_levels=None):
        """Checks what `decode` (or a generator) takes: latent vectors of
        one example's `shape`, or code indices in `[0, num_levels)`.

        Returns:
            `codes`, as NumPy if it was host data.
        """
        codes = validate_input(codes, shape, argument)
        if num_levels is not None and isinstance(codes, np.ndarray):
            validate_levels(codes, num_levels, argument, "the codes of encode")
        return codes

    def _check_labels(self, labels, x, argument="labels"):
        """Class ids for a public method of a class-conditional model: one
        per example of `x` (or one int for all); `None` for an
        unconditional one, which refuses them. A backend tensor passes
        unread."""
        if not self.is_class_conditional:
            self._refuse_labels(labels)
            return None
        if labels is None:
            raise ValueError(
                f"This {type(self).__name__} is class-conditional "
                f"(`num_classes={self.num_classes}`): pass `{argument}` "
                "(integer class ids)."
            )
        if not is_host_array(labels) and hasattr(labels, "shape"):
            return labels
        count = x.shape[0]
        if count is None:
            count = len(labels)
        return validate_labels(labels, count, self.num_classes, argument)

    def _check_condition_values(self, condition, count, argument="condition"):
        """Condition tensors given to a public method (`sample`,
        `log_prob`...) of a model with a `condition_shape`: host data
        checked as `fit` checks them (shape, finite values, one per
        example of `count`), a backend tensor by its shape alone.

        Returns:
            `condition` as a float32 tensor.
        """
        if is_host_array(condition):
            condition = self._validate_condition(condition, count, argument)
        else:
            validate_input(condition, self.condition_shape, argument)
        return keras.ops.convert_to_tensor(condition, "float32")

    def _check_num_samples(self, num_samples):
        return validate_int(num_samples, "num_samples")
