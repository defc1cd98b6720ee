"""What several `kgen` subcommands share: MODEL, how it is read, and
how a file is written."""

import contextlib
import os
import shutil

from kgen.presets import value_range_of  # noqa: F401  (the subcommands')

MODEL = "MODEL"
MODEL_HELP = (
    "a .keras file, a preset name (see `kgen presets`), a preset directory, "
    "or a preset's URL or hf://owner/repo handle (downloaded once)"
)


def open_model(path, watermarks=False):
    """The model of MODEL, the one way every command reads it: a `.keras`
    file, a preset name, a preset directory, or a preset's URL or `hf://`
    handle. A kgen generative model,
    or with `watermarks` also a trained `BitWatermark` or
    `StableSignature`."""
    import kgen

    if is_keras_file(path):
        model = kgen.models.load_model(path)
    else:
        model = kgen.presets.load_preset(path)
    kinds = (kgen.models.GenerativeModel,)
    if watermarks:
        kinds += (kgen.watermarks.BitWatermark, kgen.watermarks.StableSignature)
    if not isinstance(model, kinds):
        raise ValueError(
            f"MODEL {path} holds a {type(model).__name__}, not a kgen "
            "generative model"
            + (" or a trained watermark" if watermarks else "")
            + ": give a .keras file saved from one, or a preset that is "
            "one (see `kgen presets`)."
        )
    return model


def is_keras_file(path):
    return os.path.isfile(path) or path.endswith(".keras")


def preset_card(path):
    """The model card of a preset MODEL; `{}` for a `.keras` file or an
    architecture (`open_model` has refused any other MODEL already)."""
    import kgen

    if is_keras_file(path):
        return {}
    try:
        # An adapter's samples are of its base's kind, told by its card.
        directory = kgen.presets.loading.preset_directory(path)
        path = kgen.presets.loading.adapter_base(directory) or path
        return kgen.presets.preset_metadata(path)
    except kgen.presets.PresetError:
        return {}


def preset_tokenizer(path):
    """The tokenizer a preset MODEL ships with, else `None` (a `.keras`
    file keeps none)."""
    import kgen

    if is_keras_file(path) or not kgen.presets.has_tokenizer(path):
        return None
    return kgen.presets.load_tokenizer(path)


def to_numpy(x):
    import keras

    return keras.ops.convert_to_numpy(x)


@contextlib.contextmanager
def writing_atomically(path, option):
    """A temporary path that becomes `path` once written whole; a failed
    write (a full disk) leaves nothing and names the option and the
    space left."""
    from kgen.utils.atomic_file import atomic_file

    try:
        with atomic_file(path) as temporary:
            yield temporary
    except OSError as error:
        free = shutil.disk_usage(os.path.dirname(os.path.abspath(path))).free
        raise OSError(
            f"could not write {option} {path} ({error}); nothing was "
            f"written, {free:,} bytes are free on its disk."
        ) from error


def given(**options):
    """The options given on the command line (not `None`), so that an
    option left out keeps the library's default."""
    return {name: value for name, value in options.items() if value is not None}
