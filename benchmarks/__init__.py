"""kgen's benchmarks, one module each (`python -m benchmarks.NAME`).

kgen is imported before Keras in every benchmark process, as the `kgen`
command imports them, so that `kgen.backend` picks TensorFlow's CPU
kernels before Keras imports TensorFlow
(kgen/backend/tensorflow_kernels.py).
"""

import kgen  # noqa: F401
