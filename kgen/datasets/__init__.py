"""Datasets: the embedded digits (default) and MNIST, offline first."""

from kgen.datasets.loader import available
from kgen.datasets.loader import load

__all__ = ["available", "load"]
