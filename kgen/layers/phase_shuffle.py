import keras
from keras import ops

from kgen.utils import batch_random
from kgen.utils.argument_validation import validate_int
from kgen.utils.recorded_config import RecordedConfig


@keras.saving.register_keras_serializable(package="kgen")
class PhaseShuffle(RecordedConfig, keras.layers.Layer):
    """Shifts each example's sequence by a random whole number of steps in
    `[-radius, radius]`, filling the gap by reflection: WaveGAN's phase
    shuffle (Donahue et al., 2019, section 3.3).

    ```
    y[t] = x_reflected[t - k],   k ~ U{-radius, ..., radius} per example
    ```

    The transposed convolutions of an audio generator leave periodic
    artefacts at fixed phases, and a discriminator could reject fakes on
    phase alone; jittering the phase of its activations takes that cue
    away. Training only: at inference the layer is the identity.

    Written as a weighted sum of the `2 * radius + 1` shifted slices rather
    than a per-example gather, so it is one static graph with the same
    gradient on every backend (torch's `gather` does not broadcast over
    channels as NumPy's `take_along_axis` does). The shifts come from the
    layer's `SeedGenerator` through `kgen.utils.batch_random`, so a resumed
    or data-parallel run draws what one device would.

    Args:
        radius: int >= 0. The largest shift; the paper's n = 2. 0 makes
            the layer the identity.
        seed: int or `None`. Seed of the layer's shifts.

    Input and output shape: `(batch, steps, channels)`, `steps > radius`.
    """

    def __init__(self, radius=2, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.radius = validate_int(radius, "radius", minimum=0)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                "`PhaseShuffle` takes `(batch, steps, channels)` inputs; "
                f"received shape {tuple(input_shape)}."
            )
        steps = input_shape[1]
        if steps is not None and steps <= self.radius:
            raise ValueError(
                f"`radius` ({self.radius}) must be smaller than the inputs' "
                f"steps ({steps}): reflection needs that many steps."
            )

    def call(self, inputs, training=False):
        if not training or self.radius == 0:
            return inputs
        radius = self.radius
        steps = inputs.shape[1]
        padded = ops.pad(
            inputs, ((0, 0), (radius, radius), (0, 0)), mode="reflect"
        )
        shifts = batch_random.randint(
            (ops.shape(inputs)[0],), -radius, radius + 1, self.seed_generator
        )
        outputs = ops.zeros_like(inputs)
        for shift in range(-radius, radius + 1):
            chosen = ops.cast(ops.equal(shifts, shift), inputs.dtype)
            # A shift of k reads the padded sequence from radius - k.
            start = radius - shift
            window = padded[:, start : start + steps, :]
            outputs = outputs + chosen[:, None, None] * window
        return outputs

    def compute_output_shape(self, input_shape):
        return input_shape
