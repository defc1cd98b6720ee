"""Presets load from a URL and from an `hf://` handle, downloaded once.

Each test serves a mirror of a hub from a folder over HTTP on 127.0.0.1
(a thread of this process, stopped at the end of the test) and points
`HF_ENDPOINT` and kgen's cache at temporary folders.
"""

import functools
import http.server
import os
import shutil
import threading
import time

import numpy as np
import pytest

import kgen
from kgen import cli
from kgen.presets import registry
from kgen.presets import remote
from tests.conftest import to_numpy

PRESET = "vae_digits"


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """`(root, address)`: a folder served over HTTP on 127.0.0.1, with
    the cache and `HF_ENDPOINT` pointed at it for the test."""
    root = tmp_path / "mirror"
    root.mkdir()
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    address = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("KGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_ENDPOINT", address)
    # A proxy in the environment must not take the mirror's requests.
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setattr(remote, "TIMEOUT_SECONDS", 10)
    yield root, address
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def publish(root, path):
    """Copies the shipped preset `PRESET` to `root/path`."""
    folder = root / path
    shutil.copytree(kgen.presets.shipped_presets()[PRESET], folder)
    return folder


def cached_folders(tmp_path):
    cache = tmp_path / "cache"
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


@pytest.mark.tensorflow_only
def test_a_preset_loads_from_a_url_and_then_offline(mirror, tmp_path):
    root, address = mirror
    publish(root, "presets/vae")
    url = f"{address}/presets/vae/"
    model = kgen.presets.load_preset(url)
    shipped = kgen.presets.load_preset(PRESET)
    np.testing.assert_array_equal(
        to_numpy(model.sample(4, seed=0)), to_numpy(shipped.sample(4, seed=0))
    )
    assert kgen.presets.preset_metadata(url)["name"] == PRESET
    assert isinstance(kgen.models.VAE.from_preset(url), kgen.models.VAE)
    (cached,) = cached_folders(tmp_path)

    shutil.rmtree(root / "presets")  # the server no longer has it
    assert kgen.presets.load_preset(url.rstrip("/")) is not None
    assert cached_folders(tmp_path) == [cached]
    with pytest.raises(kgen.presets.PresetError, match="could not download"):
        kgen.presets.download_preset(url, force_download=True)
    assert cached_folders(tmp_path) == [cached]


@pytest.mark.tensorflow_only
def test_a_hub_handle_reads_a_revision_of_a_repository(mirror):
    root, _ = mirror
    publish(root, "owner/repo/resolve/v1/vae")
    folder = kgen.presets.download_preset("hf://owner/repo/vae@v1")
    card = registry.read_metadata(folder)
    assert card["name"] == PRESET
    with pytest.raises(kgen.presets.PresetError, match="resolve/main/"):
        kgen.presets.download_preset("hf://owner/repo/vae")


@pytest.mark.parametrize(
    "handle",
    [
        "hf://owner",
        "hf://owner/../x",
        "hf://owner/%2e%2e/x",
        "hf://owner/repo#x",
        "hf://owner/repo?x=1",
        "hf://owner/repo@main/../x",
        "hf://owner/re po",
    ],
)
def test_a_malformed_hub_handle_is_named(handle):
    with pytest.raises(kgen.presets.PresetError, match="`handle` must read"):
        remote.folder_url(handle)


@pytest.mark.parametrize(
    "url", ["https://host/a/?sig=1", "https://host/a#b", "https:///a"]
)
def test_a_url_with_a_query_or_no_host_is_refused(url):
    with pytest.raises(kgen.presets.PresetError, match="without a query"):
        remote.folder_url(url)


def test_an_altered_file_never_enters_the_cache(mirror, tmp_path):
    root, address = mirror
    folder = publish(root, "vae")
    weights = folder / registry.WEIGHTS
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    with pytest.raises(kgen.presets.PresetError, match="sha256"):
        kgen.presets.download_preset(f"{address}/vae")
    assert cached_folders(tmp_path) == []


@pytest.mark.parametrize(
    "owner, bound",
    [(registry, "MAX_FILE_BYTES"), (remote, "MAX_PRESET_BYTES")],
    ids=["a_file", "the_preset"],
)
def test_a_download_past_its_bound_is_refused_while_it_streams(
    mirror, tmp_path, monkeypatch, owner, bound
):
    root, address = mirror
    publish(root, "vae")
    monkeypatch.setattr(owner, bound, 4096)
    with pytest.raises(kgen.presets.PresetError, match="larger than 4,096"):
        kgen.presets.download_preset(f"{address}/vae")
    assert cached_folders(tmp_path) == []


def test_a_download_sweeps_what_a_killed_one_left(mirror, tmp_path):
    root, address = mirror
    publish(root, "vae")
    cache = tmp_path / "cache"
    stale, live = cache / f".{'0' * 32}-killed", cache / f".{'1' * 32}-live"
    mine = cache / ".my-notes"  # a folder of the user's, not kgen's
    day_ago = time.time() - remote.STALE_STAGING_SECONDS - 60
    for folder in (stale, live, mine):
        folder.mkdir(parents=True)
        (folder / registry.METADATA).write_text("{}")
        os.utime(folder / registry.METADATA, (day_ago, day_ago))
        os.utime(folder, (day_ago, day_ago))
    # Another process's download, still streaming into its newest file.
    (live / registry.WEIGHTS).write_bytes(b"...")
    kgen.presets.download_preset(f"{address}/vae")
    assert not stale.exists()
    assert live.exists() and mine.exists()
    assert len(cached_folders(tmp_path)) == 3


def test_a_missing_file_is_named(mirror, tmp_path):
    root, address = mirror
    folder = publish(root, "vae")
    (folder / registry.CONFIG).unlink()
    with pytest.raises(kgen.presets.PresetError, match=registry.CONFIG):
        kgen.presets.download_preset(f"{address}/vae")
    assert cached_folders(tmp_path) == []


@pytest.mark.tensorflow_only
def test_the_command_line_samples_a_preset_at_a_url(mirror, tmp_path):
    root, address = mirror
    publish(root, "owner/repo/resolve/main")
    grid = tmp_path / "grid.png"
    assert (
        cli.main(["sample", "hf://owner/repo", "-n", "4", "--out", str(grid)])
        == 0
    )
    assert grid.stat().st_size > 0
