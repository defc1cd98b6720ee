"""The floors of docs/architecture.md, read from the code: every import,
at module level or inside a function, of the package, the recipes and the
benchmarks."""

import ast
import os
import sys

import pytest

from tests.conftest import REPO
from tests.conftest import run_checked

# One backend proves these: torch, whose import is the cheapest of the
# subprocesses the rules start (tests/conftest.py).
pytestmark = pytest.mark.torch_only

# docs/architecture.md's floors, bottom first: a package may import its
# own floor and those below.
FLOORS = (
    ("backend",),
    ("utils", "distribute"),
    ("datasets", "tokenizers"),
    (
        "layers",
        "lora",
        "losses",
        "distributions",
        "bijectors",
        "schedulers",
        "samplers",
        "metrics",
    ),
    ("callbacks",),
    ("networks",),
    ("models",),
    ("watermarks", "detection", "privacy", "augmentation", "style", "export"),
    ("presets",),
    ("cli",),
)
LEVEL = {
    f"kgen.{package}": level
    for level, packages in enumerate(FLOORS)
    for package in packages
}


def _imports(path):
    """The absolute module names `path` imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            # `from kgen import backend` imports `kgen.backend`; the root
            # package itself is loaded whatever is imported from it.
            if node.module != "kgen":
                names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _files(folder):
    return sorted((REPO / folder).rglob("*.py"))


def _floor(module):
    """`kgen.models.gan.dcgan` -> `kgen.models`; `kgen` -> `kgen`."""
    return ".".join(module.split(".")[:2])


def _kgen_module(path):
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _reaches(module, prefixes):
    return any(
        module == prefix or module.startswith(prefix + ".")
        for prefix in prefixes
    )


def test_every_package_imports_only_its_floor_and_those_below():
    assert set(LEVEL) == {
        f"kgen.{path.name}"
        for path in (REPO / "kgen").iterdir()
        if (path / "__init__.py").exists()
    }
    upward = sorted(
        (str(path.relative_to(REPO)), module)
        for path in _files("kgen")
        if _floor(_kgen_module(path)) in LEVEL
        for module in _imports(path)
        if _floor(module) in LEVEL
        and LEVEL[_floor(module)] > LEVEL[_floor(_kgen_module(path))]
    )
    assert upward == []


def test_the_models_import_neither_presets_nor_the_command_line():
    offenders = [
        (str(path.relative_to(REPO)), module)
        for path in _files("kgen/models")
        for module in _imports(path)
        if _reaches(module, ("kgen.presets", "kgen.cli"))
    ]
    assert offenders == []


def test_only_the_command_line_imports_the_command_line():
    offenders = [
        (str(path.relative_to(REPO)), module)
        for folder in ("kgen", "recipes", "benchmarks")
        for path in _files(folder)
        if not path.is_relative_to(REPO / "kgen" / "cli")
        and path != REPO / "kgen" / "__main__.py"
        for module in _imports(path)
        if _reaches(module, ("kgen.cli",))
    ]
    assert offenders == []


def test_recipes_do_not_import_benchmarks():
    importing = {
        path.name
        for path in _files("recipes")
        if any(_reaches(module, ("benchmarks",)) for module in _imports(path))
    }
    assert importing == set()


def test_no_import_circle_passes_through_the_models_or_the_presets():
    edges = {}
    for path in _files("kgen"):
        source = _floor(_kgen_module(path))
        for module in _imports(path):
            if _reaches(module, ("kgen",)) and _floor(module) != source:
                edges.setdefault(source, set()).add(_floor(module))

    def reachable(start):
        seen, stack = set(), [start]
        while stack:
            for target in edges.get(stack.pop(), ()):
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
        return seen

    for floor in ("kgen.models", "kgen.presets"):
        circle = sorted(
            other
            for other in reachable(floor)
            if floor in reachable(other) and other != floor
        )
        assert floor not in reachable(floor), (floor, circle)


# Run in a fresh torch process; where TensorFlow was loaded, it prints
# the stack of the last search for it (others only ask whether it is
# installed; once loaded, it is not searched for again), so the failure
# names the culprit.
IMPORT_KGEN_WITHOUT_TENSORFLOW = """
import sys
import traceback

stacks = []


class RecordTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow":
            stacks.append("".join(traceback.format_stack()))


sys.meta_path.insert(0, RecordTensorFlow())
import kgen

if "tensorflow" in sys.modules:
    sys.exit("TensorFlow was imported with kgen, from:\\n" + stacks[-1])
"""


def test_importing_kgen_off_tensorflow_loads_no_tensorflow():
    # Loading TensorFlow costs a JAX or torch process about 3 s (a `kgen`
    # command that exports or logs nothing); Keras'
    # `serialize_keras_object` imports it for any object that is not a
    # plain value, so nothing may be serialized when kgen is imported.
    run_checked(
        [sys.executable, "-c", IMPORT_KGEN_WITHOUT_TENSORFLOW],
        env=dict(os.environ, KERAS_BACKEND="torch"),
        timeout=300,
    )
