"""Tokenizers: text to integer ids and back."""

from kgen.tokenizers.character_tokenizer import CharacterTokenizer

__all__ = ["CharacterTokenizer"]
