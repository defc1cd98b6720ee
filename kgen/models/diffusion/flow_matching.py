import keras
from keras import ops

from kgen import backend
from kgen import schedulers
from kgen.models import public_inputs
from kgen.models import training_steps
from kgen.models.conditioning import Conditioning
from kgen.models.diffusion import flow_matching_likelihood
from kgen.models.diffusion import flow_matching_sampling
from kgen.models.diffusion import minibatch_coupling
from kgen.models.diffusion.denoiser_model import DenoiserModel
from kgen.models.diffusion.guidance import Guidance
from kgen.utils import batch_random
from kgen.utils.argument_validation import validate_choice
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_float_input
from kgen.utils.argument_validation import validate_network_inputs
from kgen.utils.argument_validation import validate_optional_int
from kgen.utils.argument_validation import validate_probability
from kgen.utils.mixed_precision import to_float32

TIME_SAMPLINGS = ("uniform", "logit_normal")


@keras.saving.register_keras_serializable(package="kgen")
class FlowMatching(DenoiserModel):
    """Flow matching on the straight path from data to noise (rectified
    flow), trained by `fit` and sampled by an ODE solver.

    Notation: `sigma` in `[0, 1]` runs from the data to the noise,

    ```
    x_sigma = (1 - sigma) x_0 + sigma eps,   eps ~ N(0, I)
    loss = E ||v_theta(x_sigma, sigma) - (eps - x_0)||**2
    ```

    with `sigma ~ U(0, 1)` (`time_sampling="uniform"`) or `sigma =
    sigmoid(m + s n)`, `n ~ N(0, 1)` (`"logit_normal"`, SD3's choice: more
    weight mid-path, where the target is hardest). The regression's
    minimiser is the marginal velocity whose ODE `dx / dsigma = v`
    carries `N(0, I)` to the data, so `sample` integrates it from
    `sigma = 1` to `0` with a `kgen.schedulers.FlowMatchScheduler`
    (`"euler"` or `"heun"`, with SD3's timestep `shift`) in one
    `ops.fori_loop`, which compiles and exports. `log_prob` gives the
    exact log-likelihood of that ODE.

    With `optimal_transport=True` each example trains with noise drawn
    from an entropic OT plan of the batch instead of independent noise
    (`minibatch_coupling`), which straightens the paths. Reflow
    straightens them further (Liu et al. 2023): `reflow_couplings` pairs
    noise with the samples this model's ODE carries it to, and a model
    fitted on those pairs (`fit(couplings)`, a dict whose `"noise"` then
    replaces the drawn noise) learns near-straight paths that few Euler
    steps follow. Class conditioning and classifier-free guidance work as
    in `DiffusionModel`.

    Args:
        denoiser: `keras.Model` `[x_sigma, timesteps(, labels)] -> v`
            shaped like `x_sigma`, with float timesteps (e.g.
            `kgen.networks.unet_denoiser(..., timestep_dtype="float32")`).
        scheduler: a `kgen.schedulers.FlowMatchScheduler`: the training
            path's timestep scale and the default solver. Defaults to a
            `FlowMatchEulerScheduler()`.
        time_sampling: str. `"logit_normal"` or `"uniform"`.
        logit_mean: float. `m` of the logit-normal sampling.
        logit_std: float > 0. `s` of the logit-normal sampling.
        optimal_transport: bool. Pair data and noise by the batch's OT
            plan.
        num_classes: int or `None`. Makes the model class-conditional:
            `fit(images, labels)`, `sample(n, labels=...)`.
        condition_dropout: float in `[0, 1)`. Probability of training on
            the "no label" class, which classifier-free guidance needs.
        seed: int or `None`.

    Example:

    ```python
    (x, _), _ = kgen.datasets.load("digits", value_range=(-1, 1))
    model = kgen.models.FlowMatching(
        kgen.networks.unet_denoiser((8, 8, 1), timestep_dtype="float32"),
        seed=0,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(x, epochs=1)
    images = model.sample(16, num_steps=20, scheduler="heun", seed=1)
    ```

    References:
        1. Lipman et al. Flow Matching for Generative Modeling. 2023.
           arXiv:2210.02747.
        2. Liu et al. Flow Straight and Fast: Learning to Generate and
           Transfer Data with Rectified Flow. 2023. arXiv:2209.03003.
        3. Esser et al. Scaling Rectified Flow Transformers for
           High-Resolution Image Synthesis. 2024. arXiv:2403.03206.
        4. Tong et al. Improving and Generalizing Flow-Based Generative
           Models with Minibatch Optimal Transport. 2024.
           arXiv:2302.00482.
    """

    capabilities = ("sample", "log_prob", "bits_per_dim", "invert")

    conditioning = Conditioning(labels=True)

    def __init__(
        self,
        denoiser,
        scheduler=None,
        time_sampling="logit_normal",
        logit_mean=0.0,
        logit_std=1.0,
        optimal_transport=False,
        num_classes=None,
        condition_dropout=0.1,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        if scheduler is None:
            scheduler = schedulers.FlowMatchEulerScheduler()
        if not isinstance(scheduler, schedulers.FlowMatchScheduler):
            raise ValueError(
                "`scheduler` must be a kgen.schedulers.FlowMatchScheduler; "
                f"received {type(scheduler).__name__}."
            )
        validate_choice(time_sampling, "time_sampling", TIME_SAMPLINGS)
        num_classes = validate_optional_int(num_classes, "num_classes")
        names = ["x_sigma", "timesteps"]
        if num_classes is not None:
            names.append("labels")
        validate_network_inputs(denoiser, names, "denoiser")
        validate_float_input(
            denoiser, 1, "timesteps (sigma * num_train_timesteps)", "denoiser"
        )
        self.denoiser = denoiser
        self.scheduler = scheduler
        self.time_sampling = time_sampling
        self.logit_mean = validate_float(logit_mean, "logit_mean")
        self.logit_std = validate_float(
            logit_std, "logit_std", minimum=0.0, exclusive_minimum=True
        )
        self.optimal_transport = bool(optimal_transport)
        self.num_classes = num_classes
        self.condition_dropout = validate_probability(
            condition_dropout, "condition_dropout", exclusive_maximum=True
        )
        if denoiser.built:
            self.built = True

    # === The network ===

    def velocity(self, x, sigmas, labels=None):
        """The network's velocity at `(x_sigma, sigma)`; `sigmas` may be
        one float for the whole batch. An unconditioned call of a
        class-conditional model uses the "no label" class."""
        x = ops.convert_to_tensor(x, "float32")
        sigmas = ops.convert_to_tensor(sigmas, "float32")
        batch = ops.shape(x)[0]
        if len(sigmas.shape) == 0:
            sigmas = ops.full((batch,), sigmas, "float32")
        inputs = [x, self.scheduler.to_timesteps(sigmas)]
        if self.num_classes is not None:
            if labels is None:
                labels = ops.full((batch,), self.num_classes, "int32")
            inputs.append(ops.cast(labels, "int32"))
        return to_float32(self.denoiser(inputs, training=False))

    # === Training ===

    def _draw_sigmas(self, batch):
        if self.time_sampling == "uniform":
            return batch_random.uniform((batch,), self.seed_generator)
        normal = batch_random.normal((batch,), self.seed_generator)
        return ops.sigmoid(self.logit_mean + self.logit_std * normal)

    def call(self, inputs, training=False):
        """One training draw: `{"prediction", "target"}` for a batch."""
        labels = noise = None
        if isinstance(inputs, dict):
            labels = inputs.get("labels")
            noise = inputs.get("noise")
            inputs = inputs["images"]
        images = ops.convert_to_tensor(inputs, "float32")
        batch = ops.shape(images)[0]
        # 1. Noise: given (reflow's couplings), or drawn and paired by the
        #    batch's transport plan if asked.
        if noise is not None:
            noise = ops.convert_to_tensor(noise, "float32")
        else:
            noise = batch_random.normal(ops.shape(images), self.seed_generator)
            if self.optimal_transport:
                noise = minibatch_coupling.optimal_transport_partners(
                    images, noise, self.seed_generator
                )
        # 2. A point on each straight path and its velocity.
        sigmas = self._draw_sigmas(batch)
        noisy = self.scheduler.add_noise(images, noise, sigmas)
        target = self.scheduler.training_target(images, noise)
        # 3. The network's guess, trained unconditioned now and then for
        #    classifier-free guidance.
        network_inputs = [noisy, self.scheduler.to_timesteps(sigmas)]
        if self.num_classes is not None:
            network_inputs.append(
                training_steps.drop_labels(
                    self, labels, self.condition_dropout, training
                )
            )
        prediction = to_float32(
            backend.call_network(self.denoiser, network_inputs, training)
        )
        return {"prediction": prediction, "target": target}

    # === Sampling ===

    def sample(
        self,
        num_samples,
        *,
        seed=None,
        labels=None,
        num_steps=50,
        scheduler="euler",
        guidance_scale=0.0,
        guidance_interval=None,
        watermark=None,
        guide=None,
        guidance="cfg",
    ):
        """Draws samples by solving the flow's ODE from noise.

        Args:
            num_samples: int.
            seed: `None`, an int or a `keras.random.SeedGenerator`.
            labels: int or int array of class ids (conditional models;
                drawn uniformly when omitted).
            num_steps: int >= 1. Solver steps (Euler: that many network
                calls; Heun: `2 num_steps - 1`).
            scheduler: `"euler"`, `"heun"` or a `FlowMatchScheduler`.
            guidance_scale: float `w` of classifier-free guidance (0 =
                none); needs a class-conditional model.
            guidance_interval: `(low, high)` in [0, 1], or `None`: guide
                only the steps whose `sigma` lies in it (Kynkaanniemi et
                al. 2024), the unguided velocity elsewhere.
            watermark: optional key written into the start noise, such as
                a `kgen.watermarks.FourierNoiseWatermark` (its `embed`),
                found again by `invert`.
            guide: optional `FlowMatching`, a smaller or less-trained
                version of this model, for autoguidance (Karras et al.
                2024): `guidance_scale` `w` then weighs `(1 + w) v(x, c)
                - w v_guide(x, c)` in place of the unconditional
                velocity, and the model may be unconditional.
            guidance: `"cfg"` (classifier-free guidance, or autoguidance
                with a `guide`) or `"cfg++"` (Chung et al. 2024): each
                Euler step takes its data estimate from the velocity
                guided at strength `guidance_scale` in (0, 1] and its
                noise from the unconditional one, so samples stay near
                the model's path at strong guidance.

        Returns:
            Samples of shape `(num_samples,) + sample_shape`.
        """
        public_inputs.check_num_samples(num_samples)
        guidance = Guidance(
            guidance_scale, guidance_interval, guidance, guide=guide
        )
        plan = flow_matching_sampling.sampling_plan(
            self, scheduler, num_steps, guidance, watermark
        )
        return plan.sample(
            self, flow_matching_sampling.solve, num_samples, seed, labels
        )

    def reflow_couplings(
        self,
        num_pairs,
        *,
        seed=None,
        labels=None,
        num_steps=50,
        scheduler="euler",
        guidance_scale=0.0,
    ):
        """Noise and the samples this model's ODE carries it to: the
        couplings of a reflow (Liu et al. 2023), a second rectified flow
        trained on them, whose paths are straighter:

        ```python
        couplings = model.reflow_couplings(10_000, num_steps=50, seed=0)
        student.fit(couplings, batch_size=64, epochs=5)  # or `model`
        ```

        Args:
            num_pairs: int.
            seed: `None`, an int or a `keras.random.SeedGenerator`.
            labels: class ids of a class-conditional model (drawn
                uniformly when omitted).
            num_steps, scheduler, guidance_scale: the sampler that draws
                the samples, as in `sample` (fine steps: the student
                learns the map this ODE solution makes).

        Returns:
            A dict of NumPy arrays, `fit`'s inputs: `"images"` the
            samples, `"noise"` the noise each started from and, for a
            class-conditional model, `"labels"`.
        """
        plan = flow_matching_sampling.sampling_plan(
            self, scheduler, num_steps, Guidance(guidance_scale)
        )
        return flow_matching_sampling.reflow_couplings(
            self, num_pairs, plan, seed, labels
        )

    def invert(self, samples, *, num_steps=50, labels=None):
        """The start noise from which the Euler sampler over `num_steps`
        draws `samples` (what a noise-level watermark is read from).

        Each Euler step `x' = x + (sigma' - sigma) v(x, sigma)` is undone
        with the velocity taken at the `x'` there is, `x = x' - (sigma' -
        sigma) v(x', sigma)`, over the sampler's steps in reverse (as
        DDIM inversion, `sampling_loop.ddim_inversion`): exact where the
        velocity does not change between `x` and `x'`.

        Args:
            samples: `(batch,) + sample_shape` in the sample range.
            num_steps: int >= 1: the Euler run to invert.
            labels: class ids of a class-conditional model; `None` runs
                it unconditioned (the "no label" class), as when the
                labels are not known.

        Returns:
            Noise of the same shape as `samples`.
        """
        return flow_matching_sampling.invert(self, samples, num_steps, labels)

    # === Likelihood ===

    def log_prob(self, x, *, labels=None, num_steps=64, seed=None):
        """Exact-ODE log-density `log p(x)` in nats, per example.

        The instantaneous change of variables integrated by Heun's method
        over `num_steps` steps, the divergence by Hutchinson's estimator
        with one Rademacher probe per example (unbiased; `seed` draws it);
        see `flow_likelihood.log_prob`.
        """
        return flow_matching_likelihood.log_prob(
            self, x, labels, num_steps, seed
        )

    def bits_per_dim(self, x, *, labels=None, num_steps=64, seed=None):
        """Bits per dimension of images on 256 levels in `[-1, 1]`.

        Uniform dequantization, `u ~ U(-1/255, 1/255)` per value, bounds
        the discrete log-likelihood (Theis et al. 2016):

        ```
        log P(x) >= E_u log p(x + u) + D log(2 / 255)
        bits/dim = -(log p(x + u) + D log(2 / 255)) / (D log 2)
        ```
        """
        return flow_matching_likelihood.bits_per_dim(
            self, x, labels, num_steps, seed
        )

    # === Export ===

    def serving_endpoints(self, scheduler="euler", num_steps=50):
        """`sample` (noise -> samples by a `num_steps` solve) and
        `velocity` (`x_sigma, sigmas -> v`)."""
        return flow_matching_sampling.serving_endpoints(
            self, scheduler, num_steps
        )
