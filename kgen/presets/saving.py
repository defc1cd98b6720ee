"""Saving presets: config, weights, reference outputs, metadata, atomically.

A preset directory holds:

- `config.json`: `keras.saving.serialize_keras_object(model)` (class and
  constructor arguments, nested networks included; no optimizer);
- `model.weights.h5`: the model's weights (no optimizer state);
- `reference_samples.npy`: `model.sample(4, seed=0)` at save time, for a
  generative model (`reference_samples_<backend>.npy` for other backends,
  whose random streams differ), or `reference_inputs.npy` and
  `reference_outputs.npy` for another model with one fixed-shape input;
- `reference_noise.npz` and `reference_noise_outputs.npy`: for a
  generative model whose exported `sample` endpoint is a function of its
  start noise (a generator, a decoder, a flow, a deterministic DDIM run),
  fixed noise and that endpoint's outputs for it: every backend must
  reproduce them from the same noise (to float tolerance);
- `samples.png`: a grid of `model.sample(64, seed=0)` for an image model;
- `tokenizer.json`: the serialized tokenizer of a token model, when one
  is given (`kgen.presets.load_tokenizer` reads it);
- `metadata.json`: the model card (name, description, class, parameter
  count, data, training, metrics with the commands that measured them,
  versions) and `files`, the sha256 of every other file.
"""

import contextlib
import copy
import importlib
import json
import numbers
import os
import platform
import shutil

import keras
import numpy as np

from kgen.presets import loading
from kgen.presets import reference_check
from kgen.presets import registry
from kgen.utils.atomic_directory import atomic_directory
from kgen.utils.file_digest import sha256
from kgen.utils.preset_error import PresetError
from kgen.utils.sample_arrays import as_one_array
from kgen.version import __version__

FORMAT_VERSION = 1
# Metadata keys `save_to_preset` computes; a caller may not set them.
COMPUTED_KEYS = (
    "format_version",
    "model_class",
    "num_parameters",
    "reference",
    "versions",
    "weights_dtype",
    "files",
    "card_sha256",
)
REFERENCE_NUM_SAMPLES = 4
REFERENCE_SEED = 0
GRID_NUM_SAMPLES = 64


WEIGHTS_DTYPES = ("float32", "float16")


def save_to_preset(
    model,
    directory,
    metadata=None,
    overwrite=False,
    tokenizer=None,
    weights_dtype="float32",
):
    """Writes `model` as a preset directory that `load_preset` reads.

    The files are written to a staging folder beside `directory` and
    renamed into place at the end, so a failure never leaves a half-written
    preset. Before the rename the preset is loaded back and must reproduce
    the model's outputs.

    Args:
        model: `keras.Model` whose config round-trips (every kgen model,
            any Functional or registered model).
        directory: str or `os.PathLike`, the preset directory to write.
        metadata: dict or `None`, the model card: `name` (default the
            directory's name), `description`, `trained` (default: whether
            `training` is given), `data`, `training` (command, epochs,
            steps, hardware, wall time), `metrics` (`{name: {"value": ...,
            "command": ...}}`; a bare number is accepted), `headline_metrics`,
            `sample_arguments` (keyword arguments every `sample` call of the
            preset's checks, grid and `kgen generate` passes, such as a
            WaveNet's `length`), `reference_arguments` (overrides of those
            for the stored reference samples, where the defaults would take
            minutes to check on every backend), `reference_noise_samples`
            (how many examples of fixed noise the exported `sample`
            endpoint's reference holds: default 4, fewer where that
            endpoint's full sampler takes minutes a batch) and any other
            JSON-serializable keys. The keys in `COMPUTED_KEYS` are written
            by this function.
        overwrite: bool, replace an existing `directory`.
        tokenizer: `None` or the tokenizer that turns text into the
            model's token ids (a Keras-serializable object such as
            `kgen.tokenizers.CharacterTokenizer`), saved beside the model.
        weights_dtype: `"float32"` or `"float16"`: the precision the
            weights file stores its floating-point weights in (loading
            casts them back to the model's dtype). Half the size, at the
            cost of rounding every weight; the preset must still
            reproduce `model`, so round `model`'s weights to float16
            values first and measure its metrics after rounding.

    Returns:
        str, the absolute path of the preset directory.

    Raises:
        FileExistsError: `directory` exists and `overwrite` is false.
        ValueError: bad `model` or `metadata`.
        PresetError: the saved preset does not reproduce the model.

    Example:

    ```python
    vae.fit(x_train, epochs=50)
    kgen.presets.save_to_preset(
        vae, "presets/my_vae", {"description": "VAE on my images"}
    )
    vae = kgen.presets.load_preset("presets/my_vae")
    ```
    """
    if not isinstance(model, keras.Model):
        raise ValueError(
            f"`model` must be a keras.Model; received {type(model).__name__}."
        )
    card = _card(metadata, directory)
    if weights_dtype not in WEIGHTS_DTYPES:
        raise ValueError(
            f"`weights_dtype` must be one of {WEIGHTS_DTYPES}; received "
            f"{weights_dtype!r}."
        )
    if tokenizer is not None and not callable(
        getattr(tokenizer, "get_config", None)
    ):
        raise ValueError(
            "`tokenizer` must be None or a Keras-serializable tokenizer "
            f"(with get_config); received {type(tokenizer).__name__}."
        )
    with _staging(directory, overwrite) as staging:
        if tokenizer is not None:
            _write_json(
                os.path.join(staging, registry.TOKENIZER),
                keras.saving.serialize_keras_object(tokenizer),
            )
        config = keras.saving.serialize_keras_object(model)
        config.pop("compile_config", None)
        _write_json(os.path.join(staging, registry.CONFIG), config)
        # An uncompiled copy, so the weights file holds no optimizer state.
        bare = keras.saving.deserialize_keras_object(copy.deepcopy(config))
        bare.set_weights(model.get_weights())
        weights_path = os.path.join(staging, registry.WEIGHTS)
        bare.save_weights(weights_path)
        if weights_dtype != "float32":
            _store_floats_as(weights_path, weights_dtype)
        loaded = loading.rebuild(staging, config)
        arguments = card.get("sample_arguments", {})
        card["reference"] = _write_reference(
            model,
            loaded,
            staging,
            {**arguments, **card.get("reference_arguments", {})},
            card.get("reference_noise_samples", REFERENCE_NUM_SAMPLES),
        )
        _write_grid(loaded, staging, arguments, card.get("data", {}))
        card.update(
            format_version=FORMAT_VERSION,
            model_class=config["class_name"],
            num_parameters=int(loaded.count_params()),
            versions=_versions(),
            weights_dtype=weights_dtype,
        )
        _write_metadata(staging, card)
    return os.path.abspath(directory)


def add_backend_reference(directory):
    """Adds this backend's reference samples to a preset directory.

    Random streams differ between backends, so a generative preset keeps
    `sample(4, seed=0)` per backend. Run under each backend after
    `save_to_preset` (`recipes/update_presets.py` does). The directory is
    rewritten atomically; a preset without sample references is left as it
    is.

    Args:
        directory: str, a preset directory (or a shipped preset's name).

    Returns:
        str, the name of the reference file for this backend, or `None`.

    Raises:
        PresetError: the preset does not verify (see `load_preset`).
    """
    directory = registry.resolve(directory)
    model = loading.load_preset(directory)
    metadata = registry.read_metadata(directory)
    reference = metadata.get("reference")
    if not reference or reference["method"] != "sample":
        return None
    backend = keras.backend.backend()
    filename = reference["outputs"].get(
        backend, f"reference_samples_{backend}.npy"
    )
    samples = model.sample(
        reference["num_samples"],
        seed=reference["seed"],
        **reference.get("arguments", {}),
    )
    with _staging(directory, overwrite=True) as staging:
        for name in metadata["files"]:
            shutil.copy2(os.path.join(directory, name), staging)
        _save_array(os.path.join(staging, filename), samples)
        reference["outputs"][backend] = filename
        _write_metadata(staging, metadata)
    return filename


# === Metadata ===


def _card(metadata, directory):
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise ValueError(
            "`metadata` must be a dict or None; received "
            f"{type(metadata).__name__}."
        )
    computed = sorted(set(metadata) & set(COMPUTED_KEYS))
    if computed:
        raise ValueError(
            f"`metadata` keys {computed} are written by save_to_preset; "
            "remove them."
        )
    card = json.loads(json.dumps(metadata, default=_json_default))
    card.setdefault("name", os.path.basename(os.path.abspath(directory)))
    card.setdefault("description", "")
    card.setdefault("trained", bool(card.get("training")))
    for key in ("sample_arguments", "reference_arguments"):
        if not isinstance(card.get(key, {}), dict):
            raise ValueError(
                f"`metadata['{key}']` must be a dict of keyword arguments "
                f"of `sample`; received {card[key]!r}."
            )
    noise_samples = card.get("reference_noise_samples", REFERENCE_NUM_SAMPLES)
    if (
        not isinstance(noise_samples, int)
        or isinstance(noise_samples, bool)
        or not 1 <= noise_samples <= REFERENCE_NUM_SAMPLES
    ):
        raise ValueError(
            "`metadata['reference_noise_samples']` must be an int from 1 to "
            f"{REFERENCE_NUM_SAMPLES}; received {noise_samples!r}."
        )
    metrics = card.setdefault("metrics", {})
    if not isinstance(metrics, dict):
        raise ValueError(
            "`metadata['metrics']` must be a dict {name: {'value': ..., "
            f"'command': ...}}; received {metrics!r}."
        )
    for name, value in metrics.items():
        if isinstance(value, numbers.Number):
            metrics[name] = {"value": value}
        elif not isinstance(value, dict) or "value" not in value:
            raise ValueError(
                f"`metadata['metrics'][{name!r}]` must be a number or a dict "
                f"with a 'value' (and the 'command' that measured it); "
                f"received {value!r}."
            )
    return card


def _versions():
    backend = keras.backend.backend()
    versions = {
        "kgen": __version__,
        "keras": keras.__version__,
        "backend": backend,
        "python": platform.python_version(),
    }
    with contextlib.suppress(ImportError, AttributeError):
        versions[backend] = importlib.import_module(backend).__version__
    return versions


def _write_metadata(staging, card):
    card["files"] = {
        name: sha256(os.path.join(staging, name))
        for name in sorted(os.listdir(staging))
        if name != registry.METADATA
    }
    # Round-tripped through JSON first: the digest is of what is stored.
    card = json.loads(json.dumps(card, default=_json_default))
    card["card_sha256"] = registry.card_digest(card)
    _write_json(os.path.join(staging, registry.METADATA), card)


def _write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, sort_keys=True, default=_json_default)
        f.write("\n")


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(
        f"{type(value).__name__} is not JSON-serializable: {value!r}"
    )


# === Reference outputs ===


def _store_floats_as(weights_path, dtype):
    """Rewrites a Keras weights file with its float32 arrays in `dtype`
    (into a new file: HDF5 does not give back a deleted array's space)."""
    import h5py

    def copy_group(source, target):
        target.attrs.update(source.attrs)
        for key, item in source.items():
            if isinstance(item, h5py.Group):
                copy_group(item, target.create_group(key))
                continue
            values = item[()]
            if item.dtype == np.float32:
                values = values.astype(dtype)
            target.create_dataset(key, data=values)
            target[key].attrs.update(item.attrs)

    converted = weights_path + ".converting"
    with h5py.File(weights_path, "r") as source:
        with h5py.File(converted, "w") as target:
            copy_group(source, target)
    os.replace(converted, weights_path)


def _write_reference(model, loaded, staging, sample_arguments, noise_samples):
    """Writes the outputs `check_preset` compares with (`noise_samples`
    examples of fixed noise through the exported `sample` endpoint);
    returns the metadata entry, or `None` for a model without a fixed
    input."""
    from kgen.models import GenerativeModel

    backend = keras.backend.backend()
    if isinstance(model, GenerativeModel):
        arguments = dict(num_samples=REFERENCE_NUM_SAMPLES, seed=REFERENCE_SEED)
        expected = _numpy(model.sample(**arguments, **sample_arguments))
        actual = _numpy(loaded.sample(**arguments, **sample_arguments))
        _check_reproduced(expected, actual)
        _save_array(os.path.join(staging, "reference_samples.npy"), actual)
        reference = dict(
            method="sample",
            outputs={backend: "reference_samples.npy"},
            **arguments,
        )
        if sample_arguments:
            reference["arguments"] = sample_arguments
        noise_inputs = reference_check.noise_reference_inputs(
            loaded, noise_samples
        )
        if noise_inputs is not None:
            expected = _numpy(
                reference_check.run_sample_endpoint(model, noise_inputs)
            )
            actual = _numpy(
                reference_check.run_sample_endpoint(loaded, noise_inputs)
            )
            _check_reproduced(expected, actual)
            np.savez(
                os.path.join(staging, "reference_noise.npz"), *noise_inputs
            )
            _save_array(
                os.path.join(staging, "reference_noise_outputs.npy"), actual
            )
            reference["noise"] = dict(
                endpoint="sample",
                inputs="reference_noise.npz",
                outputs="reference_noise_outputs.npy",
                backend=backend,
            )
        return reference
    shape = _input_shape(model)
    if shape is None:
        return None
    rng = np.random.default_rng(REFERENCE_SEED)
    inputs = rng.uniform(size=(REFERENCE_NUM_SAMPLES,) + shape)
    inputs = inputs.astype("float32")
    expected = _numpy(model(inputs, training=False))
    actual = _numpy(loaded(inputs, training=False))
    _check_reproduced(expected, actual)
    _save_array(os.path.join(staging, "reference_inputs.npy"), inputs)
    _save_array(os.path.join(staging, "reference_outputs.npy"), actual)
    return dict(
        method="call",
        inputs="reference_inputs.npy",
        outputs={backend: "reference_outputs.npy"},
    )


def _input_shape(model):
    """The one input's shape without the batch axis, if fully known."""
    inputs = getattr(model, "inputs", None)
    if not inputs or len(inputs) != 1:
        return None
    shape = tuple(inputs[0].shape[1:])
    if any(size is None for size in shape):
        return None
    return shape


def _check_reproduced(expected, actual):
    if expected.shape != actual.shape or not np.allclose(
        expected, actual, rtol=1e-5, atol=1e-5
    ):
        raise PresetError(
            "The preset, loaded back, does not reproduce the model's "
            "outputs: some state of the model is neither in its config nor "
            "in its weights."
        )


def _write_grid(model, staging, sample_arguments, data):
    """`samples.png`: a grid of the model's samples, for images or for
    samples its card's `data` gives an `image_shape` (an RBM's vectors, a
    PixelCNN's grids without a channel axis)."""
    from kgen.models import GenerativeModel
    from kgen.utils import save_image_grid

    if not isinstance(model, GenerativeModel):
        return
    if isinstance(model.data_shape, dict):
        return  # molecules, which `kgen generate --out mols.png` draws
    shape = tuple(data.get("image_shape") or model.data_shape)
    if len(shape) != 3 or shape[-1] not in (1, 3):
        return
    arguments = dict(sample_arguments)
    num_samples, num_columns = GRID_NUM_SAMPLES, None
    if model.samples_by_class and "labels" not in arguments:
        # A class per column, as `kgen generate --labels` draws them: some
        # models' unconditional samples are not what they are for (a
        # JEM's marginal chains mix far more slowly than its class ones).
        num_columns = model.num_classes
        num_samples = max(num_samples // num_columns, 1) * num_columns
        arguments["labels"] = np.arange(num_samples) % num_columns
    samples = model.sample(num_samples, seed=REFERENCE_SEED, **arguments)
    save_image_grid(
        _numpy(samples).reshape((-1, *shape)),
        os.path.join(staging, "samples.png"),
        # A GAN built from any generator does not know its output range;
        # its card's data section says it.
        value_range=model.data_range or data.get("value_range") or (0.0, 1.0),
        num_columns=num_columns,
    )


def _numpy(x):
    return as_one_array(x)


def _save_array(path, x):
    np.save(path, _numpy(x), allow_pickle=False)


# === Atomic writes ===


@contextlib.contextmanager
def _staging(directory, overwrite):
    """Yields an empty staging folder beside `directory`; renames it to
    `directory` when the block succeeds, removes it when it fails."""
    if not isinstance(directory, (str, os.PathLike)):
        raise ValueError(
            "`directory` must be a path (str or os.PathLike); received "
            f"{directory!r}."
        )
    directory = os.path.abspath(os.fspath(directory))
    if os.path.exists(directory):
        if not os.path.isdir(directory):
            raise FileExistsError(f"{directory} exists and is not a folder.")
        if not overwrite:
            raise FileExistsError(
                f"{directory} exists; pass overwrite=True to replace it."
            )
    with atomic_directory(directory) as staging:
        yield staging
