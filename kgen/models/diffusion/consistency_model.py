import keras
from keras import ops

from kgen import backend
from kgen import lora
from kgen.models import public_inputs
from kgen.models import training_steps
from kgen.models.conditioning import Conditioning
from kgen.models.data_path import images_and_labels
from kgen.models.diffusion import consistency_training
from kgen.models.diffusion.consistency_training import SIGMA_MIN
from kgen.models.diffusion.consistency_training import karras_sigmas
from kgen.models.diffusion.consistency_training import sigma_to_time
from kgen.models.diffusion.denoiser_model import DenoiserModel
from kgen.models.diffusion.guidance import Guidance
from kgen.models.diffusion.guidance import classifier_free_guidance
from kgen.models.diffusion.sampling_plan import SamplingPlan
from kgen.schedulers import sampling_loop
from kgen.schedulers.consistency_scheduler import ConsistencyScheduler
from kgen.utils import batch_random
from kgen.utils.argument_validation import validate_choice
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_network_inputs
from kgen.utils.argument_validation import validate_optional_int
from kgen.utils.argument_validation import validate_probability
from kgen.utils.mixed_precision import to_float32


@keras.saving.register_keras_serializable(package="kgen")
class ConsistencyModel(DenoiserModel):
    """A consistency model on the straight path: one network call (or a
    few) from noise to data, distilled from a `FlowMatching` teacher or
    trained from data alone.

    Notation: the path of `FlowMatching`, `x_t = (1 - t) x_0 + t eps`,
    whose noise level in the variance-exploding view is `sigma = t / (1 -
    t)`. The consistency function maps any point of an ODE trajectory to
    its start, parametrized so that the boundary condition `f(x, t_min) =
    x` holds exactly:

    ```
    f(x_t, t) = x_t - (t - t_min) F_theta(x_t, t)
    ```

    `F` is a velocity, so a student copied from its teacher's network
    starts out as the teacher's one-step denoiser `x_t - t v`. Training
    pairs adjacent points `t_n < t_{n+1}` of a discretization (Karras'
    spacing of `sigma` from 0.002 to 80) and regresses

    ```
    loss = lambda_n d(f_theta(x_{t_{n+1}}, t_{n+1}), f_target(x_{t_n}, t_n))
    d(a, b) = sqrt(||a - b||**2 + c**2) - c        (pseudo-Huber)
    ```

    - Distillation (`teacher` given): `x_{t_n}` is one ODE step of the
      frozen teacher from `x_{t_{n+1}}` (`teacher_solver`, with the
      teacher's classifier-free guidance `teacher_guidance_scale`), `n`
      uniform over `num_discretization_steps` points, `lambda = 1`, and
      the target network an EMA of the student (`target_ema`).
    - Training (`teacher=None`, the improved recipe of Song & Dhariwal
      2024): `x_{t_n}` shares `x_{t_{n+1}}`'s data and noise, the target
      is the student itself without gradient, the discretization doubles
      from 10 to 1280 steps over `total_training_steps` (a curriculum),
      `n` is drawn by a lognormal density over `sigma`, and `lambda_n =
      1 / (sigma_{n+1} - sigma_n)`.

    `c = 0.00054 sqrt(d)` for `d` dimensions. `sample` takes one step
    (`num_steps=1`) or alternates denoising and re-noising on a Karras
    grid of `num_steps` levels.

    Args:
        network: `keras.Model` `[x_t, timesteps(, labels)] -> F` like a
            `FlowMatching` denoiser (float timesteps: `t` scaled as the
            teacher scales sigma, `t * 1000` without one).
        teacher: a trained `kgen.models.FlowMatching` to distill, or
            `None` to train from data.
        num_discretization_steps: int >= 2. Points of the distillation's
            discretization (ignored without a teacher).
        target_ema: float in `[0, 1)`. EMA rate of the distillation's
            target network; `0` uses the student itself.
        teacher_solver: str. `"euler"` or `"heun"`.
        teacher_guidance_scale: float. The teacher's guidance `w`.
        total_training_steps: int. Length of consistency training's
            curriculum, in optimizer steps.
        num_classes: int or `None`. Class-conditional (like the teacher).
        condition_dropout: float in `[0, 1)`. Label dropout (training from
            data only; a distilled student copies its guided teacher).
        seed: int or `None`.

    Example:

    ```python
    student = keras.models.clone_model(teacher.denoiser)
    student.set_weights(teacher.denoiser.get_weights())
    model = kgen.models.ConsistencyModel(student, teacher=teacher, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-4))
    model.fit(x, epochs=1)
    images = model.sample(16, num_steps=1, seed=1)
    ```

    References:
        1. Song et al. Consistency Models. 2023. arXiv:2303.01469.
        2. Song & Dhariwal. Improved Techniques for Training Consistency
           Models. 2024. arXiv:2310.14189.
    """

    conditioning = Conditioning(labels=True)
    # The EMA target follows the network: `kgen.lora.enable_lora` gives
    # it the network's adapters.
    network_followers = {"target_network": "network"}
    # The step `fit` counts: state, not weights (an adapter's base digest
    # leaves it out).
    training_state = ("training_step",)

    def __init__(
        self,
        network,
        teacher=None,
        num_discretization_steps=18,
        target_ema=0.95,
        teacher_solver="heun",
        teacher_guidance_scale=0.0,
        total_training_steps=10000,
        num_classes=None,
        condition_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        from kgen.models.diffusion.flow_matching import FlowMatching

        num_classes = validate_optional_int(num_classes, "num_classes")
        if teacher is not None:
            if not isinstance(teacher, FlowMatching):
                raise ValueError(
                    "`teacher` must be a trained kgen.models.FlowMatching "
                    f"(or None to train from data); received "
                    f"{type(teacher).__name__}."
                )
            if teacher.num_classes != num_classes:
                raise ValueError(
                    f"`num_classes` ({num_classes}) must be the teacher's "
                    f"({teacher.num_classes})."
                )
            # A frozen copy: no optimizer state of the teacher's travels
            # with the student's checkpoints, and the caller's model is
            # left as it was.
            frozen = FlowMatching.from_config(teacher.get_config())
            # A teacher rebuilt inside `backend.build_then_load` has no
            # values yet; its weights come with the student's.
            if backend.has_values(teacher.denoiser.variables):
                frozen.denoiser.set_weights(teacher.denoiser.get_weights())
            consistency_training.freeze(frozen)
            teacher = frozen
        validate_network_inputs(
            network,
            ["x_t", "timesteps"] + ["labels"] * (num_classes is not None),
            "network",
        )
        validate_choice(teacher_solver, "teacher_solver", ("euler", "heun"))
        self.network = network
        self.teacher = teacher
        self.num_discretization_steps = validate_int(
            num_discretization_steps, "num_discretization_steps", minimum=2
        )
        self.target_ema = validate_probability(
            target_ema, "target_ema", exclusive_maximum=True
        )
        self.teacher_solver = teacher_solver
        self.teacher_guidance_scale = validate_float(
            teacher_guidance_scale, "teacher_guidance_scale"
        )
        self.total_training_steps = validate_int(
            total_training_steps, "total_training_steps"
        )
        self.num_classes = num_classes
        self.condition_dropout = validate_probability(
            condition_dropout, "condition_dropout", exclusive_maximum=True
        )
        # The network's timestep input is `t` scaled as its teacher's (so a
        # student copied from the teacher's network starts where it is).
        self._timestep_scale = float(
            1000 if teacher is None else teacher.scheduler.num_train_timesteps
        )
        # === State ===
        self.target_network = None
        if teacher is not None and self.target_ema > 0:
            # Keras' optimizer EMA averages for the end of `fit`; the
            # target must be read at every step, so it is a network of
            # its own, updated in `call` like batch statistics.
            self.target_network = keras.models.clone_model(network)
            if backend.has_values(network.variables):
                self.target_network.set_weights(network.get_weights())
            consistency_training.freeze(self.target_network)
        self.training_step = self.add_weight(
            shape=(),
            initializer="zeros",
            dtype="float32",
            trainable=False,
            name="training_step",
        )
        if network.built:
            self.built = True

    # === Shapes ===

    @property
    def sample_shape(self):
        # The network is `network`: a consistency function, not a
        # denoiser.
        return tuple(self.network.inputs[0].shape[1:])

    # === The consistency function ===

    def consistency(self, x, times, labels=None, network=None, training=False):
        """`f(x_t, t) = x_t - (t - t_min) F(x_t, t)`, per example."""
        network = network or self.network
        x = ops.convert_to_tensor(x, "float32")
        batch = ops.shape(x)[0]
        times = ops.convert_to_tensor(times, "float32")
        if len(times.shape) == 0:
            times = ops.full((batch,), times, "float32")
        inputs = [x, times * self._timestep_scale]
        if self.num_classes is not None:
            if labels is None:
                labels = ops.full((batch,), self.num_classes, "int32")
            inputs.append(ops.cast(labels, "int32"))
        velocity = to_float32(backend.call_network(network, inputs, training))
        skip = times - sigma_to_time(SIGMA_MIN)
        return x - ops.reshape(skip, (-1,) + (1,) * (len(x.shape) - 1)) * (
            velocity
        )

    # === Training ===

    def call(self, inputs, training=False):
        """One training draw: `{"prediction", "target", "weight"}`."""
        inputs, labels = images_and_labels(inputs)
        x0 = ops.convert_to_tensor(inputs, "float32")
        batch = ops.shape(x0)[0]
        if labels is not None:
            # A distilled student copies its guided teacher: no dropout.
            rate = self.condition_dropout if self.teacher is None else 0.0
            labels = training_steps.drop_labels(self, labels, rate, training)
        # 1. Adjacent points t_n < t_{n+1} of the discretization.
        num_points = consistency_training.num_points(self)
        index = consistency_training.draw_indices(self, batch, num_points)
        sigmas = karras_sigmas(num_points)
        sigma, sigma_next = ops.take(sigmas, index), ops.take(sigmas, index + 1)
        time, time_next = sigma_to_time(sigma), sigma_to_time(sigma_next)
        # 2. x_{t_{n+1}} on the path, and x_{t_n}: the teacher's ODE step,
        #    or the same data and noise at t_n.
        noise = batch_random.normal(ops.shape(x0), self.seed_generator)
        shape = (-1,) + (1,) * (len(x0.shape) - 1)

        def on_path(t):
            t = ops.reshape(t, shape)
            return (1.0 - t) * x0 + t * noise

        noisy_next = on_path(time_next)
        if self.teacher is not None:
            noisy = ops.stop_gradient(
                consistency_training.teacher_step(
                    self, noisy_next, time_next, time, labels
                )
            )
        else:
            noisy = on_path(time)
        # 3. The student at t_{n+1}; the target at t_n, without gradient.
        prediction = self.consistency(
            noisy_next, time_next, labels, training=training
        )
        target_network = self.target_network or self.network
        target = ops.stop_gradient(
            self.consistency(noisy, time, labels, target_network)
        )
        weight = ops.ones((batch,), "float32")
        if self.teacher is None:
            weight = 1.0 / (sigma_next - sigma)
        if training:
            self._update_state()
        return {"prediction": prediction, "target": target, "weight": weight}

    def _update_state(self):
        self.training_step.assign(self.training_step + 1.0)
        if self.target_network is None:
            return
        rate = self.target_ema
        targets, onlines = self.target_network.weights, self.network.weights
        if len(targets) != len(onlines):
            raise ValueError(
                f"The EMA target has {len(targets)} weights and the network "
                f"{len(onlines)}: adapt the model "
                "(`kgen.lora.enable_lora(model)`), which gives the target "
                "the network's adapters, not the network alone."
            )
        pairs = list(zip(targets, onlines))
        if any(lora.is_adapter(online) for online in onlines):
            # Under LoRA the base is frozen and stays as it is in both (an
            # adapter names it); the target averages what trains, the
            # adapters (`kgen.lora.enable_lora` gave it the same ones).
            pairs = [
                (target, online)
                for target, online in pairs
                if online.trainable or lora.is_adapter(online)
            ]
        for target, online in pairs:
            target.assign(rate * target + (1.0 - rate) * online)

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        if y_pred is None:
            y_pred = self(x, training=training)
        distance = consistency_training.pseudo_huber(
            y_pred["prediction"], y_pred["target"]
        )
        return training_steps.mean_over_examples(
            y_pred["weight"] * distance, sample_weight
        )

    # === Sampling ===

    def sample_times(self, num_steps):
        """The `num_steps` descending times a sample visits: `t_max`,
        then the first `num_steps - 1` interior points of a Karras grid
        of `num_steps + 1` noise levels."""
        num_steps = validate_int(num_steps, "num_steps")
        sigmas = keras.ops.convert_to_numpy(karras_sigmas(num_steps + 1))
        sigmas = sigmas[: num_steps + 1][::-1][:num_steps]
        return (sigmas / (1.0 + sigmas)).astype("float32")

    def sample(
        self,
        num_samples,
        *,
        seed=None,
        labels=None,
        num_steps=1,
        guidance_scale=0.0,
        guidance_interval=None,
    ):
        """Draws samples in `num_steps` consistency steps
        (`kgen.schedulers.ConsistencyScheduler`):

        ```
        x_0 = f(t_max eps, t_max)
        for t in sample_times(num_steps)[1:]:
            x_0 = f((1 - t) x_0 + t z, t)
        ```

        Args:
            num_samples: int.
            seed: `None`, an int or a `keras.random.SeedGenerator`.
            labels: int or int array of class ids (conditional models;
                drawn uniformly when omitted).
            num_steps: int >= 1. Network calls (twice the rows under
                guidance).
            guidance_scale: float `w` of classifier-free guidance on the
                consistency function, `(1 + w) f(x_t | c) - w f(x_t)`
                (0 = none): a model trained from data with
                `condition_dropout` > 0. A distilled model carries its
                teacher's guidance (`teacher_guidance_scale`) instead:
                its "no class" output was never trained.
            guidance_interval: `(low, high)` in [0, 1], or `None`: guide
                only the steps whose time `t` lies in it.

        Returns:
            Samples of shape `(num_samples,) + sample_shape`.
        """
        public_inputs.check_num_samples(num_samples)
        times = self.sample_times(num_steps)
        guidance = Guidance(guidance_scale, guidance_interval)
        guidance = guidance.for_model(self)
        if guidance.scale and (
            self.teacher is not None or not self.condition_dropout
        ):
            raise ValueError(
                "`guidance_scale` needs a consistency model trained from "
                "data with `condition_dropout` > 0 (its 'no class' output); "
                "a distilled one takes its teacher's guidance at training "
                "(`teacher_guidance_scale`)."
            )
        plan = SamplingPlan(
            ConsistencyScheduler(sample_range=self.sample_range),
            times,
            guidance,
        )
        seed = public_inputs.seed_source(self, seed)
        labels = public_inputs.sample_labels(self, labels, num_samples, seed)
        shape = (num_samples,) + self.sample_shape
        noise = ops.stack(
            [keras.random.normal(shape, seed=seed) for _ in times]
        )
        return plan.draw(self, multistep, noise, labels)

    # === Export ===

    def serving_endpoints(self, num_steps=1):
        """`sample`: `(batch, num_steps) + sample_shape` noise, one draw
        per step (plus labels) -> samples. The batch axis comes first, as
        the labels' does, so that an XLA export sees one batch size."""
        times = self.sample_times(num_steps)
        noise = keras.InputSpec(
            shape=(None, len(times)) + self.sample_shape, dtype="float32"
        )
        labels = keras.InputSpec(shape=(None,), dtype="int32")

        plan = SamplingPlan(
            ConsistencyScheduler(sample_range=self.sample_range), times
        )

        def sample(noise, labels=None):
            return multistep(self, plan, ops.moveaxis(noise, 1, 0), labels)

        if self.num_classes is not None:
            return {"sample": (sample, [noise, labels])}
        return {"sample": (sample, [noise])}


def multistep(model, plan, noise, labels=None):
    """Multistep consistency sampling over the plan's times: the solve of
    a consistency model's `plan.draw`. `noise` is `(len(times), batch) +
    sample_shape`, the start's draw then one for each renoising."""
    times, guidance = plan.points, plan.guidance
    # The last step lands on t = 0, where its draw has no weight.
    step_noise = ops.concatenate([noise[1:], ops.zeros_like(noise[:1])])

    def consistency(sample, time):
        return model.consistency(sample, time, labels)

    if guidance.scale:
        consistency = classifier_free_guidance(
            lambda sample, time, labels: model.consistency(
                sample, time, labels
            ),
            guidance.scale,
            labels,
            ops.full_like(labels, model.num_classes),
            interval=guidance.interval,
            noise_level=lambda time: time,
        )
    return sampling_loop.reverse_diffusion(
        consistency,
        plan.scheduler,
        times[0] * noise[0],
        times,
        step_noise=step_noise,
    )
