import keras

from kgen.tokenizers.smiles_tokenizer import SmilesTokenizer
from kgen.tokenizers.token_ids import as_texts

# The 20 standard amino acids' one-letter codes (IUPAC-IUB).
AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"


def split_peptide(sequence):
    """The residues of one peptide sequence in one-letter codes:
    `"GLFK"` -> `["G", "L", "F", "K"]`.

    Raises:
        ValueError: for a letter that is not one of the 20 standard amino
            acids (`AMINO_ACIDS`), naming it and its position.
    """
    if not isinstance(sequence, str) or not sequence:
        raise ValueError(
            f"a peptide must be a non-empty str; received {sequence!r:.80}."
        )
    for position, letter in enumerate(sequence):
        if letter not in AMINO_ACIDS:
            raise ValueError(
                f"{sequence!r:.80} is not a peptide in the 20 standard amino "
                f"acids' one-letter codes ({AMINO_ACIDS}): {letter!r} at "
                f"position {position}."
            )
    return list(sequence)


@keras.saving.register_keras_serializable(package="kgen")
class AminoAcidTokenizer(SmilesTokenizer):
    """Maps peptide sequences to rows of residue ids and back.

    The rows are `SmilesTokenizer`'s, `[BOS] residues... [EOS] [PAD]...`
    (id 0 `[PAD]`, 1 `[BOS]`, 2 `[EOS]`, then the vocabulary), so a
    peptide model is prompted with `[BOS]` and ends each sequence where
    it writes `[EOS]`, as a molecule model does; a residue is one token,
    one of the 20 standard amino acids' one-letter codes.

    Args:
        vocabulary: list of distinct one-letter amino-acid codes; ids 3,
            4, ... in this order.
        sequence_length: int >= 3. Ids per row, `[BOS]` and `[EOS]`
            included.

    Example:

    >>> tokenizer = AminoAcidTokenizer.from_sequences(["GLFK", "KWKL"])
    >>> tokenizer.vocabulary
    ['F', 'G', 'K', 'L', 'W']
    >>> tokenizer.detokenize(tokenizer(["KWKL"]))
    ['KWKL']
    """

    notation = "amino acid"
    _split = staticmethod(split_peptide)

    @staticmethod
    def _is_token(letter):
        return (
            isinstance(letter, str)
            and len(letter) == 1
            and (letter in AMINO_ACIDS)
        )

    @classmethod
    def from_sequences(cls, sequences, sequence_length=None):
        """A tokenizer over the sorted distinct residues of `sequences`,
        with `sequence_length` defaulting to the longest one's length
        plus `[BOS]` and `[EOS]`."""
        sequences = as_texts(sequences, "sequences")
        if not sequences:
            raise ValueError("`sequences` must hold at least one peptide.")
        return cls.from_smiles(sequences, sequence_length)
