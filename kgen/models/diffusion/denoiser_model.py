from keras import ops

from kgen.models import training_steps
from kgen.models.generative_model import GenerativeModel


class DenoiserModel(GenerativeModel):
    """The base of the families built around one network that maps noisy
    samples back towards data (diffusion, flow matching, consistency and
    the average-velocity flows): what they sample is the network's first
    input, and `fit` takes data of that shape.

    Needs from the model: `denoiser`, the network (or `sample_shape`
    overridden where the network goes by another name), and a `call`
    that returns the network's `"prediction"` and its regression
    `"target"` for a batch."""

    @property
    def sample_shape(self):
        """Shape of one sample: the network's noisy input."""
        return tuple(self.denoiser.inputs[0].shape[1:])

    @property
    def data_shape(self):
        return self.sample_shape

    @property
    def sample_range(self):
        """`(low, high)` the samples live in, or `None`.

        Images live in `[-1, 1]`, where the samplers clip the predicted
        `x_0` and the final samples; vectors (2-D toys, latents) and
        every other rank are unbounded."""
        return (-1.0, 1.0) if len(self.sample_shape) == 3 else None

    @property
    def data_range(self):
        return self.sample_range

    # === Training ===

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        """The squared error of the network's prediction, the mean over
        each example's elements, averaged over the examples."""
        if y_pred is None:
            y_pred = self(x, training=training)
        return training_steps.mean_over_examples(
            squared_error(y_pred), sample_weight
        )


def squared_error(outputs):
    """`(batch,)` mean squared error of `outputs["prediction"]` against
    `outputs["target"]` over each example's elements."""
    axes = tuple(range(1, len(outputs["prediction"].shape)))
    return ops.mean(
        ops.square(outputs["prediction"] - outputs["target"]), axis=axes
    )
