"""The 8x8 block DCT that JPEG and Watson's perceptual model share."""

import math

import numpy as np
from keras import ops

BLOCK = 8


def dct_matrix():
    """`D[u, x] = c(u) / 2 cos((2 x + 1) u pi / 16)`, `c(0) = 1 / sqrt(2)`:
    the orthonormal 8-point DCT-II of JPEG, so `block' = D block D**T`."""
    u = np.arange(BLOCK)[:, None]
    x = np.arange(BLOCK)[None, :]
    matrix = np.cos((2 * x + 1) * u * math.pi / (2 * BLOCK)) / 2
    matrix[0] /= math.sqrt(2)
    return matrix.astype("float32")


def edge_pad_to_blocks(pixels):
    """Pads `(batch, height, width, channels)` to multiples of 8 by
    repeating the last row and column (by concatenation: `ops.pad`'s
    "edge" mode runs on JAX only)."""
    height, width = pixels.shape[1:3]
    pad_height, pad_width = -height % BLOCK, -width % BLOCK
    if pad_height:
        pixels = ops.concatenate(
            [pixels] + [pixels[:, -1:]] * pad_height, axis=1
        )
    if pad_width:
        pixels = ops.concatenate(
            [pixels] + [pixels[:, :, -1:]] * pad_width, axis=2
        )
    return pixels


def blockwise_dct(pixels):
    """`(batch, height, width, channels)`, both sides multiples of 8 ->
    coefficients `(batch, rows, 8, columns, 8, channels)`, axis 2 the
    vertical frequency `u` and axis 4 the horizontal `v` of each block."""
    height, width, channels = pixels.shape[1:]
    blocks = ops.reshape(
        pixels,
        (-1, height // BLOCK, BLOCK, width // BLOCK, BLOCK, channels),
    )
    dct = ops.convert_to_tensor(dct_matrix())
    return ops.einsum("ux,brxcyk,vy->brucvk", dct, blocks, dct)


def inverse_blockwise_dct(coefficients):
    """The inverse of `blockwise_dct`: back to `(batch, height, width,
    channels)`."""
    _, rows, _, columns, _, channels = coefficients.shape
    dct = ops.convert_to_tensor(dct_matrix())
    blocks = ops.einsum("ux,brucvk,vy->brxcyk", dct, coefficients, dct)
    return ops.reshape(blocks, (-1, rows * BLOCK, columns * BLOCK, channels))
