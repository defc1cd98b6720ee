"""The one sampling pipeline of the denoising families: a frozen plan of
a run and the draw that every family makes from it with its own
solve."""

import dataclasses

import keras
import numpy as np
from keras import ops

from kgen import backend
from kgen.models import public_inputs
from kgen.models.diffusion.guidance import Guidance


@dataclasses.dataclass(frozen=True)
class SamplingPlan:
    """What a sampling run of a denoising model is, fixed before it
    starts, as diffusers' pipelines fix theirs in `__call__`'s first
    steps.

    Attributes:
        scheduler: the solver: a `DiffusionScheduler` step rule, or a
            `FlowMatchScheduler` ODE solver.
        points: the noise levels it visits, in order: a diffusion
            scheduler's timesteps or a flow's sigmas.
        guidance: a `Guidance`, checked against the model.
        watermark: an optional key written into the start noise (its
            `embed`), read back by inverting a deterministic solver.
        after_step: an optional `(sample, timestep) -> sample` applied
            after each step (inpainting's known pixels).
    """

    scheduler: object
    points: np.ndarray = dataclasses.field(compare=False)
    guidance: Guidance = Guidance()
    watermark: object = dataclasses.field(default=None, compare=False)
    after_step: object = dataclasses.field(default=None, compare=False)

    def __post_init__(self):
        if self.watermark is not None and getattr(
            self.scheduler, "stochastic", False
        ):
            raise ValueError(
                "A `watermark` in the start noise is read back by inverting "
                "a deterministic sampler: sample with scheduler='ddim' (or "
                f"another deterministic rule); received {self.scheduler}."
            )

    @property
    def key(self):
        """The compile-cache key of this run's program, or `None` when it
        must be traced anew (a guide's or classifier's weights, an
        inpainting step's known pixels are not the program's
        arguments)."""
        if self.guidance.key is None or self.after_step is not None:
            return None
        return (
            repr(self.scheduler),
            tuple(np.asarray(self.points).tolist()),
            self.guidance.key,
        )

    def start_noise(self, model, num_samples, seed):
        """Standard normal noise of `model`'s sample shape, with the
        watermark written into it."""
        noise = keras.random.normal(
            (num_samples,) + tuple(model.sample_shape), seed=seed
        )
        if self.watermark is not None:
            noise = self.watermark.embed(noise)
        return noise

    def sample(self, model, solve, num_samples, seed, labels):
        """What a family's `sample` does once its plan is made:

        1. the seed source of `seed` (`public_inputs.seed_source`);
        2. the class labels, drawn from it when `labels` is `None`;
        3. the start noise, with the watermark written into it;
        4. `draw` from it with `solve(model, plan, noise, labels)`.
        """
        seed = public_inputs.seed_source(model, seed)
        labels = public_inputs.sample_labels(model, labels, num_samples, seed)
        noise = self.start_noise(model, num_samples, seed)
        return self.draw(model, solve, noise, labels)

    def draw(self, model, solve, *inputs):
        """`solve(model, self, *inputs)` run without gradients, compiled
        once per `key` (`backend.inference_program`), its samples clipped
        to `model.sample_range` (as diffusers' pipelines return them:
        few-step solvers do not clip on the way).

        `solve` is the family's own loop (a reverse diffusion over a
        guided denoiser, an ODE solve over a guided velocity), a
        module-level function so that its name keys the program."""

        def program(model, *inputs):
            sample = solve(model, self, *inputs)
            if model.sample_range is not None:
                sample = ops.clip(sample, *model.sample_range)
            return sample

        key = self.key
        with backend.no_grad():
            if key is None:
                return program(model, *inputs)
            key = (solve.__module__, solve.__name__) + key
            return backend.inference_program(model, key, program, *inputs)
