"""Drawing many samples a chunk at a time: the one way the command line,
the evaluations and the audits draw more samples than one call should."""

import keras
import numpy as np

from kgen.models.sample_batching import PER_EXAMPLE_ARGUMENTS
from kgen.utils.argument_validation import validate_int
from kgen.utils.seeds import seed_generator

# A network's activations grow with the batch, and a sampler's with them.
CHUNK_SIZE = 256


def sample_in_chunks(
    model,
    num_samples,
    *,
    seed=None,
    chunk_size=CHUNK_SIZE,
    max_bytes=None,
    **options,
):
    """`model.sample(num_samples, seed=seed, **options)`, drawn
    `chunk_size` at a time into one NumPy array.

    Every chunk draws from one seed generator, so up to `chunk_size`
    samples are exactly what one `sample` call gives, and more are the
    same whatever the memory. Per-sample `options` (`labels`) are cut
    with their chunk.

    Args:
        model: a `kgen.models.GenerativeModel`.
        num_samples: int >= 1.
        seed: int, `SeedGenerator` or `None` (the model's seed source).
        chunk_size: int >= 1, the most samples one `sample` call draws.
        max_bytes: int or `None`: refuse, before drawing where the shape
            is known and else after the first chunk, samples of more
            bytes (as float32 where the shape is known).
        **options: the model's `sample` arguments.

    Returns:
        `(num_samples, ...)` NumPy array, or a dict of them for a model
        whose samples are (molecules: positions, types and masks).

    Example:

    ```python
    gan = kgen.presets.load_preset("dcgan_digits")
    images = kgen.models.sample_in_chunks(gan, 10_000, seed=0)
    ```
    """
    num_samples = validate_int(num_samples, "num_samples")
    chunk_size = validate_int(chunk_size, "chunk_size")
    generator = seed_generator(seed, argument="seed")
    shape = getattr(model, "data_shape", None)
    if shape is not None and all(isinstance(d, int) for d in shape):
        _check_bytes(
            num_samples * 4 * int(np.prod(shape)), num_samples, max_bytes
        )
    samples = None
    for start in range(0, num_samples, chunk_size):
        size = min(chunk_size, num_samples - start)
        chunk_options = dict(options)
        for name in PER_EXAMPLE_ARGUMENTS:
            value = options.get(name)
            if (
                value is not None
                and not isinstance(value, str)
                and np.ndim(value)
                and len(value) == num_samples
            ):
                # One row per sample, cut with its chunk; any other length
                # goes whole to `sample`, which names the argument.
                chunk_options[name] = np.asarray(value)[start : start + size]
        chunk = keras.tree.map_structure(
            lambda tensor: np.asarray(keras.ops.convert_to_numpy(tensor)),
            model.sample(size, seed=generator, **chunk_options),
        )
        if samples is None:
            # A model of several arrays (molecules) returns a dict of them.
            nbytes = sum(a.nbytes for a in keras.tree.flatten(chunk))
            _check_bytes(num_samples * (nbytes // size), num_samples, max_bytes)
            samples = keras.tree.map_structure(
                lambda a: np.empty((num_samples, *a.shape[1:]), a.dtype), chunk
            )
        keras.tree.map_structure(
            lambda whole, part: whole.__setitem__(
                slice(start, start + size), part
            ),
            samples,
            chunk,
        )
    return samples


def _check_bytes(total, num_samples, max_bytes):
    if max_bytes is not None and total > max_bytes:
        raise ValueError(
            f"{num_samples:,} samples take {total:,} bytes, over "
            f"`max_bytes` ({max_bytes:,}); draw fewer or raise the limit."
        )
