"""`sample(n)` run at one of a few batch sizes where the backend keeps a
compiled program per shape.

On JAX every eager op and sampling loop is compiled for each new batch size
and the programs are kept, so calling `sample(n)` for many `n` grew memory
without bound (3.4 GB over `n = 1..200` for a DDPM). `batched_sample` runs
such a call at `kgen.backend.sample_batch_size(n)` rows, a bucket, and
returns the first `n`:

    sample(n) = sample(bucket(n))[:n]

This is exact, not an approximation, because

- every random draw of a model has the examples on its leading axis, and
  the backend's draws for a longer leading axis begin with the same
  numbers (JAX's partitionable threefry; the backend pads nothing where
  that does not hold);
- examples do not interact at sampling time (networks in inference mode);
- per-example arguments (`labels`, `condition`, `initial`, `prompts`) are
  padded by repeating their last row, and padded rows are dropped.

tests/models/test_sample_batching.py checks the equality on every class of
the contract harness. On TensorFlow and torch the bucket is `n` itself.
"""

import functools

import numpy as np
from keras import ops

from kgen import backend

# The `sample` arguments that hold one row per example.
PER_EXAMPLE_ARGUMENTS = (
    "labels",
    "condition",
    "initial",
    "prompts",
    "num_atoms",
)


def batched_sample(sample):
    """`sample(self, num_samples, **kwargs)` run at the backend's bucket
    for `num_samples`, with the model's `sample_defaults` for arguments
    left out, keeping its signature and docstring."""

    @functools.wraps(sample)
    def bucketed(self, num_samples, *args, **kwargs):
        kwargs = {**self.sample_defaults, **kwargs}
        batch_size = _batch_size(num_samples)
        if batch_size == num_samples:
            return sample(self, num_samples, *args, **kwargs)
        padded = dict(kwargs)
        for name in PER_EXAMPLE_ARGUMENTS:
            if name not in kwargs:
                continue
            value = _pad_rows(kwargs[name], num_samples, batch_size)
            if value is None:
                # A length other than `num_samples`: the unpadded call
                # reports it with the caller's own numbers.
                return sample(self, num_samples, *args, **kwargs)
            padded[name] = value
        outputs = sample(self, batch_size, *args, **padded)
        return _first_rows(outputs, num_samples)

    bucketed.batches_samples = True
    return bucketed


def _batch_size(num_samples):
    # Anything but a positive int is left to the model's own check, which
    # names the argument.
    if (
        isinstance(num_samples, bool)
        or not isinstance(num_samples, (int, np.integer))
        or num_samples < 1
    ):
        return num_samples
    return backend.sample_batch_size(int(num_samples))


def _pad_rows(value, num_samples, batch_size):
    """`value` with its last row repeated up to `batch_size` rows; `value`
    itself when it holds no rows (`None`, a string, a scalar); `None` when
    it has rows but not `num_samples` of them."""
    if value is None or isinstance(value, str):
        return value
    extra = batch_size - num_samples
    if isinstance(value, (list, tuple)):
        if len(value) != num_samples:
            return None
        return list(value) + [value[-1]] * extra
    shape = getattr(value, "shape", None)
    if shape is None or len(shape) == 0:
        return value
    if shape[0] != num_samples:
        return None
    if isinstance(value, np.ndarray):
        return np.concatenate([value, np.repeat(value[-1:], extra, axis=0)])
    return ops.concatenate([value, ops.repeat(value[-1:], extra, axis=0)])


def _first_rows(outputs, num_samples):
    if isinstance(outputs, dict):
        return {
            key: _first_rows(value, num_samples)
            for key, value in outputs.items()
        }
    if isinstance(outputs, tuple):
        return tuple(_first_rows(value, num_samples) for value in outputs)
    if outputs is None or isinstance(outputs, str):
        return outputs
    if isinstance(outputs, list) or (
        isinstance(outputs, np.ndarray) and outputs.ndim
    ):
        return outputs[:num_samples]
    if len(getattr(outputs, "shape", ())):
        return backend.first_rows(outputs, num_samples)
    return outputs
