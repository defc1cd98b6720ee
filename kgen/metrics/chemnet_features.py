"""ChemNet (Preuer et al. 2018), the network of the Frechet ChemNet
Distance, with the genuine weights of the `fcd` package's wheel.

FCD compares the penultimate activations ChemNet gives two sets of
SMILES, as FID compares Inception's. Its weights ship only inside the
`fcd` wheel (`fcd/ChemNet_v0.13_pretrained.pt`, `pip install --no-deps
fcd==1.2.2`); `fcd` itself needs torch, so kgen reads the file with its
NumPy reader of torch archives (`kgen.utils.torchscript_reader`) and
runs the network in Keras on any backend.
"""

import re

import keras
import numpy as np
from keras import layers
from keras import ops

from kgen.tokenizers.token_ids import as_texts
from kgen.utils.torchscript_reader import read_archive
from kgen.utils.wheel_data import wheel_data_file

# ChemNet's input symbols, in the order of its one-hot columns; "X"
# stands for any other character, "." ends the string.
CHEMNET_VOCABULARY = (
    "C", "N", "O", "H", "F", "Cl", "P", "B", "Br", "S", "I", "Si", "#",
    "(", ")", "+", "-", "1", "2", "3", "4", "5", "6", "7", "8", "=", "[",
    "]", "@", "c", "n", "o", "s", "X", ".",
)  # fmt: skip
# Every string is padded to 350 positions, the length ChemNet's
# published statistics were computed at.
CHEMNET_LENGTH = 350
_WEIGHTS = "fcd/ChemNet_v0.13_pretrained.pt"
# Two-character symbols first, so that "Cl" is not read as "C", "l".
_SYMBOL = re.compile(
    "|".join(
        re.escape(symbol)
        for symbol in sorted(CHEMNET_VOCABULARY, key=len, reverse=True)
    )
    + "|."
)


def chemnet_weights_file():
    """The path of ChemNet's weights in the installed `fcd` wheel.

    Raises:
        FileNotFoundError: `fcd` is not installed, saying how to install
            it.
    """
    return wheel_data_file(
        "fcd",
        _WEIGHTS,
        "ChemNet's weights come",
        "pip install --no-deps fcd==1.2.2 (kgen reads only its weights)",
    )


def chemnet_inputs(smiles):
    """`(n, 350, 35)` float32 inputs of ChemNet: each SMILES and its end
    symbol `"."`, one-hot by symbol and divided by 35, as `fcd` feeds it.

    Raises:
        ValueError: a string of 350 symbols or more.
    """
    smiles = as_texts(smiles, "smiles")
    index = {symbol: i for i, symbol in enumerate(CHEMNET_VOCABULARY)}
    unknown = index["X"]
    inputs = np.zeros(
        (len(smiles), CHEMNET_LENGTH, len(CHEMNET_VOCABULARY)), "float32"
    )
    for row, text in enumerate(smiles):
        symbols = _SYMBOL.findall(text + ".")
        if len(symbols) > CHEMNET_LENGTH:
            raise ValueError(
                f"`smiles[{row}]` ({text!r:.60}) has {len(symbols) - 1} "
                f"symbols; ChemNet reads at most {CHEMNET_LENGTH - 1}."
            )
        columns = [index.get(symbol, unknown) for symbol in symbols]
        inputs[row, np.arange(len(columns)), columns] = 1.0
    return inputs / len(CHEMNET_VOCABULARY)


def chemnet(weights_path=None):
    """ChemNet up to its penultimate layer: `(n, 350, 35)` inputs
    (`chemnet_inputs`) -> `(n, 512)` features.

    ```
    h = selu(conv1d(x, 32 filters, width 4, stride 2, "same"))  twice
    h = LSTM_128(reverse(h))                (every step)
    f = LSTM_512(reverse(h))[last step]
    ```

    Args:
        weights_path: `fcd`'s `ChemNet_v0.13_pretrained.pt`, or `None`
            for the installed wheel's (`chemnet_weights_file`).

    Returns:
        A `keras.Model`, not trainable.
    """
    records = read_archive(weights_path or chemnet_weights_file())
    inputs = keras.Input((CHEMNET_LENGTH, len(CHEMNET_VOCABULARY)))
    h, assignments = inputs, []
    for index, (kind, (state, _, details)) in enumerate(records):
        if kind == "Conv1d":
            layer = layers.Conv1D(
                state["weight"].shape[0],
                state["weight"].shape[2],
                strides=2,
                padding=details["padding"],
                activation=details["activation"],
                use_bias=False,
                name=f"conv_{index}",
            )
            h = layer(h)
            # torch's (out, in, width) kernel is Keras' (width, in, out).
            assignments.append((layer, [state["weight"].transpose(2, 1, 0)]))
        elif kind == "LSTM":
            # torch's gate order (input, forget, cell, output) is Keras';
            # its two biases add up to Keras' one.
            layer = layers.LSTM(
                state["weight_hh_l0"].shape[1],
                return_sequences=not details["last"],
                name=f"lstm_{index}",
            )
            if details["reverse"]:
                h = layers.Lambda(lambda x: ops.flip(x, axis=1))(h)
            h = layer(h)
            assignments.append(
                (
                    layer,
                    [
                        state["weight_ih_l0"].T,
                        state["weight_hh_l0"].T,
                        state["bias_ih_l0"] + state["bias_hh_l0"],
                    ],
                )
            )
        else:
            raise ValueError(f"ChemNet's weights hold an unknown {kind!r}.")
    for layer, weights in assignments:
        layer.set_weights(weights)
    model = keras.Model(inputs, h, name="chemnet")
    model.trainable = False
    return model
