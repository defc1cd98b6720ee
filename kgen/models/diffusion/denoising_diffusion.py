import keras
from keras import ops

from kgen import backend
from kgen import schedulers
from kgen.models import training_steps
from kgen.models.conditioning import Conditioning
from kgen.models.diffusion import diffusion_sampling
from kgen.models.diffusion.denoiser_model import DenoiserModel
from kgen.models.diffusion.diffusion_sampling import DiffusionSampling
from kgen.models.diffusion.guidance import Guidance
from kgen.utils import batch_random
from kgen.utils.argument_validation import validate_network_inputs
from kgen.utils.argument_validation import validate_optional_int
from kgen.utils.argument_validation import validate_probability
from kgen.utils.mixed_precision import to_float32


class DenoisingDiffusion(DiffusionSampling, DenoiserModel):
    """What every denoising diffusion family shares: the networks and
    schedule, the noise-prediction loss, `sample`, `invert` and the
    exported endpoints. `DiffusionModel` documents them; it and its kin
    (`LatentDiffusion`, `CascadedDiffusion`, `TextToImage`) add the
    capabilities that work for them (`Inpainting`, `VariationalBound`)."""

    capabilities = ("sample", "invert")

    conditioning = Conditioning(labels=True)
    # The denoiser's third input, after `x_t` and `timesteps`: the class
    # labels of a model with `num_classes` (none without).
    _denoiser_condition = "labels"
    # Whether samples are drawn as latents and decoded (`LatentDiffusion`:
    # `sample` and its arguments are `DiffusionModel`'s).
    diffuses_latents = False

    def __init__(
        self,
        denoiser,
        scheduler=None,
        prediction_type=None,
        num_classes=None,
        condition_dropout=0.1,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        if scheduler is None:
            scheduler = schedulers.DDPMScheduler()
        if not isinstance(scheduler, schedulers.DiffusionScheduler):
            raise ValueError(
                "`scheduler` must be a kgen.schedulers.DiffusionScheduler; "
                f"received {type(scheduler).__name__}."
            )
        if prediction_type is not None:
            scheduler = type(scheduler).from_config(
                dict(scheduler.get_config(), prediction_type=prediction_type)
            )
        num_classes = validate_optional_int(num_classes, "num_classes")
        condition_dropout = validate_probability(
            condition_dropout, "condition_dropout", exclusive_maximum=True
        )
        expected_inputs = ["x_t", "timesteps", self._denoiser_condition]
        if self._denoiser_condition == "labels" and num_classes is None:
            expected_inputs.pop()
        validate_network_inputs(denoiser, expected_inputs, "denoiser")
        self.denoiser = denoiser
        self.scheduler = scheduler
        self.prediction_type = prediction_type
        self.num_classes = num_classes
        self.condition_dropout = condition_dropout
        if denoiser.built:
            self.built = True

    # === Shapes and data ===

    @property
    def num_train_timesteps(self):
        return self.scheduler.num_train_timesteps

    # === Training ===

    def _unpack(self, inputs, training=False):
        """`(samples, labels, condition)` from what `fit` feeds `call`."""
        images, labels, _ = self.conditioning.split(inputs)
        if labels is not None:
            labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
        return images, labels, None

    def denoiser_inputs(self, noisy, timesteps, labels=None, condition=None):
        """The denoiser's input list; subclasses add conditions."""
        inputs = [noisy, timesteps]
        if self.num_classes is not None:
            inputs.append(labels)
        return inputs

    def denoise(self, noisy, timesteps, labels=None, condition=None):
        """The denoiser's output at `(x_t, t)`; `timesteps` may be one int
        for the whole batch."""
        noisy = ops.convert_to_tensor(noisy, "float32")
        timesteps = ops.convert_to_tensor(timesteps, "int32")
        if labels is not None:
            labels = ops.convert_to_tensor(labels, "int32")
        if condition is not None:
            condition = ops.convert_to_tensor(condition, "float32")
        if len(timesteps.shape) == 0:
            timesteps = ops.full((ops.shape(noisy)[0],), timesteps, "int32")
        if self.num_classes is not None and labels is None:
            labels = ops.full((ops.shape(noisy)[0],), self.num_classes, "int32")
        return to_float32(
            backend.inference_call(
                self.denoiser,
                self.denoiser_inputs(noisy, timesteps, labels, condition),
            )
        )

    def call(self, inputs, training=False):
        """One training draw: `{"prediction", "target"}` for a batch."""
        images, labels, condition = self._unpack(inputs, training)
        batch = ops.shape(images)[0]
        timesteps = batch_random.randint(
            (batch,), 0, self.num_train_timesteps, self.seed_generator
        )
        timesteps = ops.cast(timesteps, "int32")
        noise = batch_random.normal(ops.shape(images), self.seed_generator)
        noisy = self.scheduler.add_noise(images, noise, timesteps)
        if labels is not None:
            labels = training_steps.drop_labels(
                self, labels, self.condition_dropout, training
            )
        prediction = to_float32(
            backend.call_network(
                self.denoiser,
                self.denoiser_inputs(noisy, timesteps, labels, condition),
                training,
            )
        )
        target = self.scheduler.training_target(images, noise, timesteps)
        return {"prediction": prediction, "target": target}

    # === Export ===

    def serving_endpoints(self, scheduler="ddim", num_steps=50):
        """`sample` (noise -> samples by a deterministic DDIM run of
        `num_steps`, at most `T`) and `denoise_step` (`x_t, t -> ` the
        denoiser's output)."""
        plan = diffusion_sampling.sampling_plan(
            self,
            scheduler,
            min(num_steps, self.num_train_timesteps),
            Guidance(),
        )
        shape = (None,) + self.sample_shape
        noise = keras.InputSpec(shape=shape, dtype="float32")
        steps = keras.InputSpec(shape=(None,), dtype="int32")
        labels = keras.InputSpec(shape=(None,), dtype="int32")
        conditional = self.num_classes is not None

        def sample(noise, labels=None):
            return plan.draw(
                self, diffusion_sampling.reverse_diffusion, noise, labels
            )

        def denoise_step(noisy, timesteps, labels=None):
            return self.denoise(noisy, timesteps, labels)

        if conditional:
            return {
                "sample": (sample, [noise, labels]),
                "denoise_step": (denoise_step, [noise, steps, labels]),
            }
        return {
            "sample": (sample, [noise]),
            "denoise_step": (denoise_step, [noise, steps]),
        }
