"""kgen: deep generative models for Keras 3 on TensorFlow, JAX and PyTorch."""

import os
import sys
import tempfile


def _import_backend(quiet):
    """Imports `kgen.backend`, and Keras (and TensorFlow) with it, without
    TensorFlow's start-up chatter when `quiet`. `kgen.backend` picks
    TensorFlow's CPU kernels before Keras imports it
    (kgen/backend/tensorflow_kernels.py).

    TensorFlow's C++ runtime prints oneDNN and CUDA notices to file
    descriptor 2 before its log level applies (`TF_CPP_MIN_LOG_LEVEL` does
    not hide them in TF 2.21). A quiet import captures them and replays
    them only if the import fails. Redirecting a process's fd 2 is not a
    library's call to make, so only the `kgen` command, or a process that
    sets `KGEN_QUIET_IMPORT=1`, asks for it.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if not quiet or "keras" in sys.modules:
        import kgen.backend  # noqa: F401

        return
    sys.stderr.flush()
    saved_fd = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import kgen.backend  # noqa: F401
        except BaseException:
            os.dup2(saved_fd, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)


_import_backend(
    quiet=os.environ.get("KGEN_QUIET_IMPORT") == "1"
    # The `kgen` console script; `python -m kgen` (argv[0] is "-m" while
    # the package is being located).
    or (sys.argv[0] if sys.argv else "") == "-m"
    or os.path.basename(sys.argv[0] if sys.argv else "") == "kgen"
)

from kgen import augmentation  # noqa: E402
from kgen import backend  # noqa: E402
from kgen import bijectors  # noqa: E402
from kgen import callbacks  # noqa: E402
from kgen import datasets  # noqa: E402
from kgen import detection  # noqa: E402
from kgen import distribute  # noqa: E402
from kgen import distributions  # noqa: E402
from kgen import export  # noqa: E402
from kgen import layers  # noqa: E402
from kgen import lora  # noqa: E402
from kgen import losses  # noqa: E402
from kgen import metrics  # noqa: E402
from kgen import models  # noqa: E402
from kgen import networks  # noqa: E402
from kgen import presets  # noqa: E402
from kgen import privacy  # noqa: E402
from kgen import samplers  # noqa: E402
from kgen import schedulers  # noqa: E402
from kgen import style  # noqa: E402
from kgen import tokenizers  # noqa: E402
from kgen import utils  # noqa: E402
from kgen import watermarks  # noqa: E402
from kgen.version import __version__  # noqa: E402

__all__ = [
    "__version__",
    "augmentation",
    "backend",
    "bijectors",
    "callbacks",
    "datasets",
    "detection",
    "distribute",
    "distributions",
    "export",
    "layers",
    "lora",
    "losses",
    "metrics",
    "models",
    "networks",
    "presets",
    "privacy",
    "samplers",
    "schedulers",
    "style",
    "tokenizers",
    "utils",
    "watermarks",
]
