"""Datasets: the embedded digits (default), MNIST offline first,
Fashion-MNIST, colour emoji, captioned images, 2-D toys, text corpora,
procedural textures, molecules (MOSES' SMILES, antimicrobial peptides,
QM9 in 3-D),
Moving MNIST clips, Bach's chorales; image sets packed into shards and
streamed (`pack_shards`, `from_shards`)."""

from kgen.datasets.bach_chorales import BACH_CHORALE_SPLITS
from kgen.datasets.bach_chorales import chorale_frames
from kgen.datasets.bach_chorales import chorale_windows
from kgen.datasets.bach_chorales import load_bach_chorales
from kgen.datasets.bach_chorales import ordered_voices_fraction
from kgen.datasets.bach_chorales import pitch_tokens
from kgen.datasets.bach_chorales import token_pitches
from kgen.datasets.captioned import load_captioned
from kgen.datasets.dynamic_binarization import DynamicBinarization
from kgen.datasets.dynamic_binarization import binarize
from kgen.datasets.loader import available
from kgen.datasets.loader import load
from kgen.datasets.molecules import MOSES_SPLITS
from kgen.datasets.molecules import PEPTIDE_SPLITS
from kgen.datasets.molecules import load_molecules
from kgen.datasets.molecules import load_moses_statistics
from kgen.datasets.molecules import load_peptides
from kgen.datasets.molecules import moses_data_file
from kgen.datasets.molecules import moses_filter_smarts
from kgen.datasets.moving_mnist import load_moving_mnist
from kgen.datasets.moving_mnist import moving_mnist_clips
from kgen.datasets.paired import load_paired
from kgen.datasets.paired import unpaired
from kgen.datasets.qm9 import QM9_ELEMENTS
from kgen.datasets.qm9 import QM9_INPUTS
from kgen.datasets.qm9 import QM9_MAX_ATOMS
from kgen.datasets.qm9 import QM9_PROPERTIES
from kgen.datasets.qm9 import QM9_SPLIT_SIZES
from kgen.datasets.qm9 import QM9_SPLITS
from kgen.datasets.qm9 import load_qm9
from kgen.datasets.sharded_images import ShardedImages
from kgen.datasets.shards import from_shards
from kgen.datasets.shards import pack_shards
from kgen.datasets.spoken_digits import SPOKEN_DIGITS_HELD_OUT_PITCH
from kgen.datasets.spoken_digits import SPOKEN_DIGITS_PITCHES
from kgen.datasets.spoken_digits import SPOKEN_DIGITS_SAMPLE_RATE
from kgen.datasets.spoken_digits import load_spoken_digits
from kgen.datasets.spoken_digits import load_spoken_digits_many_voices
from kgen.datasets.spoken_digits import load_spoken_digits_split
from kgen.datasets.text import load_text
from kgen.datasets.text import random_windows
from kgen.datasets.textures import TEXTURE_KINDS
from kgen.datasets.textures import load_textures
from kgen.datasets.toy import EIGHT_GAUSSIANS_CENTERS
from kgen.datasets.toy import EIGHT_GAUSSIANS_STD
from kgen.datasets.toy import load_toy

__all__ = [
    "BACH_CHORALE_SPLITS",
    "DynamicBinarization",
    "EIGHT_GAUSSIANS_CENTERS",
    "EIGHT_GAUSSIANS_STD",
    "SPOKEN_DIGITS_HELD_OUT_PITCH",
    "SPOKEN_DIGITS_PITCHES",
    "SPOKEN_DIGITS_SAMPLE_RATE",
    "MOSES_SPLITS",
    "PEPTIDE_SPLITS",
    "QM9_ELEMENTS",
    "QM9_INPUTS",
    "QM9_MAX_ATOMS",
    "QM9_PROPERTIES",
    "QM9_SPLIT_SIZES",
    "QM9_SPLITS",
    "ShardedImages",
    "TEXTURE_KINDS",
    "available",
    "binarize",
    "chorale_frames",
    "chorale_windows",
    "from_shards",
    "load",
    "load_bach_chorales",
    "load_captioned",
    "pack_shards",
    "load_molecules",
    "load_moving_mnist",
    "load_moses_statistics",
    "load_paired",
    "load_peptides",
    "load_qm9",
    "load_spoken_digits",
    "load_spoken_digits_many_voices",
    "load_spoken_digits_split",
    "load_text",
    "load_textures",
    "load_toy",
    "moses_data_file",
    "moses_filter_smarts",
    "moving_mnist_clips",
    "ordered_voices_fraction",
    "pitch_tokens",
    "random_windows",
    "token_pitches",
    "unpaired",
]
