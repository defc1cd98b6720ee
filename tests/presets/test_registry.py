"""Where named presets are found: kgen's core set and preset packages.

A preset package is found through its `kgen.presets` entry point, as pip
installs it: these tests write a package's files and its `.dist-info`
(the metadata pip writes) on `sys.path`, so `importlib.metadata` finds it
as it finds an installed wheel.
"""

import pathlib
import shutil

import pytest

import kgen
from kgen.presets import registry
from tests.conftest import REPO

# The standard library reads TOML from Python 3.11 on.
tomllib = pytest.importorskip("tomllib")

PACKAGES = REPO / "preset_packages"


@pytest.fixture
def fresh_registry():
    registry.shipped_presets.cache_clear()
    yield
    registry.shipped_presets.cache_clear()


def install_fake_package(
    monkeypatch, site, module, entry_point=None, presets=()
):
    """Writes a preset package `module` holding copies of `presets` (core
    presets) and its dist-info, as `pip install` would, under `site`, and
    puts `site` on `sys.path` for the test. Returns its files folder."""
    entry_point = entry_point or f"{module}:FILES"
    files = site / module / "files"
    files.mkdir(parents=True)
    (site / module / "__init__.py").write_text(
        "import pathlib\nFILES = pathlib.Path(__file__).parent / 'files'\n"
    )
    for name, copy_as in presets:
        shutil.copytree(registry.FILES / name, files / copy_as)
    dist_info = site / f"{module}-0.1.0.dist-info"
    dist_info.mkdir()
    distribution = module.replace("_", "-")
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0.1.0\n"
    )
    (dist_info / "entry_points.txt").write_text(
        f"[{registry.ENTRY_POINT_GROUP}]\nfake = {entry_point}\n"
    )
    monkeypatch.syspath_prepend(str(site))
    return files


@pytest.mark.tensorflow_only
def test_an_installed_package_s_presets_load_by_name_checked(
    tmp_path, monkeypatch, fresh_registry
):
    files = install_fake_package(
        monkeypatch,
        tmp_path / "site",
        "kgen_presets_fake",
        presets=[("nsf_checkerboard", "nsf_checkerboard_copy")],
    )
    assert ("kgen-presets-fake", files) in registry.preset_folders()
    assert "nsf_checkerboard_copy" in kgen.presets.list_presets()
    model = kgen.presets.load_preset("nsf_checkerboard_copy")
    assert type(model).__name__ == "NeuralSplineFlow"

    weights = files / "nsf_checkerboard_copy" / registry.WEIGHTS
    data = bytearray(weights.read_bytes())
    data[-100] ^= 1
    weights.write_bytes(bytes(data))
    with pytest.raises(kgen.presets.PresetError, match="sha256"):
        kgen.presets.load_preset("nsf_checkerboard_copy")


def test_kgen_s_own_preset_wins_a_name_clash_with_a_warning(
    tmp_path, monkeypatch, fresh_registry
):
    install_fake_package(
        monkeypatch,
        tmp_path / "site",
        "kgen_presets_clash",
        presets=[("nsf_checkerboard", "nsf_checkerboard")],
    )
    with pytest.warns(UserWarning, match="kgen-presets-clash"):
        presets = registry.shipped_presets()
    assert presets["nsf_checkerboard"] == str(
        registry.FILES / "nsf_checkerboard"
    )


@pytest.mark.parametrize(
    "value, message",
    [
        ("kgen_presets_broken:MISSING", "does not load"),
        ("kgen_presets_broken_nowhere:FILES", "does not load"),
        ("pathlib:__name__", "names pathlib"),
    ],
)
def test_a_broken_package_is_named_and_left_out(
    tmp_path, monkeypatch, fresh_registry, value, message
):
    install_fake_package(
        monkeypatch, tmp_path / "site", "kgen_presets_broken", value
    )
    with pytest.warns(UserWarning, match=message) as warned:
        presets = registry.shipped_presets()
    assert "kgen-presets-broken" in str(warned[0].message)
    assert "nsf_checkerboard" in presets


def test_a_preset_of_a_package_not_installed_names_the_package(
    monkeypatch, fresh_registry
):
    monkeypatch.setattr(
        registry, "preset_folders", lambda: [("kgen", registry.FILES)]
    )
    with pytest.raises(kgen.presets.PresetError) as error:
        kgen.presets.load_preset("wavegan_spoken_digits")
    assert "kgen-presets-audio" in str(error.value)
    assert "pip install preset_packages/audio" in str(error.value)
    assert "wavegan_spoken_digits" not in kgen.presets.list_presets()


def test_the_package_table_matches_the_repository_s_packages():
    folders = sorted(path.parent for path in PACKAGES.glob("*/pyproject.toml"))
    assert [
        PACKAGES.parent / kgen.presets.package_source(package)
        for package in sorted(kgen.presets.PRESET_PACKAGES)
    ] == folders
    requirements = (PACKAGES / "requirements.txt").read_text().split("\n")
    for package, names in kgen.presets.PRESET_PACKAGES.items():
        source = kgen.presets.package_source(package)
        project = tomllib.loads((REPO / source / "pyproject.toml").read_text())
        module = package.replace("-", "_")
        assert project["project"]["name"] == package
        entry_points = project["project"]["entry-points"]
        assert list(entry_points[registry.ENTRY_POINT_GROUP].values()) == [
            f"{module}:FILES"
        ]
        files = REPO / source / module / "files"
        assert tuple(sorted(p.name for p in files.iterdir())) == names
        assert f"-e ./{source}" in requirements
        for name in names:
            assert kgen.presets.package_of(name) == package
            assert not (registry.FILES / name).exists()


def test_every_preset_is_installed_where_ci_runs():
    """CI installs every preset package (the README's test command), so
    each package's presets resolve to the checkout's own folders."""
    for package, names in kgen.presets.PRESET_PACKAGES.items():
        source = REPO / kgen.presets.package_source(package)
        for name in names:
            folder = pathlib.Path(kgen.presets.shipped_presets()[name])
            assert folder.name == name
            assert (folder / registry.METADATA).read_bytes() == (
                source / package.replace("-", "_") / "files" / name
            ).joinpath(registry.METADATA).read_bytes()
