"""Which XLA flags kgen adds for a JAX process, decided from versions and
the user's `XLA_FLAGS` alone: no JAX import, so a test can ask it too."""

import importlib.metadata
import re

# XLA's CPU convolutions through Eigen, not YNNPACK. jaxlib 0.10 gives
# YNNPACK the convolutions, dot products and reductions, and its
# convolutions lose to Eigen's in a U-Net's training step: 1,020-1,105 ->
# 824-890 ms a step (batch 32, 32x32, one core, runs interleaved;
# `benchmarks.denoiser_vs_diffusers` 0.615x -> 0.750x diffusers back to
# back), sampling within 4%. A YNN list the user set is kept. XLA (JAX's,
# and TensorFlow's when it compiles) aborts the process on a flag it does
# not know, and this one is experimental: it is added only from jaxlib
# 0.10.2 (measured) to 0.11 and, where TensorFlow is installed, 2.21 on
# (which compiles with it).
YNN_CONVOLUTIONS_OFF = (
    "--xla_cpu_experimental_ynn_fusion_type=-individual_convolution"
)


def with_convolutions_through_eigen(flags):
    """`flags` (an `XLA_FLAGS` value) with `YNN_CONVOLUTIONS_OFF` added,
    or `None` where it must not be: the user set a YNN list, or jaxlib
    or TensorFlow is a release it was not checked with."""
    if "ynn_fusion_type" in flags:
        return None
    jaxlib = _installed_release("jaxlib")
    if jaxlib is None or not (0, 10, 2) <= jaxlib < (0, 11):
        return None
    for name in ("tensorflow", "tensorflow-cpu"):
        tensorflow = _installed_release(name)
        if tensorflow is not None and tensorflow < (2, 21):
            return None
    return f"{flags} {YNN_CONVOLUTIONS_OFF}".strip()


def _installed_release(distribution):
    try:
        version = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
    return tuple(int(number) for number in re.findall(r"\d+", version)[:3])
