import re
import warnings

import keras
import numpy as np

from kgen.tokenizers.token_ids import as_texts
from kgen.tokenizers.token_ids import check_distinct
from kgen.tokenizers.token_ids import check_token_ids
from kgen.utils.argument_validation import validate_int
from kgen.utils.recorded_config import RecordedConfig

PAD = "[PAD]"
UNKNOWN = "[UNK]"
# Words are runs of these; everything else (spaces, punctuation) separates
# them. TensorFlow's `tf.strings` ops split the same way inside a
# SavedModel (`tf_tokenize`).
_WORD = "[a-z0-9]+"
_SEPARATORS = "[^a-z0-9]+"
# Characters a prompt may hold besides letters and digits: anything else
# (accents, emoji, other scripts) is refused, not silently dropped.
_PUNCTUATION = " \t\n,.;:!?'\"-()"


@keras.saving.register_keras_serializable(package="kgen")
class WordTokenizer(RecordedConfig):
    """Maps text to a fixed-length row of word ids, padded with 0.

    Text is lowercased and split into runs of ASCII letters and digits
    (punctuation separates words and is dropped): `"A thick, slanted
    seven"` is `["a", "thick", "slanted", "seven"]`. Id 0 is `[PAD]`, id 1
    `[UNK]`, the words follow. Like `CharacterTokenizer` a host-side
    object (NumPy in and out), serializable with a model's config;
    `tf_tokenize` is the same mapping in TensorFlow ops, for a SavedModel
    that takes prompts as strings.

    On the host a word outside the vocabulary raises (a prompt would
    otherwise lose a word silently) and a prompt longer than
    `sequence_length` words is truncated with a warning. Inside a
    SavedModel (`tf_tokenize`) neither can raise: unknown words become
    `[UNK]` and long prompts are truncated.

    Args:
        vocabulary: list of distinct words (lowercase runs of `[a-z0-9]`);
            ids 2, 3, ... in this order.
        sequence_length: int >= 1. Ids per text.

    Example:

    >>> tokenizer = WordTokenizer.from_texts(["a thick seven", "a 7"])
    >>> tokenizer.vocabulary
    ['7', 'a', 'seven', 'thick']
    >>> tokenizer.tokenize(["a thick seven"]).tolist()
    [[3, 5, 4]]
    """

    def __init__(self, vocabulary, sequence_length):
        vocabulary = list(vocabulary)
        if not vocabulary or not all(
            isinstance(word, str) and re.fullmatch(_WORD, word)
            for word in vocabulary
        ):
            raise ValueError(
                "`vocabulary` must be a non-empty list of lowercase words "
                f"of [a-z0-9]; received {vocabulary!r:.80}."
            )
        check_distinct(vocabulary, "words")
        self.vocabulary = vocabulary
        self.sequence_length = validate_int(
            sequence_length, "sequence_length", minimum=1
        )
        self._ids = {word: index + 2 for index, word in enumerate(vocabulary)}
        self._words = np.array([PAD, UNKNOWN] + vocabulary)

    @classmethod
    def from_texts(cls, texts, sequence_length=None):
        """A tokenizer over the sorted distinct words of `texts`, with
        `sequence_length` defaulting to the longest text's word count."""
        texts = as_texts(texts, "texts")
        if not texts:
            raise ValueError("`texts` must hold at least one text.")
        split = [split_words(text) for text in texts]
        vocabulary = sorted({word for words in split for word in words})
        if sequence_length is None:
            sequence_length = max(len(words) for words in split)
        return cls(vocabulary, sequence_length)

    @property
    def vocabulary_size(self):
        """Ids in use: the words plus `[PAD]` and `[UNK]`."""
        return len(self.vocabulary) + 2

    def tokenize(self, texts, argument="texts"):
        """`(len(texts), sequence_length)` int32 ids of a str or a list or
        array of str (a str gives one row).

        Raises:
            ValueError: naming `argument`, for text that is not a str, an
                empty list, characters outside ASCII letters, digits and
                punctuation, or words outside the vocabulary.
        """
        texts = as_texts(texts, argument)
        if not texts:
            raise ValueError(f"`{argument}` must hold at least one text.")
        ids = np.zeros((len(texts), self.sequence_length), "int32")
        unknown, longest = set(), 0
        for row, text in enumerate(texts):
            odd = sorted(
                {c for c in text if not (c.isascii() and c.isalnum())}
                - set(_PUNCTUATION)
            )
            if odd:
                raise ValueError(
                    f"`{argument}[{row}]` ({text!r:.60}) holds characters "
                    f"the tokenizer cannot read: {odd[:10]!r}; use ASCII "
                    "letters, digits and punctuation."
                )
            words = split_words(text)
            unknown.update(w for w in words if w not in self._ids)
            longest = max(longest, len(words))
            words = words[: self.sequence_length]
            ids[row, : len(words)] = [self._ids.get(w, 1) for w in words]
        if unknown:
            raise ValueError(
                f"`{argument}` holds {len(unknown)} words outside the "
                f"vocabulary of {len(self.vocabulary)}: "
                f"{sorted(unknown)[:10]!r}."
            )
        if longest > self.sequence_length:
            warnings.warn(
                f"`{argument}` holds a text of {longest} words; only the "
                f"first {self.sequence_length} (`sequence_length`) are "
                "kept.",
                stacklevel=2,
            )
        return ids

    __call__ = tokenize

    def detokenize(self, ids):
        """The texts of `(batch, sequence_length)` ids (padding dropped)."""
        ids = check_token_ids(ids, self.vocabulary_size, ranks=(2,))
        return [" ".join(self._words[row[row > 0]].tolist()) for row in ids]

    def tf_tokenize(self, texts):
        """`tokenize` in TensorFlow ops, for string tensors in a graph (a
        SavedModel's signature, a `tf.data` pipeline): `(batch,)` strings
        to `(batch, sequence_length)` int32 ids. Unknown words become
        `[UNK]`, long texts are truncated: a graph cannot warn."""
        import tensorflow as tf

        table = self.tf_lookup_table()
        texts = tf.strings.lower(tf.convert_to_tensor(texts, tf.string))
        texts = tf.strings.regex_replace(texts, _SEPARATORS, " ")
        words = tf.strings.split(tf.strings.strip(texts))
        ids = tf.ragged.map_flat_values(table.lookup, words)
        return ids.to_tensor(
            default_value=0, shape=[None, self.sequence_length]
        )

    def tf_lookup_table(self):
        """The `tf.lookup.StaticHashTable` word -> id that `tf_tokenize`
        reads (unknown words: `[UNK]`), made once: a SavedModel tracks the
        table its graph looks words up in."""
        if getattr(self, "_tf_table", None) is None:
            import tensorflow as tf

            self._tf_table = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(
                    tf.constant(self.vocabulary),
                    tf.range(2, self.vocabulary_size, dtype=tf.int32),
                ),
                default_value=1,
            )
        return self._tf_table


def split_words(text):
    """The lowercase words of `text`, as `WordTokenizer` reads them."""
    return re.findall(_WORD, text.lower())
