"""How a `TextToImage` model reads captions: prompts (str, lists of str
or token-id rows) tokenized and checked against its tokenizer, and the
training data (arrays, datasets, generators) turned into `{"images",
"tokens"}` batches, string captions tokenized on the host or in
TensorFlow ops. Apart from `text_to_image.py`, which holds the model,
its training draw, sampling and configuration, because this is the text
half, read as plain functions of the model (`prepare_data` behind the
model's `_prepare_data`)."""

import functools

import numpy as np
from keras import ops

from kgen.tokenizers.token_ids import check_token_ids
from kgen.utils import labelled_data


def tokenize(model, prompts, num_samples=None, argument="prompts"):
    """`(n, sequence_length)` int32 ids of `prompts`: a str (repeated
    `num_samples` times), a list or array of str, or token ids (checked
    against the vocabulary)."""
    if isinstance(prompts, str):
        prompts = [prompts] * (1 if num_samples is None else num_samples)
    array = prompts
    if not isinstance(prompts, (list, tuple)) or (
        prompts and not isinstance(prompts[0], (str, bytes))
    ):
        array = np.asarray(ops.convert_to_numpy(prompts))
    if isinstance(array, np.ndarray) and array.dtype.kind in "iu":
        ids = check_token_ids(
            array, model.tokenizer.vocabulary_size, argument, ranks=(2,)
        ).astype("int32")
        if ids.shape[1] != model.tokenizer.sequence_length:
            raise ValueError(
                f"`{argument}` as token ids must have shape (n, "
                f"{model.tokenizer.sequence_length}); received {ids.shape}."
            )
    else:
        ids = model.tokenizer.tokenize(array, argument)
    if num_samples is not None and len(ids) != num_samples:
        raise ValueError(
            f"`{argument}` must be one str or {num_samples} prompts "
            f"(`num_samples`); received {len(ids)}."
        )
    return ids


def empty_tokens(model, tokens):
    """The empty prompt's ids in the shape of `tokens`: the
    unconditional input of classifier-free guidance, and the caption a
    training draw drops to. All padding for a `WordTokenizer`; CLIP's
    start, end and padding for a `ClipTokenizer` (what Stable
    Diffusion's unconditional branch reads)."""
    row = ops.convert_to_tensor(model.tokenizer.tokenize([""])[0], "int32")
    return ops.broadcast_to(row, ops.shape(tokens))


def prepare_data(model, x, y, x_argument, y_argument):
    """`TextToImage._prepare_data`: `{"images": x, "tokens": ids}`."""
    if isinstance(x, dict):
        model._validate_data(x.get("images"), x_argument)
        return x, y
    model._validate_data(x, x_argument)
    if not labelled_data.is_array(x):
        if x is None:
            return x, y
        if y is not None:
            raise ValueError(
                f"`{y_argument}` must be empty when `{x_argument}` is a "
                "dataset or generator: its batches hold (images, "
                "captions)."
            )
        return labelled_data.map_batches(
            x, functools.partial(tokenized_batch, model), x_argument
        ), None
    if y is None:
        raise ValueError(
            f"A TextToImage model trains on (images, captions): pass "
            f"the captions as `{y_argument}` (str or token ids)."
        )
    tokens = tokenize(model, y, argument=y_argument)
    if len(tokens) != len(x):
        raise ValueError(
            f"`{y_argument}` must hold one caption per image: "
            f"{len(x)} images, {len(tokens)} captions."
        )
    return {"images": x, "tokens": tokens}, None


def tokenized_batch(model, images, captions):
    """One `(images, captions)` batch of
    a dataset or generator as `{"images", "tokens"}`."""
    if type(captions).__module__.startswith("tensorflow"):
        import tensorflow as tf

        if captions.dtype == tf.string:
            if not hasattr(model.tokenizer, "tf_tokenize"):
                raise ValueError(
                    f"A {type(model.tokenizer).__name__} has no TensorFlow "
                    "ops: give a tf.data.Dataset its captions as token ids "
                    "(`model.tokenizer.tokenize`), or the captions as "
                    "arrays or a generator of str."
                )
            captions = model.tokenizer.tf_tokenize(captions)
        return {"images": images, "tokens": captions}, None
    return {"images": images, "tokens": tokenize(model, captions)}, None
