"""SavedModel export in TF Serving's layout, written atomically."""

import functools
import os

from kgen import backend
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
    place, so a crash never leaves a half-written `path/<version>/`.

    Args:
        model: a built kgen `GenerativeModel`.
        path: str. Model base path; created if missing.
        version: int >= 1. TF Serving version folder.
        overwrite: bool. Replace an existing version instead of raising.
        endpoints: `None` for `model.serving_endpoints()`, or the dict a
            call of it with other arguments returns, e.g.
            `model.serving_endpoints(num_steps=50)`.

    Returns:
        The version folder's path.

    Raises:
        FileExistsError: the version exists and `overwrite` is False.
        NotImplementedError: on the torch backend (see the message).
    """
    version = validate_int(version, "version")
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
    elif not isinstance(endpoints, dict) or not endpoints:
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
    archive = backend.export_archive(model, endpoints)

    with atomic_directory(target) as staging:
        archive.write_out(staging, verbose=False)
    return target


def _float32_outputs(fn):
    @functools.wraps(fn)
    def endpoint(*args):
        return to_float32(fn(*args))

    return endpoint
