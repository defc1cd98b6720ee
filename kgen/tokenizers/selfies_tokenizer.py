import keras

from kgen.tokenizers.smiles_tokenizer import SmilesTokenizer


def _selfies():
    try:
        import selfies
    except ImportError:
        raise ImportError(
            "The SELFIES tokenizer needs the selfies package: pip install "
            "selfies (or pip install 'kgen[chem]')."
        ) from None
    return selfies


def split_selfies(smiles):
    """The SELFIES symbols of one SMILES string (Krenn et al. 2020):
    `"c1ccccc1Cl"` -> `["[C]", "[=C]", ..., "[Ring1]", "[=Branch1]",
    "[Cl]"]`.

    Raises:
        ValueError: for a string SELFIES cannot encode (not a molecule).
    """
    selfies = _selfies()
    if not isinstance(smiles, str) or not smiles:
        raise ValueError(
            f"a SMILES must be a non-empty str; received {smiles!r:.80}."
        )
    try:
        encoded = selfies.encoder(smiles)
    except selfies.EncoderError as error:
        raise ValueError(
            f"{smiles!r:.80} is not a SMILES string SELFIES encodes: "
            f"{str(error).splitlines()[0]}"
        ) from None
    return list(selfies.split_selfies(encoded))


@keras.saving.register_keras_serializable(package="kgen")
class SelfiesTokenizer(SmilesTokenizer):
    """Maps SMILES strings to rows of SELFIES symbol ids and back.

    SELFIES (Krenn et al. 2020) spells a molecule so that every string of
    its symbols decodes to a valid molecule: a model over SELFIES tokens
    cannot write an invalid one, where a SMILES model can (an unclosed
    ring or branch). The rows are `SmilesTokenizer`'s, `[BOS] symbols...
    [EOS] [PAD]...`; `tokenize` takes SMILES (encoded with the `selfies`
    package) and `detokenize` gives SMILES back (decoded), so a SELFIES
    model is scored by the same SMILES metrics.

    Args:
        vocabulary: list of distinct SELFIES symbols (`"[C]"`,
            `"[Ring1]"`); ids 3, 4, ... in this order.
        sequence_length: int >= 3. Ids per row, `[BOS]` and `[EOS]`
            included.

    Example:

    >>> tokenizer = SelfiesTokenizer.from_smiles(["CCO", "c1ccccc1Cl"])
    >>> tokenizer.detokenize(tokenizer(["CCO"]))
    ['CCO']
    """

    notation = "SELFIES"
    _split = staticmethod(split_selfies)

    @staticmethod
    def _join(symbols):
        return _selfies().decoder("".join(symbols))

    @staticmethod
    def _is_token(symbol):
        return (
            isinstance(symbol, str)
            and len(symbol) > 2
            and symbol[0] == "["
            and symbol[-1] == "]"
            and "[" not in symbol[1:]
        )
