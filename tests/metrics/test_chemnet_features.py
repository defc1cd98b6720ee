"""`kgen.metrics.chemnet_inputs` (ChemNet's one-hot input, as `fcd`
builds it) and `chemnet`'s refusals; its features are checked against
the `fcd` package in tests/metrics/test_molecules.py."""

import numpy as np
import pytest

from kgen.metrics import chemnet_inputs
from kgen.metrics.chemnet_features import CHEMNET_LENGTH
from kgen.metrics.chemnet_features import CHEMNET_VOCABULARY

pytestmark = pytest.mark.tensorflow_only


def test_inputs_are_one_hot_symbols_then_the_end_over_35():
    inputs = chemnet_inputs(["CCl", "C[Zn]"])
    assert inputs.shape == (2, CHEMNET_LENGTH, len(CHEMNET_VOCABULARY))
    first = inputs[0] * len(CHEMNET_VOCABULARY)
    read = [CHEMNET_VOCABULARY[np.argmax(v)] for v in first[:3]]
    assert read == ["C", "Cl", "."]  # two-letter symbols are one
    assert not first[3:].any()  # zero padding to 350
    second = inputs[1] * len(CHEMNET_VOCABULARY)
    # "Z" and "n" are one unknown symbol each, both read as "X".
    read = [CHEMNET_VOCABULARY[np.argmax(v)] for v in second[:6]]
    assert read == ["C", "[", "X", "n", "]", "."]


def test_a_string_too_long_for_chemnet_is_refused():
    with pytest.raises(ValueError, match=r"`smiles\[1\]`.*at most 349"):
        chemnet_inputs(["C", "C" * 350])
