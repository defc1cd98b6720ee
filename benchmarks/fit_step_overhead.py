"""Per-step cost of kgen's `fit` against a hand-written training loop.

For kgen's `VAE` and `DCGAN` (28x28x1 images, batch 64) and U-Net
`DiffusionModel` (28x28x1, batch 16: a U-Net step costs ~5 VAE steps),
times `model.fit` against a training loop written by hand in the idiom of
the current Keras backend, on the very same Keras networks (the layers
and weights kgen built):

- TensorFlow: `tf.GradientTape` in a `tf.function` with the `jit_compile`
  that Keras resolved for `fit` (Keras' "auto" is no XLA on a machine
  without GPUs; `--jit-compile true` puts both sides on XLA), Keras' Adam
  via `apply_gradients`.
- JAX: one `jax.jit` function (state donated, as Keras does) of
  `stateless_call` + `jax.value_and_grad` + `Adam.stateless_apply`.
- PyTorch: eager `loss.backward()` and `torch.optim.Adam` (`eps=1e-7`,
  Keras' default; torch adds epsilon after the bias correction, Keras
  before, a difference below `eps` itself). `--torch-optimizer keras`
  applies Keras' Adam eagerly instead.

The hand loops compute kgen's losses: the VAE's Bernoulli reconstruction
plus the closed-form KL to `N(0, I)`; the DCGAN's non-saturating losses
with one discriminator and one generator update per step, each on fresh
noise, the generator's pass in the discriminator update without gradient;
the diffusion model's epsilon-prediction MSE at uniform timesteps of its
1000-step linear schedule. Before timing, one step of each runs from the
same weights with the same random draws (kgen's seed generator replayed;
Dropout masks come from the shared layers), and the losses they report
must agree to 1e-4 (relative); the diffusion model's zero-initialised
output convolution is randomised first, or its loss would only compare
the noise.

Timing: both sides in one process on one thread, compiled and warmed up,
then `--repeats` rounds alternating the variants, `--steps` steps each
(one `fit` epoch of `--steps` batches of random pixels, `verbose=0`,
Keras' default shuffling; the hand loop slices the same NumPy array).
Columns, medians over the rounds: `kgen_ms` and `hand_ms` per step (wall),
`ratio` of the two, `paired_ratio` the median of per-round ratios,
`loop_ratio` with `fit`'s steps only (from `on_train_begin` to
`on_train_end`), `cpu_ratio` of process CPU time, `setup_ms` and
`teardown_ms` the wall time per `fit` call before and after its steps.
`--breakdown` adds `fit` with kgen's non-finite check made a no-op
(`no_check_ratio`) and Keras' own `fit` on the kgen model, which skips
kgen's data checks and callback (`keras_fit_ratio`). The project's bar is
`ratio <= 1.05`. Run it on one core, once per backend:

    taskset -c 1 env KERAS_BACKEND=jax python -m benchmarks.fit_step_overhead

`--models vae --steps 5 --repeats 2` is a quick smoke run.
"""

import os
import random
import time
import types

import numpy as np

from benchmarks.common import benchmark_parser
from benchmarks.common import print_table
from benchmarks.common import row_pointers
from benchmarks.common import write_json

MODELS = ("vae", "dcgan", "diffusion")
IMAGE_SHAPE = (28, 28, 1)
TOLERANCE = 1e-4


def pin_to_one_thread():
    """One compute thread per runtime; call before any backend starts."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ["TF_NUM_INTRAOP_THREADS"] = "1"
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    flags = os.environ.get("XLA_FLAGS", "")
    if "multi_thread_eigen" not in flags:
        os.environ["XLA_FLAGS"] = (
            f"{flags} --xla_cpu_multi_thread_eigen=false "
            "intra_op_parallelism_threads=1"
        ).strip()
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    elif backend == "torch":
        import torch

        torch.set_num_threads(1)
        torch.set_num_interop_threads(1)


# === The three models and their losses, written once ===
#
# A loss is `loss(m, call, constants, x, draws)`: `m` holds the few array
# functions it needs in the backend's own library, `call(name, inputs,
# frozen=False)` runs one of kgen's networks in training mode (`frozen`:
# no gradient, and no state update where the idiom makes that free),
# `draws` are the step's random numbers for this update.


class Update:
    """One optimizer update of a step: the loss, the networks it trains,
    its Adam settings and the random numbers it draws per example
    (`("normal", shape)` or `("randint", high)`)."""

    def __init__(self, loss, trained, adam, draws):
        self.loss = loss
        self.trained = trained
        self.adam = adam
        self.draws = draws


class VAECase:
    name = "vae"
    batch_size = 64
    data_range = (0.0, 1.0)
    log_names = ("loss",)

    def __init__(self, latent_dim=16, filters=32, hidden_dim=256):
        self.latent_dim = latent_dim
        self.filters = filters
        self.hidden_dim = hidden_dim
        self.adam = {"learning_rate": 1e-3}
        self.updates = [
            Update(
                self.loss,
                ("encoder", "decoder"),
                self.adam,
                [("normal", (latent_dim,))],
            )
        ]

    def build(self, jit_compile):
        import keras

        import kgen

        model = kgen.models.VAE(
            kgen.networks.vae_encoder(
                IMAGE_SHAPE, self.latent_dim, self.filters, self.hidden_dim
            ),
            kgen.networks.vae_decoder(
                IMAGE_SHAPE, self.latent_dim, self.filters, self.hidden_dim
            ),
            latent_dim=self.latent_dim,
            seed=0,
        )
        model.compile(
            optimizer=keras.optimizers.Adam(**self.adam),
            jit_compile=jit_compile,
        )
        return model

    def networks(self, model):
        return {"encoder": model.encoder, "decoder": model.decoder}

    def constants(self, model, m):
        return {}

    def loss(self, m, call, constants, x, draws):
        # -log p(x|z) = sum softplus(l) - x l (Bernoulli logits l), and
        # KL(N(mu, s^2) || N(0, 1)) = (s^2 + mu^2 - 1 - log s^2) / 2.
        (eps,) = draws
        moments = call("encoder", x)
        mean = moments[:, : self.latent_dim]
        log_variance = moments[:, self.latent_dim :]
        latent = mean + m.exp(0.5 * log_variance) * eps
        logits = call("decoder", latent)
        reconstruction = m.sum(m.softplus(logits) - x * logits, (1, 2, 3))
        kl = 0.5 * m.sum(
            m.exp(log_variance) + mean * mean - 1.0 - log_variance, (1,)
        )
        return m.mean(reconstruction + kl)

    def kgen_draws(self, model, batch_size):
        from kgen.utils import batch_random

        return [
            [
                batch_random.normal(
                    (batch_size, self.latent_dim), model.seed_generator
                )
            ]
        ]

    def prepare_check(self, model):
        pass


class DCGANCase:
    name = "dcgan"
    batch_size = 64
    data_range = (-1.0, 1.0)
    log_names = ("d_loss", "g_loss")

    def __init__(self, latent_dim=64, filters=16):
        self.latent_dim = latent_dim
        self.filters = filters
        self.adam = {"learning_rate": 2e-4, "beta_1": 0.5}
        noise = [("normal", (latent_dim,))]
        self.updates = [
            Update(
                self.discriminator_loss, ("discriminator",), self.adam, noise
            ),
            Update(self.generator_loss, ("generator",), self.adam, noise),
        ]

    def build(self, jit_compile):
        import keras

        import kgen

        model = kgen.models.DCGAN(
            IMAGE_SHAPE,
            latent_dim=self.latent_dim,
            filters=self.filters,
            seed=0,
        )
        model.compile(
            g_optimizer=keras.optimizers.Adam(**self.adam),
            d_optimizer=keras.optimizers.Adam(**self.adam),
            jit_compile=jit_compile,
        )
        return model

    def networks(self, model):
        return {
            "generator": model.generator,
            "discriminator": model.discriminator,
        }

    def constants(self, model, m):
        return {}

    def discriminator_loss(self, m, call, constants, real, draws):
        # -log sigmoid(D(x)) - log(1 - sigmoid(D(G(z)))), via softplus.
        (noise,) = draws
        fake = call("generator", noise, frozen=True)
        real_logits = call("discriminator", real)
        fake_logits = call("discriminator", fake)
        return m.mean(m.softplus(-real_logits)) + m.mean(
            m.softplus(fake_logits)
        )

    def generator_loss(self, m, call, constants, real, draws):
        # Non-saturating: -log sigmoid(D(G(z))).
        (noise,) = draws
        fake_logits = call("discriminator", call("generator", noise))
        return m.mean(m.softplus(-fake_logits))

    def kgen_draws(self, model, batch_size):
        # `GAN.train_step` draws the discriminator's noise, then the
        # generator's, from the model's seed generator.
        return [[model.sample_noise(batch_size)] for _ in self.updates]

    def prepare_check(self, model):
        pass


class DiffusionCase:
    name = "diffusion"
    # A U-Net step costs ~5x a VAE's: 16 images keep it near 100 ms.
    batch_size = 16
    data_range = (-1.0, 1.0)
    log_names = ("loss",)

    def __init__(self, widths=(16, 32, 32)):
        self.widths = tuple(widths)
        self.adam = {"learning_rate": 1e-3}
        self.num_train_timesteps = 1000
        self.updates = [
            Update(
                self.loss,
                ("denoiser",),
                self.adam,
                [
                    ("randint", self.num_train_timesteps),
                    ("normal", IMAGE_SHAPE),
                ],
            )
        ]

    def build(self, jit_compile):
        import keras

        import kgen

        denoiser = kgen.networks.unet_denoiser(
            IMAGE_SHAPE,
            widths=self.widths,
            attention_levels=(len(self.widths) - 1,),
        )
        model = kgen.models.DiffusionModel(
            denoiser,
            kgen.schedulers.DDPMScheduler(self.num_train_timesteps),
            seed=0,
        )
        model.compile(
            optimizer=keras.optimizers.Adam(**self.adam),
            jit_compile=jit_compile,
        )
        return model

    def networks(self, model):
        return {"denoiser": model.denoiser}

    def constants(self, model, m):
        return {"alpha_bar": m.constant(model.scheduler.alphas_cumprod)}

    def loss(self, m, call, constants, x, draws):
        # x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps;
        # loss = mean ||eps - eps_theta(x_t, t)||^2.
        timesteps, noise = draws
        alpha_bar = m.reshape(
            m.take(constants["alpha_bar"], timesteps), (-1, 1, 1, 1)
        )
        noisy = m.sqrt(alpha_bar) * x + m.sqrt(1.0 - alpha_bar) * noise
        prediction = call("denoiser", [noisy, timesteps])
        return m.mean(m.square(prediction - noise))

    def kgen_draws(self, model, batch_size):
        # `DiffusionModel.call` draws the timesteps, then the noise.
        from kgen.utils import batch_random

        timesteps = batch_random.randint(
            (batch_size,), 0, self.num_train_timesteps, model.seed_generator
        )
        noise = batch_random.normal(
            (batch_size,) + IMAGE_SHAPE, model.seed_generator
        )
        return [[timesteps, noise]]

    def prepare_check(self, model):
        # The output convolution starts at zero, so the untrained loss is
        # mean(eps^2) whatever the network: randomise it to compare more.
        layer = model.denoiser.get_layer("out")
        kernel = np.random.default_rng(1).normal(
            0.0, 0.05, tuple(layer.kernel.shape)
        )
        layer.kernel.assign(kernel.astype("float32"))


CASES = {"vae": VAECase, "dcgan": DCGANCase, "diffusion": DiffusionCase}


# === Hand-written loops, one per backend ===


def variables_of(networks, names):
    return [v for name in names for v in networks[name].trainable_variables]


def keras_adams(case, networks):
    """One built Keras Adam per update of `case` (built eagerly: a
    `tf.function` may not create its variables)."""
    import keras

    optimizers = []
    for update in case.updates:
        optimizer = keras.optimizers.Adam(**update.adam)
        optimizer.build(variables_of(networks, update.trained))
        optimizers.append(optimizer)
    return optimizers


class TensorFlowLoop:
    """`tf.GradientTape` steps in one `tf.function`."""

    description = "tf.GradientTape in tf.function, keras Adam"

    def __init__(self, case, model, jit_compile):
        import tensorflow as tf

        tf.random.set_seed(0)
        m = types.SimpleNamespace(
            softplus=tf.math.softplus,
            exp=tf.exp,
            sqrt=tf.sqrt,
            square=tf.square,
            mean=tf.reduce_mean,
            sum=lambda x, axis: tf.reduce_sum(x, axis=axis),
            take=tf.gather,
            reshape=tf.reshape,
            constant=tf.constant,
        )
        networks = case.networks(model)
        constants = case.constants(model, m)
        optimizers = keras_adams(case, networks)

        def call(name, inputs, frozen=False):
            outputs = networks[name](inputs, training=True)
            return tf.stop_gradient(outputs) if frozen else outputs

        def step(x, draws):
            losses = []
            for update, optimizer, values in zip(
                case.updates, optimizers, draws
            ):
                variables = variables_of(networks, update.trained)
                with tf.GradientTape() as tape:
                    loss = update.loss(m, call, constants, x, values)
                grads = tape.gradient(loss, variables)
                optimizer.apply_gradients(zip(grads, variables))
                losses.append(loss)
            return losses

        def draw(batch_size, spec):
            if spec[0] == "normal":
                return tf.random.normal((batch_size,) + spec[1])
            return tf.random.uniform((batch_size,), 0, spec[1], dtype=tf.int32)

        def timed_step(x):
            batch_size = tf.shape(x)[0]
            draws = [
                [draw(batch_size, spec) for spec in update.draws]
                for update in case.updates
            ]
            return step(x, draws)

        self.check_step = tf.function(step, jit_compile=jit_compile)
        self.timed_step = tf.function(timed_step, jit_compile=jit_compile)
        self.jit_compile = jit_compile
        self.tf = tf

    def replay(self, draw):
        # Compiled as kgen's step is: XLA's stateless random numbers are
        # not TensorFlow's own for the same seed.
        return self.tf.function(draw, jit_compile=self.jit_compile)()

    def check(self, x, draws):
        return [float(v) for v in self.check_step(self.tf.constant(x), draws)]

    def run(self, x, batch_size, steps):
        for index in range(steps):
            batch = x[index * batch_size : (index + 1) * batch_size]
            losses = self.timed_step(self.tf.convert_to_tensor(batch))
        return [float(v) for v in losses]


class JaxLoop:
    """One `jax.jit` step of `stateless_call`, `value_and_grad` and
    `stateless_apply`; the state is donated, as Keras' trainer does."""

    description = "jax.jit(stateless_call + value_and_grad + stateless_apply)"

    def __init__(self, case, model, jit_compile):
        import jax
        import jax.numpy as jnp

        m = types.SimpleNamespace(
            softplus=jax.nn.softplus,
            exp=jnp.exp,
            sqrt=jnp.sqrt,
            square=jnp.square,
            mean=jnp.mean,
            sum=lambda x, axis: jnp.sum(x, axis=axis),
            take=jnp.take,
            reshape=jnp.reshape,
            constant=jnp.asarray,
        )
        networks = case.networks(model)
        constants = case.constants(model, m)
        optimizers = keras_adams(case, networks)

        def copy(variables):
            # Copies: donating the variables' own buffers would delete them
            # under kgen's model.
            return [jnp.array(v.value, copy=True) for v in variables]

        params = {
            name: copy(network.trainable_variables)
            for name, network in networks.items()
        }
        states = {
            name: copy(network.non_trainable_variables)
            for name, network in networks.items()
        }
        opt_states = [copy(optimizer.variables) for optimizer in optimizers]

        def step(state, x, draws):
            params, states, opt_states = state
            opt_states = list(opt_states)
            losses = []
            for index, update in enumerate(case.updates):

                def pure(trained, states):
                    current = dict(states)
                    values = dict(params, **trained)

                    def call(name, inputs, frozen=False):
                        outputs, new = networks[name].stateless_call(
                            values[name], current[name], inputs, training=True
                        )
                        if frozen:
                            return jax.lax.stop_gradient(outputs)
                        current[name] = new
                        return outputs

                    loss = update.loss(m, call, constants, x, draws[index])
                    return loss, current

                trained = {name: params[name] for name in update.trained}
                (loss, states), grads = jax.value_and_grad(pure, has_aux=True)(
                    trained, states
                )
                flat, opt_states[index] = optimizers[index].stateless_apply(
                    opt_states[index],
                    [g for name in update.trained for g in grads[name]],
                    [p for name in update.trained for p in trained[name]],
                )
                params = dict(params)
                for name in update.trained:
                    count = len(params[name])
                    params[name], flat = flat[:count], flat[count:]
                losses.append(loss)
            return losses, (params, states, opt_states)

        def draw(key, batch_size, spec):
            if spec[0] == "normal":
                return jax.random.normal(key, (batch_size,) + spec[1])
            return jax.random.randint(
                key, (batch_size,), 0, spec[1], dtype="int32"
            )

        def timed_step(state, x):
            key, state = state[0], state[1:]
            draws = []
            for update in case.updates:
                values = []
                for spec in update.draws:
                    key, subkey = jax.random.split(key)
                    values.append(draw(subkey, x.shape[0], spec))
                draws.append(values)
            losses, state = step(state, x, draws)
            return losses, (key,) + state

        if jit_compile:
            self.check_step = jax.jit(step, donate_argnums=0)
            self.timed_step = jax.jit(timed_step, donate_argnums=0)
        else:
            self.check_step, self.timed_step = step, timed_step
        self.state = (params, states, opt_states)
        self.key = jax.random.PRNGKey(0)
        self.jax = jax

    def replay(self, draw):
        return draw()

    def check(self, x, draws):
        losses, self.state = self.check_step(self.state, x, draws)
        return [float(v) for v in losses]

    def run(self, x, batch_size, steps):
        state = (self.key,) + self.state
        for index in range(steps):
            batch = x[index * batch_size : (index + 1) * batch_size]
            losses, state = self.timed_step(state, self.jax.device_put(batch))
        self.key, self.state = state[0], state[1:]
        return [float(v) for v in losses]


class TorchLoop:
    """Eager `loss.backward()` and `optimizer.step()`."""

    def __init__(self, case, model, jit_compile, optimizer="torch"):
        import keras
        import torch

        if jit_compile:
            raise ValueError(
                "On torch only jit_compile=False (Keras' default) is timed."
            )
        torch.manual_seed(0)
        m = types.SimpleNamespace(
            softplus=torch.nn.functional.softplus,
            exp=torch.exp,
            sqrt=torch.sqrt,
            square=torch.square,
            mean=torch.mean,
            sum=lambda x, axis: torch.sum(x, dim=axis),
            take=lambda table, index: torch.index_select(table, 0, index),
            reshape=torch.reshape,
            constant=torch.as_tensor,
        )
        self.case = case
        self.networks = case.networks(model)
        self.constants = case.constants(model, m)
        self.m = m
        self.torch = torch
        self.keras_optimizer = optimizer == "keras"
        self.optimizers = []
        for update in case.updates:
            variables = variables_of(self.networks, update.trained)
            if self.keras_optimizer:
                optimizer = keras.optimizers.Adam(**update.adam)
                optimizer.build(variables)
            else:
                adam = update.adam
                optimizer = torch.optim.Adam(
                    [v.value for v in variables],
                    lr=adam["learning_rate"],
                    betas=(adam.get("beta_1", 0.9), adam.get("beta_2", 0.999)),
                    eps=1e-7,
                )
            self.optimizers.append(optimizer)
        self.description = "eager torch, loss.backward(), " + (
            "keras Adam" if self.keras_optimizer else "torch.optim.Adam"
        )

    def call(self, name, inputs, frozen=False):
        network = self.networks[name]
        if frozen:
            with self.torch.no_grad():
                return network(inputs, training=True)
        return network(inputs, training=True)

    def step(self, x, draws):
        losses = []
        for update, optimizer, values in zip(
            self.case.updates, self.optimizers, draws
        ):
            trained = variables_of(self.networks, update.trained)
            # The other networks' weights need no gradient in this update
            # (as pytorch-CycleGAN's `set_requires_grad(netD, False)`).
            others = [
                v.value
                for name, network in self.networks.items()
                if name not in update.trained
                for v in network.trainable_variables
            ]
            for value in others:
                value.requires_grad_(False)
            for variable in trained:
                variable.value.grad = None
            loss = update.loss(self.m, self.call, self.constants, x, values)
            loss.backward()
            if self.keras_optimizer:
                with self.torch.no_grad():
                    optimizer.apply([v.value.grad for v in trained], trained)
            else:
                optimizer.step()
            for value in others:
                value.requires_grad_(True)
            losses.append(loss.detach())
        return losses

    def replay(self, draw):
        return draw()

    def draw(self, batch_size, spec):
        if spec[0] == "normal":
            return self.torch.randn((batch_size,) + spec[1])
        return self.torch.randint(
            0, spec[1], (batch_size,), dtype=self.torch.int32
        )

    def check(self, x, draws):
        return [float(v) for v in self.step(self.torch.as_tensor(x), draws)]

    def run(self, x, batch_size, steps):
        for index in range(steps):
            batch = x[index * batch_size : (index + 1) * batch_size]
            draws = [
                [self.draw(batch_size, spec) for spec in update.draws]
                for update in self.case.updates
            ]
            losses = self.step(self.torch.from_numpy(batch), draws)
        return [float(v) for v in losses]


# === Timing ===


def make_data(case, num_examples, seed=0):
    low, high = case.data_range
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, high, (num_examples,) + IMAGE_SHAPE)
    return x.astype("float32")


def equivalence_check(case, model, hand_class, x):
    """Losses of one kgen step and one hand step from the same weights
    and random draws: `(hand_loop, kgen_losses, hand_losses,
    max_relative_difference)`, the hand loop built on the restored
    weights (and, on JAX, holding the state after its step)."""
    import keras

    case.prepare_check(model)
    # Everything a step reads: weights, statistics and seed states.
    saved = [keras.ops.convert_to_numpy(v.value) for v in model.variables]
    logs = model.train_on_batch(x, return_dict=True)
    for variable, value in zip(model.variables, saved):
        variable.assign(value)
    loop = hand_class(case, model)
    draws = loop.replay(lambda: case.kgen_draws(model, len(x)))
    hand = loop.check(x, draws)
    kgen_values = [float(logs[name]) for name in case.log_names]
    difference = max(
        abs(a - b) / max(abs(a), 1e-8) for a, b in zip(kgen_values, hand)
    )
    return loop, kgen_values, hand, difference


def no_check_callback():
    """A `TerminateOnNonFinite` whose batch hook is Keras' default: passed
    to `fit`, kgen adds no check of its own, and Keras may dispatch the
    batch callbacks asynchronously again."""
    import keras

    from kgen.callbacks import TerminateOnNonFinite

    class NoOpNonFiniteCheck(TerminateOnNonFinite):
        on_train_batch_end = keras.callbacks.Callback.on_train_batch_end

    return NoOpNonFiniteCheck()


def phase_timer():
    """A callback stamping `on_train_begin` and `on_train_end`; it has no
    batch hooks, so Keras dispatches batch callbacks as it would without
    it."""
    import keras

    class PhaseTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.begin = time.perf_counter()

        def on_train_end(self, logs=None):
            self.end = time.perf_counter()

    return PhaseTimer()


def time_fit(fit, data, batch_size, callbacks=()):
    """Seconds of one `fit` epoch: wall, process CPU, and the wall time
    before `on_train_begin` (setup), up to `on_train_end` (loop) and
    after it (teardown)."""
    timer = phase_timer()
    cpu, start = time.process_time(), time.perf_counter()
    fit(
        data,
        batch_size=batch_size,
        epochs=1,
        verbose=0,
        callbacks=[timer, *callbacks],
    )
    end = time.perf_counter()
    return {
        "wall": end - start,
        "cpu": time.process_time() - cpu,
        "setup": timer.begin - start,
        "loop": timer.end - timer.begin,
        "teardown": end - timer.end,
    }


def time_hand(loop, data, batch_size, steps):
    cpu, start = time.process_time(), time.perf_counter()
    loop.run(data, batch_size, steps)
    return {
        "wall": time.perf_counter() - start,
        "cpu": time.process_time() - cpu,
    }


def benchmark(case, args, hand_class):
    import keras

    jit = {"auto": "auto", "true": True, "false": False}[args.jit_compile]
    batch_size = args.batch_size or case.batch_size
    model = case.build(jit)
    batch = make_data(case, batch_size, seed=1)
    loop, kgen_values, hand_values, difference = equivalence_check(
        case, model, hand_class, batch
    )
    x = make_data(case, args.steps * batch_size)

    variants = {"kgen": lambda: time_fit(model.fit, x, batch_size)}
    if args.breakdown:
        variants["no_check"] = lambda: time_fit(
            model.fit, x, batch_size, [no_check_callback()]
        )
        variants["keras_fit"] = lambda: time_fit(
            lambda *a, **k: keras.Model.fit(model, *a, **k), x, batch_size
        )
    variants["hand"] = lambda: time_hand(loop, x, batch_size, args.steps)

    warmup = x[: 3 * batch_size]
    time_fit(model.fit, warmup, batch_size)
    loop.run(warmup, batch_size, 3)
    # Rounds alternate the variants, so load from elsewhere on a shared
    # machine falls on all of them alike.
    rounds = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, function in variants.items():
            rounds[name].append(function())

    def median(name, key, per_step=True):
        values = [times[key] for times in rounds[name]]
        return 1000 * float(np.median(values)) / (args.steps if per_step else 1)

    kgen_ms, hand_ms = median("kgen", "wall"), median("hand", "wall")
    paired = [
        k["wall"] / h["wall"] for k, h in zip(rounds["kgen"], rounds["hand"])
    ]
    row = {
        "model": case.name,
        "batch": batch_size,
        "params": int(sum(np.prod(v.shape) for v in model.trainable_weights)),
        "kgen_ms": kgen_ms,
        "hand_ms": hand_ms,
        "ratio": kgen_ms / hand_ms,
        "paired_ratio": float(np.median(paired)),
        "loop_ratio": median("kgen", "loop") / hand_ms,
        "cpu_ratio": median("kgen", "cpu") / median("hand", "cpu"),
        "setup_ms": median("kgen", "setup", per_step=False),
        "teardown_ms": median("kgen", "teardown", per_step=False),
        "check": "pass" if difference < TOLERANCE else "FAIL",
        "max_rel_diff": difference,
        "kgen_losses": kgen_values,
        "hand_losses": hand_values,
        "jit_compile": model.jit_compile,
        "hand_loop": loop.description,
        "rounds": rounds,
    }
    if args.breakdown:
        for name in ("no_check", "keras_fit"):
            row[f"{name}_ms"] = median(name, "wall")
            row[f"{name}_ratio"] = row[f"{name}_ms"] / hand_ms
    return row


def hand_loop_class(backend, args):
    def make(case, model):
        jit = model.jit_compile
        if backend == "tensorflow":
            return TensorFlowLoop(case, model, jit)
        if backend == "jax":
            return JaxLoop(case, model, jit)
        return TorchLoop(case, model, jit, args.torch_optimizer)

    return make


def main():
    parser = benchmark_parser(
        description=__doc__.split("\n")[0], steps=30, repeats=10
    )
    parser.add_argument("--models", default=",".join(MODELS))
    # Not common: its default of None picks each model's own batch size.
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="default: 64 (VAE, DCGAN), 16 (U-Net diffusion)",
    )
    parser.add_argument(
        "--jit-compile", choices=("auto", "true", "false"), default="auto"
    )
    parser.add_argument(
        "--torch-optimizer", choices=("torch", "keras"), default="torch"
    )
    parser.add_argument("--breakdown", action="store_true")
    args = parser.parse_args()
    names = [name.strip() for name in args.models.split(",") if name.strip()]
    unknown = sorted(set(names) - set(MODELS))
    if unknown:
        parser.error(f"unknown --models {unknown}; choose from {MODELS}")

    pin_to_one_thread()
    import keras

    backend = keras.backend.backend()
    # Not `keras.utils.set_random_seed`, which imports TensorFlow on every
    # backend: Keras' unseeded initializers draw from Python's `random`.
    random.seed(0)
    hand_class = hand_loop_class(backend, args)
    rows = []
    for name in names:
        row = benchmark(CASES[name](), args, hand_class)
        rows.append(row)
        print(
            f"{name}: kgen {row['kgen_ms']:.1f} ms, hand {row['hand_ms']:.1f} "
            f"ms, check {row['check']} ({row['max_rel_diff']:.1e})",
            flush=True,
        )

    columns = ["model", "batch", "params", "kgen_ms", "hand_ms", "ratio"]
    columns += ["paired_ratio", "loop_ratio", "cpu_ratio"]
    if args.breakdown:
        columns += ["no_check_ratio", "keras_fit_ratio"]
    columns += ["setup_ms", "teardown_ms", "check", "max_rel_diff"]
    print()
    print_table(rows, columns)
    print(
        f"backend {backend}, {args.steps} steps x "
        f"{args.repeats} repeats (median), jit_compile "
        f"{rows[0]['jit_compile'] if rows else '-'}; hand loop: "
        f"{rows[0]['hand_loop'] if rows else '-'}"
    )
    for row in rows:
        print(
            f"  {row['model']} losses kgen {row['kgen_losses']} hand "
            f"{row['hand_losses']}"
        )
    name = f"fit_step_overhead_{backend}"
    if args.jit_compile != "auto":
        name += f"_jit_{args.jit_compile}"
    if backend == "torch" and args.torch_optimizer != "torch":
        name += f"_{args.torch_optimizer}_adam"
    write_json(
        name,
        {
            "steps": args.steps,
            "repeats": args.repeats,
            "image_shape": list(IMAGE_SHAPE),
            "jit_compile_argument": args.jit_compile,
            "torch_optimizer": args.torch_optimizer,
            "affinity": sorted(os.sched_getaffinity(0)),
            "rows": rows,
        },
        headline={
            "title": f"kgen fit's step time against a hand-written {backend} "
            "training loop of the same networks",
            "values": row_pointers(
                rows,
                "model",
                {"kgen/hand": "ratio", "steps only": "loop_ratio"},
                by_metric=True,
            ),
            "peer": "a hand-written training loop in the backend's idiom",
            "notes": "The project's bar is a ratio of at most 1.05.",
        },
    )


if __name__ == "__main__":
    main()
