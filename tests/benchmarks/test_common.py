"""`benchmarks.common`: a result is written whole, with the headline
`docs/benchmarks.md` shows, and refused when its headline points at
nothing; a benchmark's common flags keep one type and meaning."""

import json

import pytest

from benchmarks import common

HEADLINE = {
    "title": "A toy result",
    "values": {"FID": "/rows/1/fid", "steps": "/steps"},
    "peer": "nothing",
}


@pytest.mark.torch_only
def test_write_json_stores_the_headline_with_its_command_and_hardware(
    tmp_path,
):
    payload = {"steps": 3, "rows": [{"fid": 9.0}, {"fid": 7.5}]}
    path = common.write_json(str(tmp_path / "toy"), payload, headline=HEADLINE)
    stored = json.loads(open(path).read())
    assert stored["headline"]["title"] == "A toy result"
    assert stored["headline"]["command"].startswith(
        ("python -m", "KERAS_BACKEND=")
    )
    assert "CPU core" in stored["headline"]["hardware"]
    assert common.headline_values(stored) == {"FID": 7.5, "steps": 3}
    assert list(tmp_path.iterdir()) == [tmp_path / "toy.json"]


@pytest.mark.torch_only
@pytest.mark.parametrize(
    "values, message",
    [
        ({"FID": "/rows/5/fid"}, "nothing at '5'"),
        ({"FID": "rows/0/fid"}, "must start with '/'"),
        ({"FID": "/rows/0"}, "expected a number"),
    ],
)
def test_a_headline_that_misses_is_refused_and_nothing_is_written(
    tmp_path, values, message
):
    with pytest.raises(ValueError, match=message):
        common.write_json(
            str(tmp_path / "toy"),
            {"rows": [{"fid": 9.0}]},
            headline=dict(HEADLINE, values=values),
        )
    assert list(tmp_path.iterdir()) == []


def test_a_headline_without_a_title_is_refused():
    headline = {"values": {"x": "/x"}, "command": "c", "hardware": "h"}
    record = {"x": 1, "headline": headline}
    with pytest.raises(ValueError, match="misses \\['title'\\]"):
        common.headline_values(record, "toy")


def test_a_pointer_reads_escaped_keys():
    document = {"a/b": {"m~n": [1, 2.5]}}
    assert common.resolve_pointer(document, "/a~1b/m~0n/1") == 2.5
    assert common.resolve_pointer(document, "") is document


@pytest.mark.torch_only
def test_a_common_flag_keeps_its_type_and_takes_the_scripts_default():
    parser = common.benchmark_parser(
        epochs=10, minutes=None, dry_run=False, workdir=common.REQUIRED
    )
    args = parser.parse_args(["--workdir", "w", "--minutes", "1.5"])
    assert (args.epochs, args.minutes, args.dry_run) == (10, 1.5, False)
    args = parser.parse_args(["--workdir", "w", "--epochs", "3", "--dry-run"])
    assert (args.epochs, args.minutes, args.dry_run) == (3, None, True)
    with pytest.raises(SystemExit):  # --workdir is required
        parser.parse_args([])


@pytest.mark.torch_only
def test_a_flag_the_table_lacks_is_named():
    with pytest.raises(ValueError, match=r"`epoch` \(--epoch\)"):
        common.benchmark_parser(epoch=10)


@pytest.mark.torch_only
def test_a_scripts_own_flags_take_their_defaults_type_and_help():
    parser = common.benchmark_parser()
    common.add_flags(
        parser, width=128, beta=(0.05, "the KL weight"), name="x", init=None
    )
    args = parser.parse_args(["--width", "64", "--beta", "0.1"])
    assert (args.width, args.beta, args.name, args.init) == (64, 0.1, "x", None)
    assert "the KL weight" in parser.format_help()
    with pytest.raises(SystemExit):  # an int flag refuses a float
        parser.parse_args(["--width", "1.5"])
    with pytest.raises(TypeError, match="--cosine-decay"):
        common.add_flags(parser, cosine_decay=False)


@pytest.mark.torch_only
def test_row_pointers_name_each_kept_cell_in_the_pages_order():
    rows = [
        {"sampler": "ddim-10", "fid": 9.0, "kid": 0.1},
        {"sampler": "skip", "fid": 1.0, "kid": 0.0},
        {"sampler": "ddim-50", "fid": 8.0, "kid": 0.2},
    ]
    keep = lambda row: row["sampler"] != "skip"  # noqa: E731
    metrics = {"FID": "fid", "KID": "kid"}
    by_row = common.row_pointers(rows, "sampler", metrics, keep=keep)
    assert list(by_row.items()) == [
        ("ddim-10 FID", "/rows/0/fid"),
        ("ddim-10 KID", "/rows/0/kid"),
        ("ddim-50 FID", "/rows/2/fid"),
        ("ddim-50 KID", "/rows/2/kid"),
    ]
    by_metric = common.row_pointers(
        rows, "sampler", metrics, keep=keep, by_metric=True
    )
    assert list(by_metric) == [
        "ddim-10 FID",
        "ddim-50 FID",
        "ddim-10 KID",
        "ddim-50 KID",
    ]
    assert common.sampler_fids(rows, keep) == {
        "ddim-10 FID": "/samplers/0/fid",
        "ddim-50 FID": "/samplers/2/fid",
    }


@pytest.mark.torch_only
def test_run_stage_runs_the_stage_named_or_says_what_it_lacks():
    parser = common.benchmark_parser(dry_run=False)
    parser.add_argument("--stage")
    parser.add_argument("--weights")
    stages = {
        "train": (lambda args: "trained",),
        "score": (lambda args: "scored " + args.weights, "weights"),
    }

    def run(*argv):
        args = parser.parse_args(argv)
        return common.run_stage(parser, args, lambda args: "dry", **stages)

    assert run("--dry-run") == "dry"
    assert run("--stage", "train") == "trained"
    assert run("--stage", "score", "--weights", "w.npz") == "scored w.npz"
    with pytest.raises(SystemExit):  # --stage score needs --weights
        run("--stage", "score")
    with pytest.raises(SystemExit):  # neither a stage nor --dry-run
        run()
