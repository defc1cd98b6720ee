import json
import os

import keras

from kgen import backend
from kgen.models.data_path import DataPath
from kgen.models.sample_batching import batched_sample
from kgen.models.seed_state import SeedState
from kgen.models.training_steps import TrainingSteps
from kgen.utils import preset_hooks
from kgen.utils import recorded_config
from kgen.utils import seeds
from kgen.utils.recorded_config import RecordedConfig


class GenerativeModel(
    RecordedConfig,
    DataPath,
    TrainingSteps,
    SeedState,
    backend.Trainer,
    keras.Model,
):
    """Base class of every kgen model: the contract.

    What the contract needs lives beside it, one concern per module, as
    Keras keeps its `Trainer` apart from `keras.Model`: the data path of
    `fit` and `evaluate` (`data_path.py`), what training steps stand on
    (`training_steps.py`) and the saved seed states (`seed_state.py`),
    each a small mixin over plain functions of the model; the checks of
    public methods are functions only (`public_inputs.py`).
    What a class can do is declared in `capabilities`
    (`kgen.models.contract`).

    The contract every model keeps:

    - `sample(num_samples, *, seed=None, labels=None, ...)`: everything
      after `num_samples` is keyword-only, with one name per meaning across
      families (`num_steps`, `temperature`, `guidance_scale`, `scheduler`,
      `length`, `condition`, `watermark`); paired models add
      `translate(x, *, seed)`, latent models `encode` / `decode`,
      likelihood models `log_prob`, token models `generate(prompt,
      max_new_tokens, *, sampler, seed)`, models with a deterministic
      sampler `invert(samples, *, num_steps, labels)`.
    - `seed=` is `None` (the model's `seed_generator`), any integer (a fresh
      `SeedGenerator` from it) or a `keras.random.SeedGenerator`; the rule
      lives in `kgen.utils.seeds` and nowhere else.
    - `from_preset(name_or_directory)` / `save_to_preset(directory)`.
    - Conditioning: a model built with `num_classes` trains on
      `fit(x, labels)`, `validation_data=(x_val, labels_val)` or a dataset
      / generator / `PyDataset` of `(x, labels)` batches, all through one
      path (`_prepare_data`, routed by the class's `conditioning`); an
      unconditional one refuses labels. A model
      with a `condition_shape` (condition maps) takes its condition
      tensors the same way, in place of the labels.
    - `fit` and `evaluate` check the training data before the first step
      (`ValueError` for the wrong rank, shape, dtype or non-finite values);
      every public method taking examples or codes (`encode`, `decode`,
      `log_prob`, `translate`...) checks them the same way, naming its
      own argument. A model that takes no labels or targets refuses a `y`.

    Args:
        seed: int or `None`. Seeds `self.seed_generator`, which every random
            draw of the model uses.
    """

    # What it can do, by `kgen.models.contract`'s names.
    capabilities = ("sample",)

    def __init__(self, seed=None, **kwargs):
        # Under a mixed dtype policy only the networks compute in half
        # precision; the model's own math (losses, log-densities,
        # schedules, chains) is float32 (kgen.utils.mixed_precision), so
        # the model itself is a float32 layer: it neither casts its inputs
        # down nor reads its variables through a half-precision autocast.
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.seed = seeds.validate_model_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def __init_subclass__(cls, **kwargs):
        # Every family's `sample`, however it is inherited, runs at the
        # backend's batch sizes (kgen/models/sample_batching.py).
        super().__init_subclass__(**kwargs)
        if not getattr(cls.sample, "batches_samples", False):
            cls.sample = batched_sample(cls.sample)

    # === Subclass interface ===

    @property
    def data_shape(self):
        """Shape of one training example, e.g. `(8, 8, 1)`."""
        raise NotImplementedError

    @property
    def data_range(self):
        """`(low, high)` the training data must lie in, or `None`."""
        return None

    def sample(self, num_samples, *, seed=None, labels=None):
        """Draws `num_samples` new examples.

        Args:
            num_samples: int.
            seed: int for reproducible samples, or `None` to advance the
                model's own `seed_generator`.
        """
        raise NotImplementedError

    def serving_endpoints(self):
        """`{name: (fn, input_signature)}` for `kgen.export`."""
        raise NotImplementedError

    @property
    def sample_defaults(self):
        """`dict` of the arguments `sample` takes when a call leaves them
        out: a preset's card `sample_arguments` (a WaveNet's `length`, a
        diffusion preset's scheduler and steps), so `sample(n)` alone
        draws what the card measured; an argument given still wins. Saved
        with the model (`.keras` files and presets alike), so a model
        samples the same however it was loaded."""
        return json.loads(self.__dict__.get("_sample_defaults", "{}"))

    @sample_defaults.setter
    def sample_defaults(self, arguments):
        from kgen.models import contract

        contract.check_sample_arguments(self, arguments, "sample_defaults")
        # Kept as JSON: a plain value Keras' attribute tracking leaves
        # alone, and what the `.keras` file stores.
        self.__dict__["_sample_defaults"] = json.dumps(arguments)

    _SAMPLE_DEFAULTS_FILE = "sample_defaults.json"

    def save_assets(self, dir_path):
        defaults = self.__dict__.get("_sample_defaults")
        if defaults is not None:
            path = os.path.join(dir_path, self._SAMPLE_DEFAULTS_FILE)
            with open(path, "w") as file:
                file.write(defaults)

    def load_assets(self, dir_path):
        path = os.path.join(dir_path, self._SAMPLE_DEFAULTS_FILE)
        if os.path.isfile(path):  # files saved before hold none
            with open(path) as file:
                self.sample_defaults = json.load(file)

    @property
    def samples_by_class(self):
        """Whether `sample(labels=...)` draws given classes: a
        class-conditional model, or (a VQ-VAE) one whose prior is."""
        return self.is_class_conditional

    # === Serialization ===

    def get_config(self):
        """The constructor's arguments as `RecordedConfig` keeps them
        (`kgen.utils.recorded_config`), with the networks and seed the
        model holds now."""
        config = super().get_config()
        for name in recorded_config.recorded(self):
            # A network may be attached or replaced after construction (a
            # VQ-VAE's prior, a distilled model's teacher): the one the
            # model holds now is the one to save.
            current = getattr(self, name, None)
            if isinstance(current, keras.layers.Layer):
                config[name] = keras.saving.serialize_keras_object(current)
        # A seed of `None` was drawn at construction; the config keeps the
        # draw, so a reloaded model continues the same stream.
        config["seed"] = self.seed
        return config

    # === Presets ===

    @classmethod
    def from_preset(cls, name_or_directory):
        """Loads a preset: a name from `kgen.presets.list_presets()` (shipped
        inside the package, loads offline) or a preset directory.

        Every file's sha256 is checked before anything is deserialized, and
        the preset must hold a `cls`.

        Example:

        ```python
        gan = kgen.models.DCGAN.from_preset("dcgan_digits")
        images = gan.sample(16, seed=0)
        ```
        """
        # `kgen.presets` sits above the models and registers this.
        return preset_hooks.get("from_preset")(cls, name_or_directory)

    def save_to_preset(self, directory, metadata=None, overwrite=False):
        """Writes this model as a preset directory (config, weights,
        reference samples and a model card with every file's sha256),
        atomically; see `kgen.presets.save_to_preset`."""
        return preset_hooks.get("save_to_preset")(
            self, directory, metadata=metadata, overwrite=overwrite
        )
