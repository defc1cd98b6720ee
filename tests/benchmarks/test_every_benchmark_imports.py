"""Every benchmark script imports: its module-level configuration (tables
read from `kgen.presets.ARCHITECTURES`, argument parsers) runs without a
GPU, data or a peer's run. `mask_git_mnist` once failed here unseen,
reading a serialized quantizer's config as a builder's arguments."""

import importlib

import pytest

from tests.conftest import REPO

SCRIPTS = sorted(
    path.stem
    for path in (REPO / "benchmarks").glob("*.py")
    if path.stem != "__init__"
)


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("script", SCRIPTS)
def test_the_benchmark_imports(script):
    module = importlib.import_module(f"benchmarks.{script}")
    assert module.__doc__, f"benchmarks/{script}.py has no docstring"
