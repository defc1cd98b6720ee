"""Jacobian-vector products: `jvp` is JAX's; TensorFlow's and torch's
wrap it with one fix each (kgen/backend/tensorflow.py, torch.py).

Keras' `ops.jvp` is forward-mode differentiation on all three backends
(JAX's `jax.jvp`, TensorFlow's `tf.autodiff.ForwardAccumulator`, torch's
`torch.func.jvp`); what it returns stays differentiable in reverse mode
under `fit`, so a loss may train through the primal output while it
stops the gradient of the tangent (`MeanFlow`'s target). One pass gives
both, for about the cost of two forward passes.

`finite_difference_jvp` is the same product by a central difference, two
plain forward passes: the check that `jvp` agrees with its definition
(tests/backend/test_forward_mode.py), and the route for a function that
forward mode cannot trace (one that draws random numbers or assigns
state inside, which `torch.func.jvp` refuses).
"""

import contextlib

from keras import ops

_depth = 0


@contextlib.contextmanager
def scope():
    """Marks the calls made under `jvp` (nested ones too): attention
    takes a path forward mode can differentiate (torch's math kernel,
    no custom gradient on JAX and TensorFlow)."""
    global _depth
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1


def is_active():
    """Whether the call is being traced under `jvp`."""
    return _depth > 0


def jvp(function, primals, tangents):
    """`(function(*primals), J(primals) tangents)` by forward mode.

    Args:
        function: tensors -> a tensor (or a structure of tensors).
        primals: tuple of tensors, the point.
        tangents: tuple of tensors shaped like `primals`, the direction.

    Returns:
        `(outputs, output_tangents)`, shaped like `function`'s output.
    """
    with scope():
        return ops.jvp(function, tuple(primals), tuple(tangents))


def finite_difference_jvp(function, primals, tangents, epsilon=1e-3):
    """`J tangents` by a central difference,

    ```
    (f(x + epsilon v) - f(x - epsilon v)) / (2 epsilon)
    ```

    whose error is `O(epsilon**2)` in exact arithmetic (float32's
    rounding adds `O(ulp / epsilon)`), returned with `function(*primals)`
    as `jvp` returns it: three forward passes.
    """
    primals, tangents = tuple(primals), tuple(tangents)
    ahead = [p + epsilon * t for p, t in zip(primals, tangents)]
    behind = [p - epsilon * t for p, t in zip(primals, tangents)]
    difference = (function(*ahead) - function(*behind)) / (2.0 * epsilon)
    return function(*primals), difference
