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
refused past `registry.MAX_FILE_BYTES` (and the preset past
`MAX_PRESET_BYTES`), and the folder enters the cache (`$KGEN_CACHE_DIR`,
else `~/.cache/kgen/presets`) by one rename only when every file matches
its card, so the cache never holds a partial, truncated or damaged
preset. As for a folder on disk, the digests prove integrity, not
authenticity: whoever serves the card serves its digests, so load from
servers you trust (https). A cached URL loads again offline;
`force_download=True` fetches it anew. `HF_ENDPOINT` points `hf://` at a
mirror, as for `huggingface_hub`.

kgen reads these few files itself (urllib) rather than through
`huggingface_hub`: a preset is a flat folder of files whose digests its
card already lists, so no more of a hub client is needed, and kgen keeps
no dependency for it.
"""

import hashlib
import http.client
import os
import pathlib
import re
import shutil
import tempfile
import time
import urllib.parse
import urllib.request

from kgen.presets import registry
from kgen.utils.preset_error import PresetError

SCHEMES = ("http://", "https://", "hf://")
HUGGING_FACE = "https://huggingface.co"
TIMEOUT_SECONDS = 60
CHUNK_BYTES = 2**20
# The most one preset may download, all files together; the shipped ones
# are under 20 MB.
MAX_PRESET_BYTES = 8 * 2**30
# An owner, repository, folder or revision of a hub handle: the names the
# hubs allow, so a handle cannot reach past its repository or smuggle a
# query into the URL.
HANDLE_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# A staging folder (`.<key>-*`) none of whose files has grown for this
# long was left by a download that was killed; the next download sweeps
# it away. A live download writes to its newest file all along, however
# slow the line.
STALE_STAGING_SECONDS = 24 * 3600
# The staging and set-aside folders of `download_preset` and `_install`,
# and nothing else a user may keep in the cache's folder.
STAGING_NAME = re.compile(r"\.[0-9a-f]{32}-.+")


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
        parts = urllib.parse.urlsplit(handle)
        if parts.query or parts.fragment or not parts.netloc:
            raise PresetError(
                "`handle` must be the URL of a preset folder, without a "
                f"query or fragment; received {handle!r}."
            )
        return handle.rstrip("/") + "/"
    path, _, revision = handle.removeprefix("hf://").partition("@")
    parts = [part for part in path.split("/") if part]
    names = parts + [revision or "main"]
    if len(parts) < 2 or not all(
        HANDLE_PART.fullmatch(name) and ".." not in name for name in names
    ):
        raise PresetError(
            "`handle` must read `hf://owner/repo[/folder][@revision]` "
            "(letters, digits, '.', '_' and '-' in each part); received "
            f"{handle!r}."
        )
    endpoint = os.environ.get("HF_ENDPOINT", HUGGING_FACE).rstrip("/")
    folders = "".join(f"{folder}/" for folder in parts[2:])
    return f"{endpoint}/{parts[0]}/{parts[1]}/resolve/{names[-1]}/{folders}"


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
    _sweep_stale_staging(target.parent)
    staging = pathlib.Path(
        tempfile.mkdtemp(prefix=f".{key}-", dir=target.parent)
    )
    try:
        # 1. The card first: it bounds and names everything else.
        _fetch(url, registry.METADATA, staging, registry.MAX_JSON_BYTES)
        metadata = registry.read_metadata(str(staging))
        registry.check_card_digest(metadata, url + registry.METADATA)
        # 2. Every file it lists, hashed as it streams in, so a damaged
        # file is refused before anything reads it.
        remaining = MAX_PRESET_BYTES
        for filename, expected in sorted(metadata["files"].items()):
            limit = min(registry.MAX_FILE_BYTES, remaining)
            actual, size = _fetch(url, filename, staging, limit)
            remaining -= size
            if actual != expected:
                raise PresetError(
                    f"{url}{filename}: sha256 is {actual} but the model "
                    f"card says {expected}; the download was altered or "
                    "the card is stale."
                )
        # 3. Into the cache in one rename, so a reader sees all or nothing;
        # readable by all, as a shared cache must be (mkdtemp's is not).
        staging.chmod(0o755)
        _install(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return str(target)


def _sweep_stale_staging(cache):
    """Deletes the staging folders in `cache` that killed downloads
    left behind (older than `STALE_STAGING_SECONDS`)."""
    now = time.time()
    for folder in cache.iterdir():
        if not STAGING_NAME.fullmatch(folder.name):
            continue
        try:
            newest = max(
                path.stat().st_mtime for path in [folder, *folder.iterdir()]
            )
        except OSError:  # not a folder, or another process swept it
            continue
        if now - newest > STALE_STAGING_SECONDS:
            shutil.rmtree(folder, ignore_errors=True)


def _install(staging, target):
    """Renames `staging` to `target`. An older copy is renamed aside
    first and deleted after, so `target` is never half there; a copy that
    another process put there first is kept."""
    old = None
    if target.is_dir():
        old = target.with_name(f".{target.name}-old-{os.getpid()}")
        os.replace(target, old)
    try:
        os.replace(staging, target)
    except OSError:
        if not target.is_dir():
            raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _fetch(url, filename, folder, max_bytes):
    """Streams `url + filename` to `folder/filename`, refusing it past
    `max_bytes`; returns its sha256 and its size."""
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
                            "the most a preset's files may hold; refused."
                        )
                    digest.update(chunk)
                    file.write(chunk)
    except (OSError, ValueError, http.client.HTTPException) as error:
        # URLError is an OSError; a malformed URL or a truncated or
        # garbled reply raise the others.
        reason = getattr(error, "reason", error)
        raise PresetError(f"{source}: could not download ({reason}).") from None
    return digest.hexdigest(), size
