import numpy as np
import pytest

from kgen.privacy import nearest_neighbor_distances


def test_distances_and_indices_equal_brute_force_nearest_first():
    rng = np.random.default_rng(0)
    queries = rng.normal(size=(37, 4, 3)).astype("float32")
    references = rng.normal(size=(50, 12)).astype("float32")
    distances, indices = nearest_neighbor_distances(
        queries, references, num_neighbors=3, batch_size=8
    )
    exact = np.linalg.norm(
        queries.reshape(37, 1, 12) - references[None], axis=-1
    )
    np.testing.assert_array_equal(indices, np.argsort(exact, axis=1)[:, :3])
    np.testing.assert_allclose(
        distances, np.sort(exact, axis=1)[:, :3], rtol=1e-5
    )


def test_an_exact_copy_is_at_distance_zero_even_far_from_the_origin():
    # |q|**2 - 2 q.r + |r|**2 cancels to ~1e-2 here; the exact recomputation
    # does not.
    rng = np.random.default_rng(1)
    references = (100.0 + rng.normal(size=(20, 64))).astype("float32")
    distances, indices = nearest_neighbor_distances(references[5:8], references)
    np.testing.assert_array_equal(distances[:, 0], 0.0)
    np.testing.assert_array_equal(indices[:, 0], [5, 6, 7])


@pytest.mark.parametrize(
    "queries, references, kwargs, match",
    [
        (np.zeros((2, 3)), np.zeros((4, 5)), {}, "same size"),
        (
            np.zeros((2, 3)),
            np.zeros((4, 3)),
            {"num_neighbors": 5},
            "num_neighbors",
        ),
        (np.zeros((0, 3)), np.zeros((4, 3)), {}, "non-empty"),
        (np.zeros(3), np.zeros((4, 3)), {}, "`queries`"),
        (np.full((2, 3), np.nan), np.zeros((4, 3)), {}, "non-finite"),
        (np.zeros((2, 3)), np.zeros((4, 3)), {"batch_size": 0}, "batch_size"),
    ],
)
def test_bad_inputs_are_named(queries, references, kwargs, match):
    with pytest.raises(ValueError, match=match):
        nearest_neighbor_distances(queries, references, **kwargs)
