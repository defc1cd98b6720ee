"""The sha256 of a file, read in blocks: presets, checkpoints and the
FID-Inception weights are all checked with it."""

import hashlib


def sha256(path):
    """Hex sha256 digest of the file at `path`."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
