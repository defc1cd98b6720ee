"""SavedModel export in TF Serving's layout, written atomically."""

import functools
import inspect
import os

from kgen import backend
from kgen.models.generative_model import GenerativeModel
from kgen.utils.argument_validation import validate_bool
from kgen.utils.argument_validation import validate_int
from kgen.utils.atomic_directory import atomic_directory
from kgen.utils.mixed_precision import to_float32


def export_saved_model(model, path, version=1, overwrite=False, endpoints=None):
    """Exports a model's serving endpoints as `path/<version>/`.

    One XLA-compiled endpoint per capability of the model (its
    `serving_endpoints()`, or `endpoints`): `sample` (noise in, samples
    out) for every family, plus `encode` and `decode` for autoencoders.
    The folder is a plain SavedModel: TensorFlow loads it without kgen or
    Keras, and TF Serving serves `path` as a model base path.

    The version is written to a temporary folder beside it and renamed into
    place, so a crash never leaves a half-written `path/<version>/`. It
    stores no gradients: a loaded export serves, and cannot be
    differentiated (`tf.GradientTape` raises `LookupError`).

    Args:
        model: a built kgen `GenerativeModel`.
        path: str or `os.PathLike`. Model base path; created if missing.
        version: int >= 1. TF Serving version folder.
        overwrite: bool. Replace an existing version instead of raising.
        endpoints: `None` for `model.serving_endpoints()`, or the dict a
            call of it with other arguments returns, e.g.
            `model.serving_endpoints(num_steps=50)`.

    Returns:
        The version folder's path.

    Raises:
        ValueError: naming the argument that is not as described above.
        FileExistsError: the version exists and `overwrite` is False.
        NotImplementedError: on the torch backend (see the message).
    """
    if not isinstance(model, GenerativeModel):
        raise ValueError(
            "`model` must be a kgen generative model (a "
            f"`kgen.models.GenerativeModel`); received {model!r}."
        )
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(
            f"`path` must be a folder path (str or os.PathLike); received "
            f"{path!r}."
        )
    version = validate_int(version, "version")
    overwrite = validate_bool(overwrite, "overwrite")
    if not model.built:
        raise ValueError(
            "Build or fit the model before exporting it: its weights do not "
            "exist yet."
        )
    target = os.path.join(os.fspath(path), str(version))
    if os.path.exists(target) and not overwrite:
        raise FileExistsError(
            f"{target} exists; pass overwrite=True or a new version."
        )
    if endpoints is None:
        endpoints = model.serving_endpoints()
    elif not _is_endpoints(endpoints):
        raise ValueError(
            "`endpoints` must be a non-empty dict {name: (fn, input_specs)}"
            f" as `model.serving_endpoints(...)` returns; received "
            f"{endpoints!r}."
        )
    # Served outputs are float32 whatever the dtype policy the networks
    # compute in (kgen.utils.mixed_precision).
    endpoints = {
        name: (_float32_outputs(fn), specs)
        for name, (fn, specs) in endpoints.items()
    }
    archive, functions = backend.export_archive(model, endpoints)
    _add_text_endpoints(model, archive, functions, endpoints)

    import tensorflow as tf

    # A served endpoint is never differentiated: by default TensorFlow
    # traces and stores the gradient of every `tf.custom_gradient` op (the
    # U-Net's, jax2tf's around each JAX endpoint), about a sixth of an
    # export's time.
    options = tf.saved_model.SaveOptions(experimental_custom_gradients=False)
    base = os.path.abspath(os.fspath(path))
    created_base = not os.path.exists(base)
    try:
        with atomic_directory(target) as staging:
            archive.write_out(staging, options=options, verbose=False)
    except Exception as error:
        if created_base and os.path.isdir(base) and not os.listdir(base):
            os.rmdir(base)  # a failed export leaves no empty folder
        if isinstance(error, OSError):
            raise
        # TensorFlow reports a full disk or a refused write as its own
        # error types (`ResourceExhaustedError`, `PermissionDeniedError`):
        # an OSError here, as any other failed write is.
        if type(error).__name__.endswith(
            ("ResourceExhaustedError", "PermissionDeniedError", "UnknownError")
        ) or "No space left" in str(error):
            raise OSError(
                f"could not write the SavedModel to {target}: "
                f"{type(error).__name__}: {str(error).splitlines()[0]}"
            ) from error
        raise
    return target


def _add_text_endpoints(model, archive, functions, endpoints):
    """Adds `model.text_endpoints`: each takes `prompts`, a `(batch,)`
    string tensor, in place of its source endpoint's token ids (the last
    input), and tokenizes them in TensorFlow ops.

    The tokenizer's lookup table is a TensorFlow resource that XLA cannot
    compile, so the tokenizing graph is a plain `tf.function` around the
    XLA-compiled source endpoint (Keras' documented way to put
    preprocessing before a model in an `ExportArchive`); the same graph
    serves from the TensorFlow and the JAX backend.
    """
    text_endpoints = getattr(model, "text_endpoints", None)
    # A tokenizer with no TensorFlow twin (CLIP's BPE) serves token ids
    # only.
    if text_endpoints is None or not hasattr(model.tokenizer, "tf_tokenize"):
        return
    import tensorflow as tf

    tokenizer = model.tokenizer
    for name, source in text_endpoints.items():
        if source not in functions:
            continue
        function = functions[source]
        # The source's own argument names ("noise"), but for the ids.
        names = list(inspect.signature(endpoints[source][0]).parameters)
        specs = [
            tf.TensorSpec(spec.shape, spec.dtype, name=name)
            for spec, name in zip(function.input_signature[:-1], names)
        ]
        specs.append(tf.TensorSpec((None,), tf.string, name="prompts"))
        text_function = tf.function(
            _with_prompts(function, tokenizer.tf_tokenize),
            input_signature=specs,
        )
        text_function.get_concrete_function()
        archive.track(tokenizer.tf_lookup_table())
        archive.add_endpoint(name, text_function)


def _with_prompts(function, tokenize):
    def with_prompts(*args):
        *others, prompts = args
        return function(*others, tokenize(prompts))

    return with_prompts


def _is_endpoints(endpoints):
    return (
        isinstance(endpoints, dict)
        and bool(endpoints)
        and all(
            isinstance(name, str)
            and isinstance(endpoint, (tuple, list))
            and len(endpoint) == 2
            and callable(endpoint[0])
            and isinstance(endpoint[1], (tuple, list))
            for name, endpoint in endpoints.items()
        )
    )


def _float32_outputs(fn):
    @functools.wraps(fn)
    def endpoint(*args):
        return to_float32(fn(*args))

    return endpoint
