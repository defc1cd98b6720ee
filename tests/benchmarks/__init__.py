import pytest

# `dry_run`'s helpers assert for the tests that call them; pytest shows the
# values behind a failed assert only in the modules it rewrites.
pytest.register_assert_rewrite("tests.benchmarks.dry_run")
