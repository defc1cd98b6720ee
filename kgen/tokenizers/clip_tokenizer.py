import os
import re
import unicodedata
import warnings

import keras
import numpy as np

from kgen.tokenizers.token_ids import as_texts
from kgen.tokenizers.token_ids import check_token_ids
from kgen.utils.argument_validation import validate_int
from kgen.utils.json_file import read_json
from kgen.utils.recorded_config import RecordedConfig
from kgen.utils.regular_file import open_regular_file
from kgen.utils.unreadable_file_error import UnreadableFileError

START = "<|startoftext|>"
END = "<|endoftext|>"
END_OF_WORD = "</w>"
# OpenAI CLIP's contractions, matched before any other piece.
CONTRACTIONS = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d")
# The longest word read: BPE's merge loop here is quadratic in a word's
# length (a prompt's words are short; CLIP reads 75 tokens).
MAX_WORD_CHARACTERS = 2048
# The most bytes of a tokenizer file (CLIP's tokenizer.json is 3.6 MB).
MAX_FILE_BYTES = 2**26
# The special tokens, split off the raw text before anything else.
_SPECIAL = re.compile(r"(<\|startoftext\|>|<\|endoftext\|>)")
# White space as `tokenizers`' `\s` reads it: Python's, less the four
# information separators U+001C-U+001F, which are not Unicode White_Space.
_SPACES = re.compile(r"[^\S\x1c-\x1f]+")


@keras.saving.register_keras_serializable(package="kgen")
class ClipTokenizer(RecordedConfig):
    """CLIP's byte-level BPE: text to the padded ids of Stable Diffusion's
    text encoder, as transformers' `CLIPTokenizer` gives them.

    ```
    text -> NFC, runs of white space -> " ", lowercase
         -> pieces: <|startoftext|> | <|endoftext|> | 's 't 're 've 'm 'll
            'd | letters+ | one number | other characters+   (spaces drop)
         -> each piece's UTF-8 bytes as GPT-2's printable characters,
            "</w>" on the last, merged pair by pair in `merges`' order
    ids = [<|startoftext|>] + the pieces' ids (at most L - 2) +
          [<|endoftext|>] + padding to L = sequence_length
    ```

    Written out rather than wrapping `tokenizers` so that kgen reads a
    pipeline's tokenizer with NumPy alone; `tests/tokenizers` holds it
    against transformers' `CLIPTokenizer`.

    Args:
        vocabulary: dict token -> id (a `vocab.json`), holding
            `<|startoftext|>`, `<|endoftext|>` and `pad_token`.
        merges: list of `"left right"` pairs, the first merged first (a
            `merges.txt` without its `#version` line).
        sequence_length: int >= 2. Ids per text, the start and end tokens
            included (77 for Stable Diffusion).
        pad_token: the token that pads a row (`<|endoftext|>` in Stable
            Diffusion 1.x, `!` in 2.x).

    A prompt longer than `sequence_length - 2` pieces' ids is truncated
    with a warning, as the pipelines truncate it.

    Example:

    ```python
    tokenizer = kgen.tokenizers.ClipTokenizer.from_folder(
        "stable-diffusion/tokenizer"
    )
    ids = tokenizer.tokenize(["a photo of a cat"])  # (1, 77) int32
    ```
    """

    def __init__(self, vocabulary, merges, sequence_length=77, pad_token=END):
        if not isinstance(vocabulary, dict) or not all(
            isinstance(k, str) and type(v) is int and v >= 0
            for k, v in vocabulary.items()
        ):
            raise ValueError(
                "`vocabulary` must be a dict of str tokens to int ids."
            )
        if len(set(vocabulary.values())) != len(vocabulary):
            raise ValueError("`vocabulary` maps two tokens to one id.")
        missing = [t for t in (START, END, pad_token) if t not in vocabulary]
        if missing:
            raise ValueError(
                f"`vocabulary` must hold {missing} (CLIP's special tokens "
                "and `pad_token`)."
            )
        merges = list(merges)
        pairs = [m.split(" ") if isinstance(m, str) else m for m in merges]
        if not all(len(pair) == 2 and all(pair) for pair in pairs):
            raise ValueError(
                '`merges` must be "left right" pairs of non-empty symbols.'
            )
        self.vocabulary = dict(vocabulary)
        self.merges = [" ".join(pair) for pair in pairs]
        self.sequence_length = validate_int(
            sequence_length, "sequence_length", minimum=2
        )
        self.pad_token = pad_token
        self._ranks = {tuple(pair): rank for rank, pair in enumerate(pairs)}
        self._tokens = {i: t for t, i in self.vocabulary.items()}
        self._bytes = _printable_bytes()
        self._cache = {}

    @classmethod
    def from_folder(cls, folder):
        """The tokenizer of a pipeline's `tokenizer/` folder: its
        `vocab.json` and `merges.txt` (as the field's checkpoints hold
        them) or its `tokenizer.json` (as transformers 5 saves it), and
        `tokenizer_config.json` for its `model_max_length` and
        `pad_token`. A file that is missing, malformed or too large, or
        tokens added to CLIP's vocabulary (a textual-inversion concept),
        are refused as an `UnreadableFileError` naming the file."""
        folder = os.fspath(folder)
        vocabulary_path = os.path.join(folder, "vocab.json")
        try:
            if os.path.lexists(vocabulary_path):
                vocabulary = read_json(vocabulary_path, MAX_FILE_BYTES)
                merges = _read_merges(os.path.join(folder, "merges.txt"))
                _refuse_added_tokens(
                    os.path.join(folder, "added_tokens.json"), vocabulary
                )
            else:
                vocabulary, merges = _read_tokenizer_json(
                    os.path.join(folder, "tokenizer.json")
                )
            options = _read_options(
                os.path.join(folder, "tokenizer_config.json")
            )
            return cls(vocabulary, merges, **options)
        except UnreadableFileError:
            raise
        except ValueError as error:
            raise UnreadableFileError(f"{folder}: {error}") from None

    @property
    def vocabulary_size(self):
        """One more than the largest id."""
        return max(self.vocabulary.values()) + 1

    def tokenize(self, texts, argument="texts"):
        """`(len(texts), sequence_length)` int32 ids of a str or a list or
        array of str (a str gives one row).

        Raises:
            ValueError: naming `argument`, for text that is not a str or
                an empty list.
        """
        texts = as_texts(texts, argument)
        if not texts:
            raise ValueError(f"`{argument}` must hold at least one text.")
        room = self.sequence_length - 2
        ids = np.full(
            (len(texts), self.sequence_length),
            self.vocabulary[self.pad_token],
            "int32",
        )
        longest = 0
        for row, text in enumerate(texts):
            try:
                pieces = self.encode(text, limit=room)
            except ValueError as error:
                raise ValueError(f"`{argument}[{row}]`: {error}") from None
            longest = max(longest, len(pieces))
            pieces = pieces[:room]
            ids[row, : len(pieces) + 2] = (
                [self.vocabulary[START]] + pieces + [self.vocabulary[END]]
            )
        if longest > room:
            warnings.warn(
                f"`{argument}` holds a text of more than {room} tokens; "
                f"only the first {room} (`sequence_length` - 2) are kept.",
                stacklevel=2,
            )
        return ids

    __call__ = tokenize

    def encode(self, text, limit=None):
        """The ids of `text`'s pieces, without start, end or padding (at
        most `limit` + 1 of them when `limit` is given: enough to know
        a row overflows)."""
        ids = []
        for segment in _SPECIAL.split(text):
            if segment in (START, END):
                ids.append(self.vocabulary[segment])
                continue
            segment = unicodedata.normalize("NFC", segment)
            # Character by character, as `tokenizers` lowercases (Python's
            # `lower` of a whole word ends a Greek sigma as a final one).
            segment = "".join(c.lower() for c in _SPACES.sub(" ", segment))
            for piece in _pieces(segment):
                if len(piece) > MAX_WORD_CHARACTERS:
                    raise ValueError(
                        f"A word of {len(piece):,} characters; CLIP's "
                        f"tokenizer reads words of at most "
                        f"{MAX_WORD_CHARACTERS:,}."
                    )
                symbols = "".join(self._bytes[b] for b in piece.encode("utf-8"))
                unknown = self.vocabulary[END]
                ids.extend(
                    self.vocabulary.get(s, unknown) for s in self._bpe(symbols)
                )
                if limit is not None and len(ids) > limit:
                    return ids
        return ids

    def detokenize(self, ids):
        """The texts of `(batch, sequence_length)` ids, start, end and
        padding dropped."""
        ids = check_token_ids(ids, self.vocabulary_size, ranks=(2,))
        special = {self.vocabulary[t] for t in (START, END, self.pad_token)}
        characters = {c: b for b, c in self._bytes.items()}
        texts = []
        for row in ids:
            symbols = "".join(
                self._tokens.get(int(i), "") for i in row if i not in special
            )
            words = [
                bytes(characters[c] for c in word if c in characters)
                for word in symbols.split(END_OF_WORD)
            ]
            text = " ".join(w.decode("utf-8", "replace") for w in words)
            texts.append(" ".join(text.split()))
        return texts

    def _bpe(self, symbols):
        """The BPE tokens of one piece (its bytes' characters)."""
        if symbols in self._cache:
            return self._cache[symbols]
        word = list(symbols)
        word[-1] += END_OF_WORD
        while len(word) > 1:
            ranked = [
                (self._ranks.get(pair, len(self._ranks)), index)
                for index, pair in enumerate(zip(word, word[1:]))
            ]
            rank, _ = min(ranked)
            if rank == len(self._ranks):
                break
            pair = next(
                p for p in zip(word, word[1:]) if self._ranks.get(p) == rank
            )
            merged, index = [], 0
            while index < len(word):
                if (
                    index + 1 < len(word)
                    and (word[index], word[index + 1]) == pair
                ):
                    merged.append(word[index] + word[index + 1])
                    index += 2
                else:
                    merged.append(word[index])
                    index += 1
            word = merged
        if len(self._cache) < 2**16:
            self._cache[symbols] = word
        return word


def _read_merges(path):
    """The merges of a `merges.txt`, its `#version` line left out."""
    with open_regular_file(path, MAX_FILE_BYTES) as handle:
        try:
            lines = handle.read().decode("utf-8").split("\n")
        except UnicodeDecodeError as error:
            raise UnreadableFileError(f"{path}: not UTF-8 ({error}).") from None
    return [
        line
        for index, line in enumerate(lines)
        if line and not (index == 0 and line.startswith("#version"))
    ]


def _refuse_added_tokens(path, vocabulary, added=None):
    """Refuses tokens added beyond the vocabulary (`added_tokens.json`,
    or `added`: `{content: id}`): a concept token of textual inversion,
    which transformers matches before BPE and kgen does not."""
    if added is None:
        if not os.path.lexists(path):
            return
        added = read_json(path, MAX_FILE_BYTES)
    extra = sorted(
        str(token)
        for token, index in added.items()
        if vocabulary.get(token) != index
    )
    if extra:
        raise UnreadableFileError(
            f"{path}: tokens added to CLIP's vocabulary ({extra[:5]}), "
            "which kgen's ClipTokenizer does not read."
        )


def _read_options(path):
    """`sequence_length` and `pad_token` from `tokenizer_config.json`."""
    if not os.path.lexists(path):
        return {}
    config = read_json(path, MAX_FILE_BYTES)
    options = {}
    length = config.get("model_max_length")
    # transformers writes a huge number where a tokenizer has no limit;
    # CLIP's is its text encoder's positions.
    if type(length) is int and length <= 2**16:
        options["sequence_length"] = length
    pad = config.get("pad_token")
    if isinstance(pad, dict):  # an AddedToken written out
        pad = pad.get("content")
    if isinstance(pad, str):
        options["pad_token"] = pad
    return options


def _read_tokenizer_json(path):
    """`(vocabulary, merges)` of a `tokenizers` file holding CLIP's BPE;
    a `ValueError` names another model."""
    tokenizer = read_json(path, MAX_FILE_BYTES)
    model = tokenizer.get("model")
    if not isinstance(model, dict):
        raise UnreadableFileError(f"{path}: holds no tokenizer model.")
    if model.get("type") != "BPE" or model.get("end_of_word_suffix") != (
        END_OF_WORD
    ):
        raise UnreadableFileError(
            f"{path} holds a {model.get('type')} model with word suffix "
            f"{model.get('end_of_word_suffix')!r}; CLIP's tokenizer is a BPE "
            f"whose words end in {END_OF_WORD!r}."
        )
    merges = model.get("merges")
    if not isinstance(merges, list) or not all(
        isinstance(m, str)
        or (isinstance(m, list) and all(isinstance(p, str) for p in m))
        for m in merges
    ):
        raise UnreadableFileError(
            f"{path}: `merges` must be a list of pairs of strings."
        )
    vocabulary = model.get("vocab")
    if not isinstance(vocabulary, dict):
        raise UnreadableFileError(f"{path}: `vocab` must be an object.")
    added = tokenizer.get("added_tokens") or []
    if not isinstance(added, list) or not all(
        isinstance(token, dict) for token in added
    ):
        raise UnreadableFileError(f"{path}: `added_tokens` must be a list.")
    _refuse_added_tokens(
        path,
        vocabulary,
        {token.get("content"): token.get("id") for token in added},
    )
    merges = [m if isinstance(m, str) else " ".join(m) for m in merges]
    return vocabulary, merges


def _kind(character):
    """ "L" for a letter, "N" for a number, " " for white space, "" for
    anything else (Unicode's general categories, as `\\p{L}` and
    `\\p{N}` read them)."""
    if character.isspace() and character not in "\x1c\x1d\x1e\x1f":
        return " "
    category = unicodedata.category(character)[0]
    return category if category in "LN" else ""


def _pieces(text):
    """CLIP's pre-tokenization of normalised `text` (no special token
    left in it): the matches, in order, of `'s|'t|'re|'ve|'m|'ll|'d|
    [\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+`, white space dropped.
    (CLIP's pattern also names the special tokens, but the byte-level
    step after it splits such a piece as this does: `<|`, `endoftext`,
    `|>`.)"""
    pieces, index = [], 0
    while index < len(text):
        contraction = next(
            (c for c in CONTRACTIONS if text.startswith(c, index)), None
        )
        kind = _kind(text[index])
        if contraction:
            end = index + len(contraction)
        elif kind == " ":
            index += 1
            continue
        elif kind == "N":
            end = index + 1
        else:
            end = index + 1
            while end < len(text) and _kind(text[end]) == kind:
                end += 1
        pieces.append(text[index:end])
        index = end
    return pieces


def _printable_bytes():
    """GPT-2's map of each byte to a printable character: the printable
    Latin-1 ones as themselves, the others to 256 and above in order."""
    kept = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("\xa1"), ord("\xac") + 1),
        *range(ord("\xae"), ord("\xff") + 1),
    ]
    moved = [b for b in range(256) if b not in kept]
    table = {b: chr(b) for b in kept}
    table.update({b: chr(256 + i) for i, b in enumerate(moved)})
    return table
