"""Installs kgen: deep generative models for Keras 3 on TF, JAX and torch."""

import pathlib

from setuptools import find_packages
from setuptools import setup

HERE = pathlib.Path(__file__).parent
TFP = ["tensorflow-probability>=0.25", "tf-keras>=2.20"]


def version():
    for line in (HERE / "kgen" / "version.py").read_text().splitlines():
        if line.startswith("__version__"):
            return line.split("=")[1].strip().strip('"')
    raise RuntimeError("kgen/version.py has no __version__")


setup(
    name="kgen",
    version=version(),
    description=(
        "Deep generative models (GAN, VAE, diffusion, flows, autoregressive, "
        "energy-based) for Keras 3 on TensorFlow, JAX and PyTorch."
    ),
    long_description=(HERE / "README.md").read_text(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["kgen", "kgen.*"]),
    # A core set of the pretrained presets ships inside the package, so
    # that a wheel install loads them offline
    # (`kgen.presets.load_preset(name)`); the rest are preset packages
    # (preset_packages/, found through their `kgen.presets` entry point).
    package_data={"kgen.presets": ["files/*/*"]},
    install_requires=[
        # kgen.backend.jax relies on Keras' JAX trainer internals
        # (`_make_function`); tests/backend pins the tested minor range.
        "keras>=3.15,<3.16",
        "tensorflow>=2.20,<2.22",
        # `kgen train`'s logs (`tf.summary` writes through it; TensorFlow
        # 2.21 no longer installs it).
        "tensorboard>=2.20",
        "numpy",
        "scikit-learn",
        "pillow",
    ],
    extras_require={
        "jax": ["jax[cpu]>=0.6,<0.11"],
        # TensorFlow Probability (and the tf-keras it imports), only for
        # `Bijector.to_tfp()`; the tests hold kgen's distributions and
        # bijectors against it.
        "tfp": TFP,
        "torch": ["torch>=2.6"],
        # espeak-ng's library, for the spoken-digits audio set where the
        # Debian program is not installed.
        "audio": ["espeakng-loader>=0.2", "scipy"],
        # The peers that benchmarks/ runs beside kgen and the tests'
        # oracles (never imported by the library); CI installs them so the
        # GPU suite's dry run exercises every path. transformers is the
        # oracle of the CLIP text encoder and tokenizer.
        "benchmarks": ["diffusers>=0.42,<0.43", "transformers>=5,<6", *TFP],
        # RDKit, for the molecule metrics (`kgen.metrics.molecules`).
        # MOSES' data is the molsets wheel, installed without its
        # dependencies (`pip install --no-deps molsets`): they do not build.
        "chem": ["rdkit>=2024.3", "selfies>=2.1"],
        # grain and ArrayRecord, which pack and stream sharded image
        # datasets (`kgen.datasets.pack_shards`, `kgen data pack`).
        "data": ["grain>=0.2.18,<0.3", "array-record>=0.8.6"],
        # music21, whose corpus holds Bach's chorales
        # (`kgen.datasets.load_bach_chorales`).
        "music": ["music21>=9.1"],
        # QM9's molecules in 3-D (`kgen.datasets.load_qm9`): the wheel's
        # CSV files, read without importing it.
        "qm9": ["qm9pack==1.0.3"],
        "test": [
            "pytest>=8",
            "pytest-xdist",
            "scipy",
            "ruff",
            "espeakng-loader>=0.2",
            "grain>=0.2.18,<0.3",
            "array-record>=0.8.6",
            # TF Serving's config proto, which reads `kgen export --all`'s
            # models.config in the tests (the same minor as TensorFlow).
            "tensorflow-serving-api>=2.20,<2.22",
            *TFP,
        ],
    },
    entry_points={"console_scripts": ["kgen=kgen.cli:main"]},
)
