"""Tokenizers: text to integer ids and back."""

from kgen.tokenizers.character_tokenizer import CharacterTokenizer
from kgen.tokenizers.word_tokenizer import WordTokenizer

__all__ = ["CharacterTokenizer", "WordTokenizer"]
