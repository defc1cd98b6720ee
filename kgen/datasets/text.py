"""Text corpora for character-level models, and training windows."""

import os

import numpy as np

from kgen.utils.argument_validation import validate_probability

TEXT_CORPORA = ("pydoc_topics",)


def load_text(name_or_path, validation_fraction=0.1):
    """Loads a text corpus and splits it into training and validation text.

    Args:
        name_or_path: `"pydoc_topics"` (the Python reference manual's topic
            pages, ~0.5 MB, part of every CPython install: the embedded
            default) or the path of a UTF-8 text file (e.g. tiny
            Shakespeare under `$KGEN_DATA_DIR`).
        validation_fraction: float in [0, 1). The tail of the text held
            out for validation (nanoGPT's `shakespeare_char` holds out
            the last 10%).

    Returns:
        `(train_text, validation_text)`.

    Example:

    ```python
    train, validation = kgen.datasets.load_text("pydoc_topics")
    tokenizer = kgen.tokenizers.CharacterTokenizer.from_text(train + validation)
    ```
    """
    validation_fraction = validate_probability(
        validation_fraction, "validation_fraction", exclusive_maximum=True
    )
    if name_or_path == "pydoc_topics":
        from pydoc_data.topics import topics

        text = "\n\n".join(topics[key] for key in sorted(topics))
    elif os.path.isfile(os.fspath(name_or_path)):
        with open(name_or_path, encoding="utf-8") as f:
            text = f.read()
    else:
        raise ValueError(
            f"`name_or_path` must be one of {list(TEXT_CORPORA)} or an "
            f"existing text file; received {name_or_path!r}."
        )
    split = len(text) - int(len(text) * validation_fraction)
    return text[:split], text[split:]


def random_windows(tokens, window_length, num_windows, seed=None):
    """`num_windows` random windows of consecutive tokens.

    Windows of `sequence_length + 1` tokens train a causal model on all
    `sequence_length` next-token targets:
    `fit(windows[:, :-1], windows[:, 1:])`.

    Args:
        tokens: 1-D int array (a tokenized corpus).
        window_length: int. Tokens per window.
        num_windows: int.
        seed: int or `None`. NumPy seed of the window starts.

    Returns:
        `(num_windows, window_length)` int32 array.
    """
    tokens = np.asarray(tokens)
    if tokens.ndim != 1:
        raise ValueError(
            f"`tokens` must be 1-D; received shape {tokens.shape}."
        )
    if not isinstance(window_length, int) or not (
        1 <= window_length <= len(tokens)
    ):
        raise ValueError(
            f"`window_length` must be an int in [1, {len(tokens)}] (the "
            f"number of tokens); received {window_length!r}."
        )
    starts = np.random.default_rng(seed).integers(
        0, len(tokens) - window_length + 1, num_windows
    )
    return tokens[starts[:, None] + np.arange(window_length)].astype("int32")
