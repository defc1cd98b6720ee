"""The XLA options JAX's training programs compile with on this host.

jaxlib 0.10 hands XLA's CPU convolutions to YNNPACK, whose convolution
gradients are slow on the x86-64 CPUs measured (one core each, the
benchmark U-Net's training, `benchmarks.denoiser_vs_diffusers`):

- an Intel Xeon (AVX-512, AMX), 2026-12-05: a 3x3 convolution of 64
  channels at 32 px, batch 32, forward and both gradients, 105 ms on
  YNNPACK against 62 on Eigen; the U-Net's training rounds 7.5 s against
  6.1;
- an AMD EPYC without AVX-512, 2026-12-07: the U-Net trained 29.2 images/s
  on YNNPACK and 34.7 on Eigen (0.83x and 1.15x diffusers' images/s);
- another AMD EPYC, 2026-12-05: within noise.

YNNPACK's forward convolutions ran 5% faster on the Intel Xeon (DDIM
sampling 10.7 against 10.1 images/s). So on x86-64 CPUs training programs
(and no others) compile with the convolutions on Eigen, YNNPACK keeping
its other fusions, unless the user's `XLA_FLAGS` name a YNN list of their
own; other CPUs, unmeasured, keep XLA's defaults. The option is
experimental, so it is set only for the jaxlib releases it was measured
with: XLA refuses an option it does not know.
"""

import importlib.metadata
import os
import re

from kgen.backend.host_cpus import cpu_is_x86

YNN_FUSION_OPTION = "xla_cpu_experimental_ynn_fusion_type"
# jaxlib 0.10.2's YNN fusions without `INDIVIDUAL_CONVOLUTION`.
YNN_FUSIONS_BUT_CONVOLUTIONS = (
    "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT,LIBRARY_FUSION_TYPE_REDUCE"
)
MEASURED_JAXLIB = ((0, 10, 2), (0, 11))


def training_compiler_options(platform):
    """`compiler_options` for a `jax.jit` training program on
    `platform` (JAX's backend name), or `None` for XLA's defaults."""
    if platform != "cpu" or not cpu_is_x86():
        return None
    if "ynn_fusion_type" in os.environ.get("XLA_FLAGS", ""):
        return None
    lowest, above = MEASURED_JAXLIB
    if not lowest <= _installed_release("jaxlib") < above:
        return None
    return {YNN_FUSION_OPTION: YNN_FUSIONS_BUT_CONVOLUTIONS}


def _installed_release(distribution):
    try:
        version = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return ()
    return tuple(int(number) for number in re.findall(r"\d+", version)[:3])
