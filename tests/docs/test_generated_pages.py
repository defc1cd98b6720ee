"""The generated halves of `docs/cli.md`, `docs/presets.md`,
`docs/contract.md` and `docs/benchmarks.md` are fresh."""

import importlib.util
import pathlib

import pytest

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs"


def _generator():
    spec = importlib.util.spec_from_file_location(
        "docs_generate", DOCS / "generate.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.tensorflow_only
@pytest.mark.parametrize(
    "page", ["cli.md", "presets.md", "contract.md", "benchmarks.md"]
)
def test_a_generated_page_is_fresh(page):
    generator = _generator()
    assert generator.render(page) == (DOCS / page).read_text(), (
        f"docs/{page} is stale: run `python docs/generate.py`"
    )
