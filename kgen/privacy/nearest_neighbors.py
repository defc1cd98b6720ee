"""Exact nearest neighbours between two sets of examples, in `keras.ops`."""

import numpy as np
from keras import ops

from kgen.utils.argument_validation import validate_int
from kgen.utils.data_validation import host_array
from kgen.utils.data_validation import validate_finite


def nearest_neighbor_distances(
    queries, references, num_neighbors=1, batch_size=256
):
    """Euclidean distances from each query to its nearest references.

    Examples of any shape are compared as flat vectors. Candidates come
    from the expansion `|q - r|**2 = |q|**2 - 2 q.r + |r|**2` (one matrix
    product per batch of queries), which cancels badly for near-equal
    vectors; the distances returned are recomputed exactly as `|q - r|`
    for the candidates, so an exact copy is at distance 0, not about
    `1e-3`: near copies are what a privacy audit looks for.

    Args:
        queries: array `(n, ...)`.
        references: array `(m, ...)` of examples the same size as the
            queries'.
        num_neighbors: int in `[1, m]`.
        batch_size: int. Queries compared at once (memory grows as
            `batch_size * m`).

    Returns:
        `(distances, indices)`: float32 and int64 NumPy arrays
        `(n, num_neighbors)`, nearest first, as scikit-learn's
        `NearestNeighbors.kneighbors` returns them.
    """
    queries = _flat(queries, "queries")
    references = _flat(references, "references")
    if queries.shape[1] != references.shape[1]:
        raise ValueError(
            "`queries` and `references` must hold examples of the same "
            f"size; received {queries.shape[1]} and {references.shape[1]} "
            "values per example."
        )
    num_neighbors = validate_int(
        num_neighbors, "num_neighbors", maximum=len(references)
    )
    batch_size = validate_int(batch_size, "batch_size")
    reference_tensor = ops.convert_to_tensor(references, "float32")
    reference_norms = ops.sum(ops.square(reference_tensor), axis=1)
    distances, indices = [], []
    for start in range(0, len(queries), batch_size):
        batch = ops.convert_to_tensor(
            queries[start : start + batch_size], "float32"
        )
        squared = (
            ops.sum(ops.square(batch), axis=1, keepdims=True)
            - 2.0 * ops.matmul(batch, ops.transpose(reference_tensor))
            + reference_norms[None, :]
        )
        _, candidates = ops.top_k(-squared, num_neighbors)
        # Exact distances to the candidates, then nearest first again.
        neighbors = ops.take(reference_tensor, candidates, axis=0)
        exact = ops.sqrt(
            ops.sum(ops.square(batch[:, None, :] - neighbors), axis=-1)
        )
        exact = ops.convert_to_numpy(exact)
        candidates = ops.convert_to_numpy(candidates).astype("int64")
        order = np.argsort(exact, axis=1, kind="stable")
        distances.append(np.take_along_axis(exact, order, axis=1))
        indices.append(np.take_along_axis(candidates, order, axis=1))
    return (
        np.concatenate(distances).astype("float32"),
        np.concatenate(indices),
    )


def _flat(x, argument):
    """`x` as a float32 `(n, features)` NumPy array of finite values."""
    array = host_array(x, argument)
    array = validate_finite(array, (None,) * array.ndim, argument)
    if array.ndim < 2 or len(array) == 0:
        raise ValueError(
            f"`{argument}` must be a non-empty batch of examples, shape "
            f"(n, ...); received shape {array.shape}."
        )
    return array.reshape(len(array), -1).astype("float32")
