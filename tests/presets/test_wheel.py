"""Wheels installed outside the checkout load the shipped presets offline.

Builds kgen's wheel and every preset package's from a clean copy of the
source tree (no `build/` left over from an earlier build), checks their
sizes, installs them without dependencies into a fresh venv that sees
this interpreter's packages (keras, TensorFlow, JAX, torch), and runs from
a folder outside the repository.
"""

import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap
import zipfile

import pytest

from kgen.presets import registry
from kgen.presets.architectures import list_architectures
from tests.conftest import BACKEND
from tests.conftest import REPO
from tests.presets.test_presets import SHIPPED

# PyPI's default limit is 100 MB a file; kgen's wheel stays well under it
# by carrying a core set of presets and leaving the rest to preset
# packages.
MAX_WHEEL_BYTES = 60 * 10**6
MAX_CORE_PRESET_BYTES = 40 * 10**6  # compressed, inside the wheel

SNIPPET = textwrap.dedent(
    """
    import hashlib, json, pathlib, shutil, sys
    import kgen
    from kgen.presets.reference_check import FLOAT_ATOL

    venv = pathlib.Path(sys.prefix).resolve()
    location = pathlib.Path(kgen.__file__).resolve()
    assert venv in location.parents, (location, venv)
    print("kgen from", location)
    for name in kgen.presets.list_presets():
        folder = pathlib.Path(kgen.presets.shipped_presets()[name]).resolve()
        assert venv in folder.parents, (name, folder, venv)
    # Each installed preset is the repository's: its metadata.json is the
    # same bytes, and every file it lists has its sha256, checked as it
    # loads. test_presets checks those bytes' reference samples on every
    # backend; one is drawn here, from the installed code.
    repository_metadata = json.loads(sys.argv[2])
    assert sorted(repository_metadata) == kgen.presets.list_presets()
    for name in kgen.presets.list_presets():
        folder = pathlib.Path(kgen.presets.shipped_presets()[name])
        digest = hashlib.sha256((folder / "metadata.json").read_bytes())
        assert digest.hexdigest() == repository_metadata[name], name
        kgen.presets.load_preset(name)
        print(name, "loads, every file's sha256 checked")
    difference = kgen.presets.check_preset("vae_digits")
    assert difference is not None and difference <= FLOAT_ATOL, difference
    print("vae_digits reproduces its reference:", difference)
    from kgen.presets import registry
    for name, folder in registry.shipped_lora_adapters().items():
        assert venv in pathlib.Path(folder).resolve().parents, (name, folder)
        model = kgen.presets.load_preset(name)  # the base, then the adapter
        assert kgen.lora.lora_layers(model), name
        print(name, "loads on its base")
    copy = pathlib.Path(sys.argv[1]) / "vae_digits"
    shutil.copytree(kgen.presets.shipped_presets()["vae_digits"], copy)
    weights = copy / "model.weights.h5"
    data = bytearray(weights.read_bytes())
    data[5000] ^= 1
    weights.write_bytes(bytes(data))
    try:
        kgen.presets.load_preset(copy)
    except kgen.presets.PresetError as error:
        print("tampered copy refused:", error)
    else:
        raise AssertionError("a tampered preset loaded")
    """
)


def run(command, **kwargs):
    result = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        **kwargs,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.large
@pytest.mark.skipif(
    BACKEND != "tensorflow",
    reason="packaging does not depend on the backend; test_presets checks "
    "every backend's reference samples",
)
def test_a_wheel_install_loads_the_presets_offline(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".git",
            "build",
            "dist",
            "*.egg-info",
            "__pycache__",
            ".*_cache",
            "runs",
        ),
    )
    wheels = tmp_path / "wheels"
    packages = sorted((source / "preset_packages").glob("*/pyproject.toml"))
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps"]
        + ["--no-build-isolation", "--no-index", "-w", wheels, source]
        + [package.parent for package in packages]
    )
    (wheel,) = wheels.glob("kgen-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        core = sum(
            entry.compress_size
            for entry in archive.infolist()
            if entry.filename.startswith("kgen/presets/files/")
        )
    print(f"{wheel.name}: {wheel.stat().st_size:,} bytes, presets {core:,}")
    assert wheel.stat().st_size <= MAX_WHEEL_BYTES
    assert core <= MAX_CORE_PRESET_BYTES
    preset_wheels = sorted(wheels.glob("kgen_presets_*.whl"))
    assert len(preset_wheels) == len(packages)
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--system-site-packages", venv])
    python, kgen_script = venv / "bin" / "python", venv / "bin" / "kgen"
    run(
        [python, "-m", "pip", "install", "--no-deps", "--force-reinstall"]
        + ["--no-index", wheel, *preset_wheels]
    )
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"

    listing = run([kgen_script, "presets"], cwd=outside, env=env)
    print(listing)
    names = [line.split()[0] for line in listing.splitlines()[1:]]
    adapters = sorted(registry.shipped_lora_adapters())
    assert names[: len(SHIPPED)] == sorted(SHIPPED)
    trained = len(SHIPPED) + len(adapters)
    assert names[len(SHIPPED) : trained] == adapters
    assert sorted(names[trained:]) == list_architectures()

    metadata = {
        name: hashlib.sha256(
            (pathlib.Path(folder) / "metadata.json").read_bytes()
        ).hexdigest()
        for name, folder in registry.shipped_presets().items()
    }
    report = run(
        [python, "-c", SNIPPET, outside, json.dumps(metadata)],
        cwd=outside,
        env=env,
    )
    print(report)
    assert str(venv.resolve()) in report.splitlines()[0]
    assert "tampered copy refused:" in report
