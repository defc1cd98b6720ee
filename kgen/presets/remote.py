"""Presets at a URL or on a hub, downloaded once into a local cache.

A preset folder served over HTTP loads by its URL, and one in a Hugging
Face model repository by its handle, as keras-hub's `from_preset` takes
`hf://` handles:

```python
kgen.presets.load_preset("https://example.org/presets/vae_digits/")
kgen.presets.load_preset("hf://owner/repo")          # the repo's root
kgen.presets.load_preset("hf://owner/repo/vae@v1")   # a folder, a revision
```

The card (`metadata.json`) comes first and names every other file with
its sha256; each file is streamed to disk, hashed as it arrives and
refused past `registry.MAX_FILE_BYTES`, and the folder enters the cache
(`$KGEN_CACHE_DIR`, else `~/.cache/kgen/presets`) by one rename only when
every file matches, so the cache never holds a partial or altered preset.
A cached URL loads again offline; `force_download=True` fetches it anew.
`HF_ENDPOINT` points `hf://` at a mirror, as for `huggingface_hub`.

kgen reads these few files itself (urllib) rather than through
`huggingface_hub`: a preset is a flat folder of files whose digests its
card already lists, so no more of a hub client is needed, and kgen keeps
no dependency for it.
"""

import hashlib
import os
import pathlib
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request

from kgen.presets import registry
from kgen.utils.preset_error import PresetError

SCHEMES = ("http://", "https://", "hf://")
HUGGING_FACE = "https://huggingface.co"
TIMEOUT_SECONDS = 60
CHUNK_BYTES = 2**20


def is_remote(name):
    """Whether `name` is a URL or a hub handle rather than a name or a
    local path."""
    return isinstance(name, str) and name.startswith(SCHEMES)


def cache_directory():
    """Where downloaded presets are kept: `$KGEN_CACHE_DIR`, else
    `~/.cache/kgen/presets`."""
    root = os.environ.get("KGEN_CACHE_DIR")
    if root:
        return pathlib.Path(root)
    return pathlib.Path.home() / ".cache" / "kgen" / "presets"


def folder_url(handle):
    """The URL of the preset folder that `handle` names, ending in `/`.

    `hf://owner/repo[/subfolder...][@revision]` reads the repository's
    files at `revision` (default `main`) under `$HF_ENDPOINT` (default
    `https://huggingface.co`); an `http(s)://` URL names the folder
    itself."""
    if not handle.startswith("hf://"):
        return handle.rstrip("/") + "/"
    path, _, revision = handle.removeprefix("hf://").partition("@")
    parts = [part for part in path.split("/") if part]
    if len(parts) < 2 or any(part in (".", "..") for part in parts):
        raise PresetError(
            "A hub handle must read `hf://owner/repo[/folder][@revision]`; "
            f"received {handle!r}."
        )
    endpoint = os.environ.get("HF_ENDPOINT", HUGGING_FACE).rstrip("/")
    quoted = urllib.parse.quote(revision or "main", safe="")
    folder = "/".join(parts[2:])
    return f"{endpoint}/{parts[0]}/{parts[1]}/resolve/{quoted}/" + (
        f"{folder}/" if folder else ""
    )


def download_preset(handle, force_download=False):
    """The local folder of the preset at URL or hub handle `handle`,
    downloaded into the cache unless it is there already.

    Args:
        handle: str, an `http(s)://` URL of a preset folder or an
            `hf://owner/repo[/folder][@revision]` handle.
        force_download: bool. Fetch it anew even if cached.

    Returns:
        str, the cached preset folder.

    Raises:
        PresetError: the server cannot be reached, a file is missing,
            larger than its bound or differs from its sha256, or the card
            is invalid. Nothing is left in the cache then.
    """
    url = folder_url(handle)
    key = hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]
    target = cache_directory() / key
    if target.is_dir() and not force_download:
        return str(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(
        tempfile.mkdtemp(prefix=f".{key}-", dir=target.parent)
    )
    try:
        # 1. The card, bounded like any card read from disk, then checked.
        _fetch(url, registry.METADATA, staging, registry.MAX_JSON_BYTES)
        metadata = registry.read_metadata(str(staging))
        if registry.card_digest(metadata) != metadata["card_sha256"]:
            raise PresetError(
                f"{url}{registry.METADATA}: the model card does not match "
                "its own card_sha256; the card was changed."
            )
        # 2. Every file it lists, hashed as it streams in.
        for filename, expected in sorted(metadata["files"].items()):
            actual = _fetch(url, filename, staging, registry.MAX_FILE_BYTES)
            if actual != expected:
                raise PresetError(
                    f"{url}{filename}: sha256 is {actual} but the model "
                    f"card says {expected}; the download was altered or "
                    "the card is stale."
                )
        # 3. Into the cache in one step: a reader sees all or nothing
        # (and a download that another process finished first wins).
        if target.is_dir():
            if not force_download:
                return str(target)
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return str(target)


def _fetch(url, filename, folder, max_bytes):
    """Streams `url + filename` to `folder/filename`, refusing it past
    `max_bytes`; returns its sha256."""
    source = url + urllib.parse.quote(filename)
    digest = hashlib.sha256()
    size = 0
    try:
        with urllib.request.urlopen(source, timeout=TIMEOUT_SECONDS) as reply:
            with open(folder / filename, "wb") as file:
                while chunk := reply.read(CHUNK_BYTES):
                    size += len(chunk)
                    if size > max_bytes:
                        raise PresetError(
                            f"{source}: larger than {max_bytes:,} bytes, "
                            "the most a preset file may hold; refused."
                        )
                    digest.update(chunk)
                    file.write(chunk)
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise PresetError(f"{source}: could not download ({reason}).") from None
    return digest.hexdigest()
