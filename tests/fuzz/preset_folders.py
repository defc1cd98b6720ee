"""Preset folders as an attacker writes them: every mutation of a shipped
preset's card, config, tokenizer and weights headers, resealed (its
sha256s rewritten, as whoever controls the folder can), must load or be
refused with a `PresetError` naming a file of the folder, within a memory
bound and a time bound, by every entry point that opens a folder
(`load_preset`, `from_preset`, `kgen presets DIR` with and without
`--check`, `kgen generate`); a command must succeed or exit 2 with one
line.

`python -m tests.fuzz.preset_folders WORKDIR --count N --seed S` runs
the cases in this process, under an address-space cap set after kgen is
imported, and prints one JSON line per case: `{"case", "outcome",
"message", "slowest"}`, where an outcome is `loaded`, `refused` or a
failure (`traceback`, `unnamed`, `over-memory`, `hang`), and `slowest`
is the entry point that took longest, with its seconds.
"""

import argparse
import contextlib
import copy
import hashlib
import io
import json
import os
import pathlib
import random
import resource
import shutil
import signal
import sys
import time

SOURCES = ("vae_digits", "gpt_shakespeare", "gpt_moses", "ddpm_mnist")
JSON_FILES = ("metadata.json", "config.json", "tokenizer.json")
# What an attacker puts in a field: sizes past any bound, wrong types,
# structures where scalars were, control characters.
REPLACEMENTS = (
    0,
    -1,
    2**31,
    10**12,
    1e308,
    1.5,
    True,
    None,
    "",
    "\x1b]0;title\x07",
    "../../etc/passwd",
    [],
    {},
    [2**20] * 3,
)
MEMORY_BOUND = 1 << 30
FAILURES = ("traceback", "unnamed", "over-memory", "hang")
CASE_SECONDS = 30


def leaves(value, path=()):
    """Every `(path, value)` of a JSON structure, containers included."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, path + (index,))


def replaced(value, path, new):
    if not path:
        return new
    value = copy.deepcopy(value)
    parent = value
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = new
    return value


def reseal(directory):
    """Rewrites the card's sha256s of every listed regular file, as
    whoever writes the folder can."""
    directory = pathlib.Path(directory)
    card_path = directory / "metadata.json"
    try:
        card = json.loads(card_path.read_text())
        files = card["files"]
        for name in list(files):
            path = directory / str(name)
            if path.is_file() and not path.is_symlink():
                files[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        from kgen.presets import registry

        card["card_sha256"] = registry.card_digest(card)
        card_path.write_text(json.dumps(card))
    except (ValueError, KeyError, TypeError, AttributeError, OSError):
        pass  # a card mutated past resealing is refused as it is


def json_cases(source, rng, count):
    """`count` seeded mutations of the JSON files of preset `source`."""
    cases = []
    for filename in JSON_FILES:
        path = source / filename
        if not path.exists():
            continue
        document = json.loads(path.read_text())
        for field, _ in leaves(document):
            if filename == "metadata.json" and field[:1] == ("card_sha256",):
                continue
            new = rng.choice(REPLACEMENTS)
            cases.append(
                (
                    f"{source.name}/{filename}:{'/'.join(map(str, field))}"
                    f" = {new!r}",
                    _writer(filename, replaced(document, field, new)),
                )
            )
    rng.shuffle(cases)
    return cases[:count]


def _writer(filename, document):
    def write(directory):
        (directory / filename).write_text(json.dumps(document))

    return write


def weights_cases(source):
    """Mutations of the weights file's HDF5 headers."""
    import h5py
    import numpy as np

    def first_array(file):
        found = []
        file.visititems(
            lambda name, item: (
                found.append(name) if isinstance(item, h5py.Dataset) else None
            )
        )
        return found[0]

    def edit(change):
        def write(directory):
            with h5py.File(directory / "model.weights.h5", "a") as file:
                change(file, first_array(file))

        return write

    def huge_fill(file, name):
        del file[name]
        file.create_dataset(name, shape=(2**16, 2**16), dtype="float32")

    def compressed(file, name):
        data = file[name][()]
        del file[name]
        file.create_dataset(name, data=data, compression="gzip")

    def strings(file, name):
        shape = file[name].shape
        del file[name]
        file.create_dataset(name, data=np.full(shape, "x", dtype="S1"))

    def external(file, name):
        del file[name]
        file[name] = h5py.ExternalLink("/etc/passwd", "/")

    def soft(file, name):
        del file[name]
        file[name] = h5py.SoftLink("/")

    return [
        (f"{source.name}/model.weights.h5:{change.__name__}", edit(change))
        for change in (huge_fill, compressed, strings, external, soft)
    ]


def file_cases(source):
    """Files the card lists that are not regular files of the folder."""

    def link_out(directory):
        target = directory / "model.weights.h5"
        target.unlink()
        target.symlink_to(source / "model.weights.h5")

    def fifo(directory):
        target = directory / "config.json"
        target.unlink()
        os.mkfifo(target)

    cases = [(f"{source.name}:weights a symlink", link_out)]
    if hasattr(os, "mkfifo"):
        cases.append((f"{source.name}:config a FIFO", fifo))
    return cases


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


# What `kgen generate` writes for each source: the kind its samples are.
OUTPUTS = {
    "vae_digits": "png",
    "gpt_shakespeare": "txt",
    "gpt_moses": "smi",
    "ddpm_mnist": "png",
}


def entry_points(directory, source):
    """`(name, call)` for every way a user opens a preset folder: the
    API's two loaders and the three commands that read one; a command
    returns its exit status."""
    import kgen
    import kgen.cli

    out = directory.parent / f"{directory.name}.{OUTPUTS[source]}"

    def command(*argv):
        def call():
            with contextlib.redirect_stdout(io.StringIO()):
                with contextlib.redirect_stderr(io.StringIO()) as err:
                    status = kgen.cli.main(list(argv))
            return status, err.getvalue()

        return call

    return (
        ("load_preset", lambda: kgen.presets.load_preset(directory)),
        (
            "from_preset",
            lambda: kgen.models.GenerativeModel.from_preset(directory),
        ),
        ("kgen presets", command("presets", str(directory))),
        ("kgen presets --check", command("presets", str(directory), "--check")),
        (
            "kgen generate",
            command("generate", str(directory), "-n", "2", "--out", str(out)),
        ),
    )


def run_entry_point(directory, call, seconds):
    """The outcome of one entry point on `directory`: `loaded` (or
    printed), `refused` (a `PresetError` naming the folder, or exit 2
    with one line), or a failure; `hang` past `seconds`."""
    from kgen.utils import UnreadableFileError

    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        try:
            result = call()
        except UnreadableFileError as error:
            message = str(error)
            named = str(directory) in message.split(":", 1)[0]
            return ("refused" if named else "unnamed"), message
        if not isinstance(result, tuple):
            return "loaded", ""
        status, stderr = result
        if status == 0:
            return "loaded", ""
        if status != 2:
            return "traceback", f"exited {status}: {stderr}"
        if len(stderr.strip().splitlines()) != 1:
            return "traceback", f"not one line: {stderr}"
        return "refused", stderr
    except Hang:
        return "hang", f"over {seconds} s"
    except MemoryError:
        return "over-memory", "MemoryError"
    except BaseException as error:  # noqa: BLE001  (the fuzzer's finding)
        return "traceback", f"{type(error).__name__}: {error}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def run_case(directory, source, seconds=CASE_SECONDS):
    """`(outcome, message, slowest)`: the first failure of any entry
    point on `directory`, else the outcome of `load_preset`, with the
    entry point that decided it; `slowest` is `(entry point, seconds)`."""
    outcome = None
    slowest = ("", 0.0)
    for name, call in entry_points(directory, source):
        start = time.monotonic()
        result, message = run_entry_point(directory, call, seconds)
        took = round(time.monotonic() - start, 2)
        slowest = max(slowest, (name, took), key=lambda x: x[1])
        message = message.strip().splitlines()[0][:300] if message else ""
        if result in FAILURES:
            return result, f"{name}: {message}", slowest
        if outcome is None:
            outcome = result, f"{name}: {message}" if message else ""
    return (*outcome, slowest)


def cap_memory():
    """Caps the address space at what the process maps now, plus
    `MEMORY_BOUND`: a case that allocates more fails with MemoryError."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[0])
    limit = pages * os.sysconf("SC_PAGE_SIZE") + MEMORY_BOUND
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("workdir")
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--seconds",
        type=float,
        default=CASE_SECONDS,
        help="the time bound of each entry point on each case",
    )
    args = parser.parse_args(argv)
    import kgen

    rng = random.Random(args.seed)
    shipped = kgen.presets.shipped_presets()
    cases = []
    for name in SOURCES:
        source = pathlib.Path(shipped[name])
        cases += json_cases(source, rng, args.count)
        cases += weights_cases(source) + file_cases(source)
    # Warm: the first load imports and traces what every later one reuses.
    for name in SOURCES:
        directory = pathlib.Path(args.workdir) / f"warm_{name}"
        shutil.copytree(shipped[name], directory)
        outcome, message, _ = run_case(directory, name)
        if outcome != "loaded":
            raise SystemExit(f"the shipped {name} fails: {message}")
    if sys.platform.startswith("linux"):
        cap_memory()
    for index, (case, mutate) in enumerate(cases):
        directory = pathlib.Path(args.workdir) / f"case{index}"
        name = case.split("/")[0].split(":")[0]
        shutil.copytree(shipped[name], directory)
        mutate(directory)
        reseal(directory)
        outcome, message, slowest = run_case(directory, name, args.seconds)
        record = {"case": case, "outcome": outcome, "message": message}
        print(json.dumps({**record, "slowest": slowest}), flush=True)
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
