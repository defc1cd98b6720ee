"""Random draws with one row per example of the batch.

`normal`, `uniform`, `randint` and `dropout` are `keras.random`'s, for
shapes whose `axis` (the first, unless said) runs over the batch: the
training noise of every family, its timesteps, masks and dropout. They
give each example the numbers it gets on one device when the step runs
data-parallel (see `kgen.backend.draw_for_replica`); elsewhere they are
`keras.random`'s draws; `stratified_uniform` spreads one draw over the
global batch (masked diffusion's times). Draws not tied to the examples
(a codebook restart, a `(2,)` loop seed) stay on `keras.random`; rows
that every replica holds whole (an RBM's persistent chains) are drawn
inside `shared_across_replicas()`.
"""

import contextlib
import threading

import keras
from keras import ops

from kgen import backend

_STATE = threading.local()


@contextlib.contextmanager
def _setting(name, value):
    previous = getattr(_STATE, name, None)
    setattr(_STATE, name, value)
    try:
        yield
    finally:
        setattr(_STATE, name, previous)


def shared_across_replicas():
    """Draws in this context are the same on every replica: for rows that
    are not the batch's examples but which every replica holds whole."""
    return _setting("shared", True)


def rows_found_before_loop(batch_size):
    """Draws in this context take this replica's rows of a `batch_size`
    batch from one search made on entry: a loop body (`ops.fori_loop`)
    cannot run the collective that finds them on TensorFlow."""
    if getattr(_STATE, "shared", None):
        # Shared draws split nothing: no search (a collective) needed.
        return contextlib.nullcontext()
    return _setting("rows", backend.replica_rows(batch_size))


def _draw(draw, shape, axis=0):
    if getattr(_STATE, "shared", None) or axis >= len(shape):
        # Shared rows, or no batch axis (a scalar distribution's draws).
        return draw(tuple(shape))
    rows = getattr(_STATE, "rows", None)
    return backend.draw_for_replica(draw, shape, axis, rows)


def normal(shape, seed, dtype=None, axis=0):
    return _draw(
        lambda shape: keras.random.normal(shape, dtype=dtype, seed=seed),
        shape,
        axis,
    )


def uniform(shape, seed, minval=0.0, maxval=1.0, dtype=None, axis=0):
    return _draw(
        lambda shape: keras.random.uniform(
            shape, minval, maxval, dtype=dtype, seed=seed
        ),
        shape,
        axis,
    )


def randint(shape, minval, maxval, seed, dtype="int32"):
    return _draw(
        lambda shape: keras.random.randint(
            shape, minval, maxval, dtype=dtype, seed=seed
        ),
        shape,
    )


def stratified_uniform(batch_size, seed):
    """`(batch_size,)` uniforms in `[0, 1)` stratified over the batch:
    example `i` of `n` gets `(u + i / n) mod 1` for one `u ~ U[0, 1)`.

    Under data parallelism `i` and `n` are the example's position in the
    global batch and that batch's size, and every replica shares `u`, so
    each example gets the number it gets on one device.
    """
    with shared_across_replicas():
        offset = uniform((1,), seed)
    index = ops.cast(ops.arange(batch_size), "float32")
    total = ops.cast(batch_size, "float32")
    rows = backend.replica_rows(batch_size)
    if rows is not None:
        start, total = rows
        index = index + ops.cast(start, "float32")
        total = ops.cast(total, "float32")
    return ops.mod(offset + index / total, 1.0)


def stateless_normal(shape, seed):
    """`backend.stateless_normal` from a `(2,)` seed (loop bodies)."""
    return _draw(lambda shape: backend.stateless_normal(shape, seed), shape)


def stateless_uniform(shape, seed):
    """`backend.stateless_uniform` from a `(2,)` seed (loop bodies)."""
    return _draw(lambda shape: backend.stateless_uniform(shape, seed), shape)


def dropout(inputs, rate, seed, noise_shape=None):
    """`inputs` with each entry zeroed with probability `rate` and the rest
    scaled by `1 / (1 - rate)`; `noise_shape` (None entries: the inputs')
    shares one draw along its axes of size 1."""
    shape = ops.shape(inputs)
    if noise_shape is not None:
        shape = tuple(
            size if wanted is None else wanted
            for size, wanted in zip(shape, noise_shape)
        )
    keep = uniform(shape, seed, dtype=inputs.dtype) >= rate
    return ops.where(keep, inputs / (1.0 - rate), ops.zeros_like(inputs))
