"""Drawing many samples a chunk at a time: the one way the command line,
the evaluations and the audits draw more samples than one call should."""

import keras
import numpy as np

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
        `(num_samples, ...)` NumPy array.

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
        if options.get("labels") is not None:
            labels = np.asarray(options["labels"])
            if labels.ndim:
                chunk_options["labels"] = labels[start : start + size]
        chunk = np.asarray(
            keras.ops.convert_to_numpy(
                model.sample(size, seed=generator, **chunk_options)
            )
        )
        if samples is None:
            _check_bytes(
                num_samples * (chunk.nbytes // size), num_samples, max_bytes
            )
            samples = np.empty((num_samples, *chunk.shape[1:]), chunk.dtype)
        samples[start : start + size] = chunk
    return samples


def _check_bytes(total, num_samples, max_bytes):
    if max_bytes is not None and total > max_bytes:
        raise ValueError(
            f"{num_samples:,} samples take {total:,} bytes, over "
            f"`max_bytes` ({max_bytes:,}); draw fewer or raise the limit."
        )
