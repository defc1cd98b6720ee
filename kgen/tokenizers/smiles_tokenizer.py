import re

import keras
import numpy as np

from kgen.tokenizers.token_ids import as_texts
from kgen.tokenizers.token_ids import check_distinct
from kgen.tokenizers.token_ids import check_token_ids
from kgen.utils.argument_validation import validate_int
from kgen.utils.recorded_config import RecordedConfig

PAD = "[PAD]"
BOS = "[BOS]"
EOS = "[EOS]"
SPECIAL_TOKENS = (PAD, BOS, EOS)

# Atom-level SMILES tokens (Schwaller et al. 2019, "Molecular Transformer",
# the regular expression of its data preparation): a bracket atom, a
# two-letter organic-subset element, a one-letter one (aromatic in lower
# case), a bond, a branch, a ring closure (`%NN` for two digits).
_TOKEN = re.compile(
    r"(\[[^\]]+]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\|\/|:"
    r"|~|@|\?|>|\*|\$|%[0-9]{2}|[0-9])"
)


def split_smiles(smiles):
    """The atom-level tokens of one SMILES string.

    Raises:
        ValueError: for characters no token covers (such as a lower-case
            `l` outside `Cl`, or a space).
    """
    if not isinstance(smiles, str) or not smiles:
        raise ValueError(
            f"a SMILES must be a non-empty str; received {smiles!r:.80}."
        )
    tokens = _TOKEN.findall(smiles)
    if "".join(tokens) != smiles:
        covered = np.zeros(len(smiles), bool)
        for match in _TOKEN.finditer(smiles):
            covered[match.start() : match.end()] = True
        position = int(np.argmin(covered))
        raise ValueError(
            f"{smiles!r:.80} is not a SMILES string: no token reads "
            f"{smiles[position]!r} at position {position}."
        )
    return tokens


@keras.saving.register_keras_serializable(package="kgen")
class SmilesTokenizer(RecordedConfig):
    """Maps SMILES strings to fixed-length rows of atom-level token ids.

    Each row is `[BOS] tokens... [EOS] [PAD]...`: id 0 is `[PAD]`, 1
    `[BOS]`, 2 `[EOS]`, the vocabulary follows. A molecule model is
    prompted with `[BOS]` and stops at `[EOS]`, as MOSES' CharRNN is;
    tokens are atom-level (`Cl`, `[nH]`, `%10` are one token each), as
    in Schwaller et al. 2019, so every id sequence the model writes is
    made of whole atoms and bonds. Like the other tokenizers a host-side
    object (NumPy in and out), serializable with a model's config.

    A SMILES that does not fit `sequence_length` raises rather than
    being cut: a cut molecule is another (or no) molecule.

    Args:
        vocabulary: list of distinct tokens (as `split_smiles` gives
            them); ids 3, 4, ... in this order.
        sequence_length: int >= 3. Ids per row, `[BOS]` and `[EOS]`
            included.

    Example:

    >>> tokenizer = SmilesTokenizer.from_smiles(["CCO", "c1ccccc1Cl"])
    >>> tokenizer.vocabulary
    ['1', 'C', 'Cl', 'O', 'c']
    >>> tokenizer.tokenize(["CCO"]).tolist()
    [[1, 4, 4, 6, 2, 0, 0, 0, 0, 0, 0]]
    >>> tokenizer.detokenize([[1, 4, 4, 6, 2, 0, 0, 0, 0, 0, 0]])
    ['CCO']
    """

    def __init__(self, vocabulary, sequence_length):
        vocabulary = list(vocabulary)
        if not vocabulary or not all(map(self._is_token, vocabulary)):
            raise ValueError(
                f"`vocabulary` must be a non-empty list of {self.notation} "
                f"tokens (as `{self._split.__name__}` gives them); received "
                f"{vocabulary!r:.80}."
            )
        check_distinct(vocabulary, "tokens")
        self.vocabulary = vocabulary
        self.sequence_length = validate_int(
            sequence_length, "sequence_length", minimum=3
        )
        offset = len(SPECIAL_TOKENS)
        self._ids = {token: offset + i for i, token in enumerate(vocabulary)}
        self._tokens = np.array(list(SPECIAL_TOKENS) + vocabulary)

    @classmethod
    def from_smiles(cls, smiles, sequence_length=None):
        """A tokenizer over the sorted distinct tokens of `smiles`, with
        `sequence_length` defaulting to the longest one's token count
        plus `[BOS]` and `[EOS]`."""
        smiles = _as_smiles(smiles)
        split = [cls._split(s) for s in smiles]
        vocabulary = sorted({token for tokens in split for token in tokens})
        if sequence_length is None:
            sequence_length = max(map(len, split)) + 2
        return cls(vocabulary, sequence_length)

    @property
    def vocabulary_size(self):
        """Ids in use: the tokens plus `[PAD]`, `[BOS]` and `[EOS]`."""
        return len(self.vocabulary) + len(SPECIAL_TOKENS)

    @property
    def bos_id(self):
        return SPECIAL_TOKENS.index(BOS)

    @property
    def eos_id(self):
        return SPECIAL_TOKENS.index(EOS)

    @property
    def pad_id(self):
        return SPECIAL_TOKENS.index(PAD)

    def tokenize(self, smiles):
        """`(len(smiles), sequence_length)` int32 ids of a str or a list
        or array of str (a str gives one row).

        Raises:
            ValueError: naming the offending item, for a string that is
                not SMILES, tokens outside the vocabulary, or a molecule
                longer than `sequence_length - 2` tokens.
        """
        smiles = _as_smiles(smiles)
        ids = np.full((len(smiles), self.sequence_length), self.pad_id)
        for row, text in enumerate(smiles):
            tokens = self._split(text)
            unknown = sorted(set(tokens) - set(self._ids))
            if unknown:
                raise ValueError(
                    f"`smiles[{row}]` ({text!r:.60}) holds tokens outside "
                    f"the vocabulary: {unknown[:10]!r}; build the tokenizer "
                    "from SMILES that contain them."
                )
            if len(tokens) + 2 > self.sequence_length:
                raise ValueError(
                    f"`smiles[{row}]` ({text!r:.60}) has {len(tokens)} "
                    f"tokens; at most {self.sequence_length - 2} fit "
                    f"`sequence_length` {self.sequence_length} with "
                    "[BOS] and [EOS]."
                )
            ids[row, 0] = self.bos_id
            ids[row, 1 : len(tokens) + 1] = [self._ids[t] for t in tokens]
            ids[row, len(tokens) + 1] = self.eos_id
        return ids.astype("int32")

    __call__ = tokenize

    def detokenize(self, ids):
        """The SMILES of `(batch, length)` ids: the tokens after a leading
        `[BOS]` up to the first `[EOS]` (or the row's end), padding and
        further special tokens dropped."""
        ids = check_token_ids(ids, self.vocabulary_size, ranks=(2,))
        texts = []
        for row in ids:
            if len(row) and row[0] == self.bos_id:
                row = row[1:]
            ends = np.flatnonzero(row == self.eos_id)
            if len(ends):
                row = row[: ends[0]]
            row = row[row >= len(SPECIAL_TOKENS)]
            texts.append(self._join(self._tokens[row].tolist()))
        return texts

    # === What a notation changes (`SelfiesTokenizer` overrides them) ===

    notation = "SMILES"
    _split = staticmethod(split_smiles)

    @staticmethod
    def _join(tokens):
        return "".join(tokens)

    @staticmethod
    def _is_token(token):
        return isinstance(token, str) and _TOKEN.fullmatch(token) is not None


def _as_smiles(smiles):
    smiles = as_texts(smiles, "smiles")
    if not smiles:
        raise ValueError("`smiles` must hold at least one SMILES string.")
    return smiles
