"""The replica helpers of a backend whose one program sees the global
batch: JAX (a sharded array is one global array) and torch (one device).
Nothing is split, so nothing needs joining; see `kgen.backend`."""

import keras


def num_replicas(model):
    # One program: a JAX distribution shards the one global batch.
    return 1


def scale_loss_for_distribution(loss):
    # The loss is already the global batch's mean.
    return loss


def replica_rows(size):
    return None


def draw_for_replica(draw, shape, axis=0, rows=None):
    return draw(tuple(shape))


def moments(x, axes):
    return keras.ops.moments(x, axes)


def sum_over_replicas(x):
    return x


def gather_over_replicas(x, axis=0):
    return x
