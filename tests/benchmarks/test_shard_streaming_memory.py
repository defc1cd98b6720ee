"""`python -m benchmarks.shard_streaming_memory --dry-run`: packing and
streaming at toy size."""

import json

import pytest

from benchmarks import shard_streaming_memory

pytest.importorskip("grain")
pytest.importorskip("array_record")

# NumPy and file reads, which one backend proves: torch, as the other
# benchmark dry runs (tests/conftest.py).
pytestmark = pytest.mark.torch_only


def test_dry_run_packs_and_streams_every_count(tmp_path):
    out = tmp_path / "result"
    result = shard_streaming_memory.main(
        ["--dry-run", "--out", str(out), "--work-dir", str(tmp_path)]
    )
    assert [(row["stage"], row["count"]) for row in result["rows"]] == [
        ("pack", 256),
        ("stream", 256),
        ("pack", 512),
        ("stream", 512),
    ]
    # Streaming runs whole global batches of 32 from four shards.
    assert [row["examples"] for row in result["rows"]] == [256, 256, 512, 512]
    assert result["stream_peak_ratio"] > 0
    stored = json.loads((tmp_path / "result.json").read_text())
    assert stored["headline"]["values"]["stream peak ratio"]
    # The shards and the work folder are gone.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]
