import keras
from keras import ops

from kgen import backend
from kgen import schedulers
from kgen.models import public_inputs
from kgen.models import training_steps
from kgen.models.conditioning import Conditioning
from kgen.models.diffusion import molecule_batches
from kgen.models.diffusion import molecule_bound
from kgen.models.diffusion.molecule_batches import atom_mask_of
from kgen.models.diffusion.molecule_batches import centered
from kgen.models.diffusion.molecule_batches import checked_atom_counts
from kgen.models.diffusion.molecule_batches import projected
from kgen.models.diffusion.sampling_plan import SamplingPlan
from kgen.models.diffusion.step_rules import get_step_rule
from kgen.models.generative_model import GenerativeModel
from kgen.schedulers import sampling_loop
from kgen.utils import batch_random
from kgen.utils import labelled_data
from kgen.utils import molecule_arrays
from kgen.utils import seeds
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_network_inputs
from kgen.utils.argument_validation import validate_optional_int
from kgen.utils.mixed_precision import to_float32


@keras.saving.register_keras_serializable(package="kgen")
class EquivariantDiffusion(GenerativeModel):
    """E(3)-equivariant diffusion of molecules in 3-D (EDM, Hoogeboom et
    al. 2022): Gaussian diffusion of each atom's coordinates and its
    one-hot type, denoised by an E(n)-equivariant graph network.

    A molecule of `N` atoms is `z = [x, h]`: positions `x` (N, 3) on the
    zero centre-of-mass subspace and types `h` (N, K) one-hot, scaled by
    `type_scale`. Training regresses the noise as `DiffusionModel` does,
    with the noise of the positions projected to that subspace and each
    molecule's error divided by its own `N (3 + K)` values (EDM divides by
    the padded size, which weighs large molecules more):

    ```
    z_t = sqrt(alpha_bar_t) z_0 + sqrt(1 - alpha_bar_t) eps
    eps = [P eps_x, eps_h],  P x = x - mean over the atoms of x
    loss = E sum_atoms |target(z_0, eps, t) - [P (x' - x_t), h']|^2
                / (N (3 + K))
    [h', x'] = egnn([h_t, t / T, condition], x_t, mask)
    ```

    The network moves positions along differences and reads distances
    only, so the learned density is invariant to rotations, reflections
    and translations and to the order of the atoms, and so is `sample`'s:
    the noise of every step is projected the same way. A sample's atom
    count is drawn from the training histogram (`atom_counts`) or given
    (`num_atoms`); its types are the argmax of `h` at the end.

    Conditioning on molecular properties (EDM's conditional model) goes
    through the one conditioning path: build the network with
    `condition_dim` more input features, train on `fit(molecules,
    properties)` and draw with `sample(n, condition=properties)`.
    Standardise the properties first; the network reads them as they
    are.

    Args:
        denoiser: `keras.Model` `[features, positions, atom_mask] ->
            [features, positions]` of a fixed atom count, e.g.
            `kgen.networks.egnn(num_atom_types + 1 + condition_dim,
            max_atoms=29)`; its features are the noisy types, the time
            `t / T` and the condition.
        num_atom_types: int, `K` (QM9: H, C, N, O, F).
        atom_counts: `None`, or `max_atoms + 1` non-negative counts: how
            many training molecules have each number of atoms (index 0,
            no atom, must be 0); what `sample` draws the atom counts
            from. `None`: `sample` needs `num_atoms`.
        condition_dim: `None` or an int, the properties conditioned on.
        scheduler: a `kgen.schedulers.DiffusionScheduler`, the forward
            process; defaults to a 1000-step cosine `DDPMScheduler`.
        type_scale: float > 0, the scale of the one-hot types against
            coordinates in angstroms (EDM's 0.25: types are decided late
            in sampling, after the geometry).
        seed: int or `None`.

    Example:

    ```python
    (molecules, _), _ = kgen.datasets.load("qm9")
    counts = np.bincount(
        molecules["atom_mask"].sum(axis=1), minlength=30
    ).tolist()
    model = kgen.models.EquivariantDiffusion(
        kgen.networks.egnn(features_dim=6, max_atoms=29),
        atom_counts=counts,
        seed=0,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-4))
    model.fit(molecules, batch_size=64, epochs=1)
    samples = model.sample(16, num_steps=500, seed=1)
    kgen.utils.write_sdf(
        "samples.sdf",
        kgen.metrics.molecules_from_arrays(
            samples["atom_types"], samples["positions"], samples["atom_mask"]
        ),
    )
    ```

    References:
        1. Hoogeboom, Satorras, Vignac & Welling. Equivariant Diffusion
           for Molecule Generation in 3D. ICML 2022. arXiv:2203.17003.
        2. Satorras, Hoogeboom & Welling. E(n) Equivariant Graph Neural
           Networks. ICML 2021. arXiv:2102.09844.
    """

    capabilities = ("sample", "elbo")
    # Molecules are dicts of arrays (`molecule_arrays.MOLECULE_KEYS`),
    # which `_prepare_data` checks and passes to `call` as they are, with
    # the properties (`fit`'s `y`) under "condition"; no data key is read.
    conditioning = Conditioning()

    def __init__(
        self,
        denoiser,
        num_atom_types=5,
        atom_counts=None,
        condition_dim=None,
        scheduler=None,
        type_scale=0.25,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        num_atom_types = validate_int(num_atom_types, "num_atom_types")
        condition_dim = validate_optional_int(condition_dim, "condition_dim")
        validate_network_inputs(
            denoiser, ["features", "positions", "atom_mask"], "denoiser"
        )
        features_dim = denoiser.inputs[0].shape[-1]
        max_atoms = denoiser.inputs[0].shape[1]
        expected = num_atom_types + 1 + (condition_dim or 0)
        if features_dim != expected:
            raise ValueError(
                f"The denoiser's features must be {expected} wide: "
                f"{num_atom_types} atom types (`num_atom_types`), the time "
                f"and {condition_dim or 0} conditions (`condition_dim`); "
                f"received {features_dim}."
            )
        if max_atoms is None:
            raise ValueError(
                "The denoiser must take a fixed number of atoms (build it "
                "with `max_atoms`), the length of a padded molecule."
            )
        if scheduler is None:
            scheduler = schedulers.DDPMScheduler(beta_schedule="cosine")
        if not isinstance(scheduler, schedulers.DiffusionScheduler):
            raise ValueError(
                "`scheduler` must be a kgen.schedulers.DiffusionScheduler; "
                f"received {type(scheduler).__name__}."
            )
        type_scale = validate_float(
            type_scale, "type_scale", minimum=0, exclusive_minimum=True
        )
        self.denoiser = denoiser
        self.num_atom_types = num_atom_types
        self.max_atoms = int(max_atoms)
        self.atom_counts = checked_atom_counts(atom_counts, self.max_atoms)
        self.condition_dim = condition_dim
        self.scheduler = scheduler
        self.type_scale = float(type_scale)
        if denoiser.built:
            self.built = True

    # === Shapes and data ===

    @property
    def data_shape(self):
        """Shapes of one molecule's arrays, by name."""
        return {
            "positions": (self.max_atoms, 3),
            "atom_types": (self.max_atoms,),
            "atom_mask": (self.max_atoms,),
        }

    @property
    def num_train_timesteps(self):
        return self.scheduler.num_train_timesteps

    # Coordinates in angstroms and scaled one-hot types: nothing to clip.
    sample_range = None

    def _validate_data(self, x, argument):
        # Datasets and generators are checked batch by batch as read.
        if isinstance(x, dict) or labelled_data.is_array(x):
            molecule_arrays.check_molecules(
                x, self.num_atom_types, self.max_atoms, argument
            )

    def _prepare_data(self, x, y, x_argument, y_argument):
        return molecule_batches.prepared(self, x, y, x_argument, y_argument)

    # === The diffused variable ===

    def _clean_state(self, molecules):
        """`z_0 = [x, type_scale * one_hot(types)]` of a batch, and its
        float32 atom mask."""
        atom_mask = ops.cast(molecules["atom_mask"], "float32")
        # A dataset's batch reaches here as read: whatever its padded
        # slots hold (NaN included) must not reach the sums of `centered`.
        positions = ops.where(
            ops.expand_dims(atom_mask, -1) > 0,
            ops.cast(molecules["positions"], "float32"),
            0.0,
        )
        positions = centered(positions, atom_mask)
        types = ops.one_hot(
            ops.cast(molecules["atom_types"], "int32"), self.num_atom_types
        )
        features = types * self.type_scale * ops.expand_dims(atom_mask, -1)
        return ops.concatenate([positions, features], axis=-1), atom_mask

    def _network_output(self, state, timesteps, atom_mask, condition, **call):
        """The denoiser's prediction at `z_t`, on the same space."""
        batch = ops.shape(state)[0]
        times = ops.cast(timesteps, "float32") / self.num_train_timesteps
        times = ops.broadcast_to(
            ops.reshape(times, (-1, 1, 1)), (batch, self.max_atoms, 1)
        )
        features = [state[..., 3:], times]
        if condition is not None:
            features.append(
                ops.broadcast_to(
                    condition[:, None, :],
                    (batch, self.max_atoms, self.condition_dim),
                )
            )
        features = ops.concatenate(features, axis=-1)
        positions = state[..., :3]
        inputs = [features, positions, atom_mask]
        if call.get("training") is None:
            outputs = backend.inference_call(self.denoiser, inputs)
        else:
            outputs = backend.call_network(
                self.denoiser, inputs, call["training"]
            )
        new_features, new_positions = (to_float32(o) for o in outputs)
        # The network moves the positions; the move is the prediction.
        prediction = ops.concatenate(
            [
                new_positions - positions,
                new_features[..., : self.num_atom_types],
            ],
            axis=-1,
        )
        return projected(prediction, atom_mask)

    # === Training ===

    def call(self, inputs, training=False):
        """One training draw: `{"prediction", "target", "atom_mask"}`."""
        state, atom_mask = self._clean_state(inputs)
        condition = inputs.get("condition")
        if condition is not None:
            condition = ops.cast(condition, "float32")
        batch = ops.shape(state)[0]
        timesteps = batch_random.randint(
            (batch,), 0, self.num_train_timesteps, self.seed_generator
        )
        noise = batch_random.normal(ops.shape(state), self.seed_generator)
        noise = projected(noise, atom_mask)
        noisy = self.scheduler.add_noise(state, noise, timesteps)
        prediction = self._network_output(
            noisy, timesteps, atom_mask, condition, training=training
        )
        target = self.scheduler.training_target(state, noise, timesteps)
        return {
            "prediction": prediction,
            "target": projected(target, atom_mask),
            "atom_mask": atom_mask,
        }

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        """The squared error over each molecule's atoms and coordinates,
        divided by its `N (3 + K)` values, averaged over molecules."""
        if y_pred is None:
            y_pred = self(x, training=training)
        squared = ops.sum(
            ops.square(y_pred["prediction"] - y_pred["target"]), axis=(1, 2)
        )
        atoms = ops.sum(y_pred["atom_mask"], axis=1)
        losses = squared / (atoms * (3 + self.num_atom_types))
        return training_steps.mean_over_examples(losses, sample_weight)

    # === Likelihood ===

    def elbo(self, x, *, condition=None, num_steps=None, seed=None):
        """EDM's variational lower bound `log p(x, h, N) >= -L` of each
        molecule, in nats:

        ```
        L = KL(q(z_{T-1} | z_0) || N(0, I))
            + sum_{t=1}^{T-1} E_q KL(q(z_{t-1} | z_t, z_0) || p(z_{t-1} | z_t))
            - E_q log p(x, h | z_0)  -  log p(N)
        ```

        on the molecule's own space: positions on the centred subspace of
        `3 (N - 1)` dimensions, types on `N K`. The decoder is a Gaussian
        of variance `beta_0` around the predicted positions (DDPM's
        decoder) and, for each atom's type, the mass of a Gaussian around
        its predicted one-hot value on `[1/2, 3/2]` normalised over the
        types (after EDM's categorical decoder, which centres it on the
        noisy types instead). `log p(N)` is read from `atom_counts`: a
        count no training molecule had is `-inf`; without `atom_counts`
        the bound is of the molecule given its atom count. The positions
        are a density in angstroms, so the bound can be positive. All of
        `x` goes through the network at once: pass a few hundred
        molecules at a time.

        Args:
            x: a dict of molecules (`kgen.datasets.load("qm9")`'s `x`).
            condition: `(n, condition_dim)` properties, for a model that
                conditions on them.
            num_steps: `None` (all `T - 1` KL terms, `T` network passes)
                or an int in `[1, T - 1]`: an unbiased estimate from that
                many uniformly drawn terms per molecule (the prior and
                decoder terms stay exact).
            seed: `None`, an int or a `keras.random.SeedGenerator`.

        Returns:
            float32 `(n,)`.
        """
        molecules = molecule_arrays.check_molecules(
            x, self.num_atom_types, self.max_atoms, "x"
        )
        count = len(molecules["positions"])
        condition = molecule_batches.checked_condition(self, condition, count)
        state, atom_mask = self._clean_state(molecules)

        def denoise(noisy, timesteps):
            return self._network_output(noisy, timesteps, atom_mask, condition)

        with backend.no_grad():
            bound = molecule_bound.negative_elbo(
                self,
                state,
                atom_mask,
                denoise,
                num_steps,
                public_inputs.seed_source(self, seed),
            )
        return -bound

    # === Sampling ===

    def sample(
        self,
        num_samples,
        *,
        seed=None,
        condition=None,
        num_atoms=None,
        num_steps=None,
        scheduler="ddpm",
    ):
        """Draws molecules by running the reverse diffusion from noise.

        1. The atom counts: `num_atoms`, or drawn from `atom_counts`.
        2. The start noise, centred and masked.
        3. The reverse diffusion on `scheduler`'s step rule, each step's
           result projected back to the centred, masked space.
        4. The types: the argmax of each atom's features.

        Args:
            num_samples: int.
            seed: `None`, an int or a `keras.random.SeedGenerator`.
            condition: the properties of each sample, `(num_samples,
                condition_dim)`; a model built with `condition_dim`
                needs them, any other refuses them.
            num_atoms: `None` (drawn from `atom_counts`), an int for all
                samples or one int per sample, in `[1, max_atoms]`.
            num_steps: int in `[1, T]`; defaults to `T`.
            scheduler: a step-rule name (`"ddpm"`, `"ddim"`, ...) or a
                `DiffusionScheduler` on the model's noise schedule.

        Returns:
            A dict of `"positions"` float32 `(num_samples, max_atoms, 3)`
            (angstroms, centred, zero where padded), `"atom_types"`
            int32 `(num_samples, max_atoms)` and `"atom_mask"` bool
            `(num_samples, max_atoms)`.
        """
        num_samples = public_inputs.check_num_samples(num_samples)
        seed = public_inputs.seed_source(self, seed)
        condition = molecule_batches.checked_condition(
            self, condition, num_samples
        )
        atom_mask = atom_mask_of(
            molecule_batches.sampled_atom_counts(
                self, num_atoms, num_samples, seed
            ),
            self.max_atoms,
        )
        rule = get_step_rule(scheduler, self.scheduler, None)
        if num_steps is None:
            num_steps = self.num_train_timesteps
        noise = batch_random.normal(
            (num_samples, self.max_atoms, 3 + self.num_atom_types), seed
        )
        # The one sampling pipeline: without gradients, compiled once
        # per plan (`SamplingPlan.draw`).
        plan = SamplingPlan(rule, rule.timesteps(num_steps))
        return plan.draw(
            self,
            reverse_diffusion_of_molecules,
            noise,
            atom_mask,
            condition,
            seeds.loop_seed(seed),
        )

    def _draw(self, rule, timesteps, noise, atom_mask, condition, step_noise):
        """The molecules of a reverse diffusion from `noise`, centred and
        masked first, each step's result put back on that space."""

        def denoise(state, timestep):
            batch = ops.shape(state)[0]
            steps = ops.full((batch,), timestep, "int32")
            return self._network_output(state, steps, atom_mask, condition)

        def after_step(state, timestep, step_seed):
            return projected(state, atom_mask)

        state = sampling_loop.reverse_diffusion(
            denoise,
            rule,
            projected(noise, atom_mask),
            timesteps,
            step_noise=step_noise,
            after_step=after_step,
        )
        return self._molecules(state, atom_mask)

    def _molecules(self, state, atom_mask):
        kept = atom_mask > 0.5
        types = ops.argmax(state[..., 3:], axis=-1)
        return {
            "positions": state[..., :3],
            "atom_types": ops.where(kept, ops.cast(types, "int32"), 0),
            "atom_mask": kept,
        }

    # === Export ===

    def serving_endpoints(self, scheduler="ddim", num_steps=50):
        """`sample`: `(noise (batch, max_atoms, 3 + K), num_atoms
        (batch,)[, condition]) -> {"positions", "atom_types",
        "atom_mask"}` by a deterministic DDIM run of `num_steps`; the
        mask is int32 (0 / 1) there."""
        rule = get_step_rule(scheduler, self.scheduler, None)
        timesteps = rule.timesteps(min(num_steps, self.num_train_timesteps))
        noise_spec = keras.InputSpec(
            shape=(None, self.max_atoms, 3 + self.num_atom_types),
            dtype="float32",
        )
        counts_spec = keras.InputSpec(shape=(None,), dtype="int32")

        def sample(noise, num_atoms, condition=None):
            # A served count outside [1, max_atoms] is clipped into it: a
            # traced signature has no error path.
            atom_mask = atom_mask_of(
                ops.clip(num_atoms, 1, self.max_atoms), self.max_atoms
            )
            molecules = self._draw(
                rule, timesteps, noise, atom_mask, condition, None
            )
            # Served outputs are float32 or int32, which every client
            # of TF Serving's JSON reads alike.
            molecules["atom_mask"] = ops.cast(molecules["atom_mask"], "int32")
            return molecules

        if self.condition_dim is None:
            return {"sample": (sample, [noise_spec, counts_spec])}
        condition_spec = keras.InputSpec(
            shape=(None, self.condition_dim), dtype="float32"
        )
        return {"sample": (sample, [noise_spec, counts_spec, condition_spec])}


def reverse_diffusion_of_molecules(
    model, plan, noise, atom_mask, condition, loop_seed
):
    """The solve of `EquivariantDiffusion.sample`'s `plan.draw`: the
    reverse diffusion of `plan` from `noise`, as molecules."""
    return model._draw(
        plan.scheduler, plan.points, noise, atom_mask, condition, loop_seed
    )
