"""Tokenizers: text to integer ids and back."""

from kgen.tokenizers.amino_acid_tokenizer import AMINO_ACIDS
from kgen.tokenizers.amino_acid_tokenizer import AminoAcidTokenizer
from kgen.tokenizers.amino_acid_tokenizer import split_peptide
from kgen.tokenizers.character_tokenizer import CharacterTokenizer
from kgen.tokenizers.clip_tokenizer import ClipTokenizer
from kgen.tokenizers.selfies_tokenizer import SelfiesTokenizer
from kgen.tokenizers.selfies_tokenizer import split_selfies
from kgen.tokenizers.smiles_tokenizer import SmilesTokenizer
from kgen.tokenizers.smiles_tokenizer import split_smiles
from kgen.tokenizers.word_tokenizer import WordTokenizer

__all__ = [
    "AMINO_ACIDS",
    "AminoAcidTokenizer",
    "CharacterTokenizer",
    "ClipTokenizer",
    "SelfiesTokenizer",
    "SmilesTokenizer",
    "WordTokenizer",
    "split_peptide",
    "split_selfies",
    "split_smiles",
]
