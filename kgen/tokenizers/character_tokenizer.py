import keras
import numpy as np

from kgen.tokenizers.token_ids import check_distinct
from kgen.tokenizers.token_ids import check_token_ids
from kgen.utils import preset_hooks
from kgen.utils.preset_error import PresetError
from kgen.utils.recorded_config import RecordedConfig


@keras.saving.register_keras_serializable(package="kgen")
class CharacterTokenizer(RecordedConfig):
    """Maps text to integer ids, one id per character of a fixed vocabulary.

    A plain host-side object (NumPy in, NumPy out), not a Keras layer:
    string tensors exist only in TensorFlow, and a character model's text
    is tokenized once, before `fit`. Serializable with Keras, so it can
    travel with a saved model's config.

    Args:
        vocabulary: str or list of single characters, all distinct; the id
            of a character is its index. `CharacterTokenizer.from_text`
            builds one from a corpus (sorted distinct characters, as
            nanoGPT's `shakespeare_char` does).

    Example:

    >>> tokenizer = CharacterTokenizer.from_text("hello")
    >>> tokenizer.vocabulary
    'ehlo'
    >>> tokenizer.tokenize("hole").tolist()
    [1, 3, 2, 0]
    >>> tokenizer.detokenize([1, 3, 2, 0])
    'hole'
    """

    def __init__(self, vocabulary):
        characters = list(vocabulary)
        if not characters or any(
            not isinstance(c, str) or len(c) != 1 for c in characters
        ):
            raise ValueError(
                "`vocabulary` must be a non-empty str or list of single "
                f"characters; received {vocabulary!r:.80}."
            )
        check_distinct(characters, "characters")
        self.vocabulary = "".join(characters)
        self._ids = {c: i for i, c in enumerate(characters)}
        self._characters = np.array(characters)

    @classmethod
    def from_text(cls, text):
        """A tokenizer over the sorted distinct characters of `text`."""
        if not isinstance(text, str) or not text:
            raise ValueError("`text` must be a non-empty str.")
        return cls("".join(sorted(set(text))))

    @classmethod
    def from_preset(cls, name_or_directory):
        """The tokenizer saved with a preset (a shipped name or a
        directory), such as `"gpt_shakespeare"`'s."""
        # `kgen.presets` sits above the tokenizers and registers this.
        tokenizer = preset_hooks.get("load_tokenizer")(name_or_directory)
        if not isinstance(tokenizer, cls):
            raise PresetError(
                f"Preset {name_or_directory!r} holds a "
                f"{type(tokenizer).__name__}, not a {cls.__name__}."
            )
        return tokenizer

    @property
    def vocabulary_size(self):
        return len(self.vocabulary)

    def tokenize(self, text):
        """`(len(text),)` int32 ids; raises on characters outside the
        vocabulary, naming them."""
        if not isinstance(text, str):
            raise ValueError(f"`text` must be a str; received {type(text)}.")
        unknown = sorted(set(text) - set(self._ids))
        if unknown:
            raise ValueError(
                f"`text` holds {len(unknown)} characters outside the "
                f"vocabulary, e.g. {unknown[:10]!r}; build the tokenizer "
                "from text that contains them."
            )
        return np.fromiter(
            (self._ids[c] for c in text), dtype="int32", count=len(text)
        )

    __call__ = tokenize

    def detokenize(self, ids):
        """The text of `(length,)` ids, or a list of texts for
        `(batch, length)` ids."""
        ids = check_token_ids(ids, self.vocabulary_size)
        if ids.ndim == 2:
            return [self.detokenize(row) for row in ids]
        return "".join(self._characters[ids].tolist())
