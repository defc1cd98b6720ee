"""TensorFlow's CPU kernels: oneDNN's on every x86-64 CPU.

TensorFlow turns its oneDNN kernels (convolutions and their gradients,
products, fused activations) on by default only on CPUs with AVX-512
VNNI, BF16 or AMX; elsewhere its CPU ops run on Eigen. Measured on an AMD
EPYC without AVX-512, 2026-12-07, one core, the benchmark U-Net's
training (`benchmarks.denoiser_vs_diffusers`, TensorFlow 2.21): a `fit`
round of 10 steps at batch 32 took 10.3 s on Eigen (the convolutions'
filter gradients 44% of its profiled kernel time) and 8.5 s on oneDNN;
the card read 0.91x diffusers' images/s on Eigen and 1.11x on oneDNN.

TensorFlow reads its switch, `TF_ENABLE_ONEDNN_OPTS`, once, when it is
imported. So `kgen.backend` sets it before Keras imports TensorFlow, on
x86-64 CPUs, unless the process has set it itself; a process that
imported TensorFlow before kgen keeps what it got (setting
`TF_ENABLE_ONEDNN_OPTS=1` there asks for the same). Other CPUs,
unmeasured, keep TensorFlow's defaults.
"""

import os
import sys

from kgen.backend.host_cpus import cpu_is_x86

ONEDNN_SWITCH = "TF_ENABLE_ONEDNN_OPTS"


def prefer_onednn():
    """Asks TensorFlow, not imported yet, for its oneDNN kernels on an
    x86-64 CPU. Returns whether this call set the switch."""
    if "tensorflow" in sys.modules or ONEDNN_SWITCH in os.environ:
        return False
    if not cpu_is_x86():
        return False
    os.environ[ONEDNN_SWITCH] = "1"
    return True
