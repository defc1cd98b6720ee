import keras
import numpy as np
import pytest

import kgen


def test_chunks_draw_from_one_seed_generator():
    gan = kgen.presets.load_preset("dcgan_digits")
    chunked = kgen.models.sample_in_chunks(gan, 10, seed=3, chunk_size=4)
    generator = keras.random.SeedGenerator(3)
    expected = [gan.sample(n, seed=generator) for n in (4, 4, 2)]
    np.testing.assert_array_equal(
        chunked,
        np.concatenate([keras.ops.convert_to_numpy(e) for e in expected]),
    )
    one_call = kgen.models.sample_in_chunks(gan, 4, seed=3, chunk_size=4)
    np.testing.assert_array_equal(
        one_call, keras.ops.convert_to_numpy(gan.sample(4, seed=3))
    )


class LabelEcho:
    """A model whose samples are their labels: shows which labels each
    `sample` call received."""

    data_shape = None

    def sample(self, num_samples, *, seed=None, labels=None):
        assert len(labels) == num_samples
        return np.asarray(labels, "float32")[:, None]


def test_labels_are_cut_with_their_chunk():
    labels = np.arange(7) % 3
    samples = kgen.models.sample_in_chunks(
        LabelEcho(), 7, seed=0, chunk_size=3, labels=labels
    )
    np.testing.assert_array_equal(samples[:, 0], labels)


def test_samples_past_the_byte_budget_are_refused_before_drawing():
    gan = kgen.presets.load_preset("dcgan_digits")
    with pytest.raises(ValueError, match=r"over `max_bytes` \(1,000\)"):
        kgen.models.sample_in_chunks(gan, 100, seed=0, max_bytes=1000)
