"""Every Python block of the README and of `docs/` runs as written.

Each block is self-contained: it runs in a namespace of its own, in an
empty working folder, with nothing from the blocks before it. They all
read data that is always there (the 8x8 digits, the toy sets, text in
the standard library, the shipped presets), so none is skipped.
"""

import pathlib
import re

import keras
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)
# The blocks that train a U-Net (diffusion, flow matching, text-to-image)
# take 20-40 s each on 2 CPU cores: they run with `-m large`, the rest in
# CI.
TRAINS_A_UNET = "kgen.networks.unet_denoiser("
# The blocks call public kgen the same way on every backend, so one
# backend proves them: torch, whose eager kernels run their tiny fits
# cheapest (tests/conftest.py: 173 s of CI's worker time under
# TensorFlow, 55 s under torch), and TensorFlow the blocks that export a
# SavedModel.
EXPORTS = "kgen.export."


def _blocks():
    for page in PAGES:
        text = page.read_text()
        for match in BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            name = f"{page.relative_to(REPO)}:{line}"
            source = match.group(1)
            marks = [
                pytest.mark.tensorflow_only
                if EXPORTS in source
                else pytest.mark.torch_only
            ]
            if TRAINS_A_UNET in source:
                marks.append(pytest.mark.large)
            yield pytest.param(source, id=name, marks=marks)


def test_the_pages_have_examples():
    assert len(list(_blocks())) >= 10


@pytest.mark.parametrize("source", _blocks())
def test_an_example_runs_as_written(source, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    keras.backend.clear_session()
    code = compile(source, "<example>", "exec")
    exec(code, {"__name__": "__main__"})
