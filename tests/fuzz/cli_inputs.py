"""Bad invocations of the `kgen` command line, run in-process through
`kgen.cli.main`.

Every `train` case starts from a cheap valid run (the `vae` preset on 16
tiny images for one epoch) and breaks one thing, so a case kgen accepts
costs seconds. Subcommands that need a model use the shipped `vae_digits`
preset.
"""

import argparse
import contextlib
import io
import os
import zipfile

import keras
import numpy as np
from PIL import Image

from tests.fuzz.bad_input import BadInput
from tests.fuzz.bad_input import CliResult

SUBCOMMANDS = (
    "train",
    "sample",
    "evaluate",
    "export",
    "presets",
    "watermark",
    "audit",
)
VALID_MODEL = "vae_digits"
TINY_SHAPE = (16, 8, 8)
BAD_NUMBERS = ("0", "-1", "x", "nan")
# Train options taking numbers, and the values that are legitimate
# among `BAD_NUMBERS` (a seed of 0, no skipped steps).
TRAIN_NUMBERS = {
    "--epochs": (),
    "--batch-size": (),
    "--latent-dim": (),
    "--learning-rate": (),
    "--seed": ("0",),
    "--devices": (),
    "--grid-every": (),
    "--checkpoint-every": (),
    "--max-skipped-steps": ("0",),
    "--num-processes": (),
    "--process-id": ("0",),
}


def run_cli(argv):
    """`kgen.cli.main(argv)` with its output captured; an exception that
    escapes `main` propagates (the classifier calls it a traceback)."""
    from kgen import cli

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = cli.main(argv)
        except SystemExit as exit:
            code = exit.code
            if isinstance(code, str):
                print(code, file=stderr)
                code = 1
    return CliResult(
        0 if code is None else code, stdout.getvalue(), stderr.getvalue()
    )


class Files:
    """The data and model files the cases point at, under `workspace`."""

    def __init__(self, workspace):
        self.workspace = workspace
        self._count = 0
        rng = np.random.default_rng(0)
        tiny = rng.uniform(0, 1, TINY_SHAPE).astype("float32")
        self.tiny = self.npy("tiny", tiny)
        nan = tiny.copy()
        nan[0, 0, 0] = np.nan
        self.bad_data = {
            "a missing path": self.path("missing.npy"),
            "an empty folder": self.folder("empty"),
            "a .npz file": self.npz("data", x=tiny),
            "a text file": self.text_file("notes.txt"),
            "a .npy of rank 2": self.npy("rank2", tiny.reshape(16, -1)),
            "a .npy of rank 5": self.npy("rank5", tiny[:, None, ..., None]),
            "a .npy with a NaN": self.npy("nan", nan),
            "a .npy with values up to 7": self.npy("seven", tiny * 7),
            "a .npy of strings": self.npy("strings", tiny.astype(str)),
            "a .npy with no images": self.npy("none", tiny[:0]),
            "a .npy of Python objects": self.npy(
                "objects", np.array([{"a": 1}] * 4, dtype=object)
            ),
            "a folder of images of two sizes": self._mixed_folder(),
            "a folder with a damaged .png": self._damaged_folder(),
            # Issue 44's classes: sizes, special files, deep faults.
            "a .npy with a NaN deep in the rows": self.npy(
                "deep_nan", self._deep_nan(tiny)
            ),
            "a .npy of complex numbers": self.npy(
                "complex", tiny.astype("complex64")
            ),
            "a .npy of 4000x4000 images": self._huge_npy(),
            "a folder with a 3000x3000 image": self._huge_folder(),
            "a folder with a decompression bomb": self._bomb_folder(),
            "a FIFO named .npy": self._fifo("pipe.npy"),
            "a folder with a FIFO image": self._fifo_folder(),
            "a link to /dev/zero named .npy": self._link("/dev/zero"),
        }
        self.bad_models = self._bad_models()

    def path(self, name):
        return os.path.join(self.workspace, name)

    def fresh(self, name="run"):
        """A path nothing exists at yet."""
        self._count += 1
        return self.path(f"{name}_{self._count}")

    def folder(self, name):
        os.makedirs(self.path(name), exist_ok=True)
        return self.path(name)

    def npy(self, name, array):
        np.save(self.path(f"{name}.npy"), array, allow_pickle=True)
        return self.path(f"{name}.npy")

    def npz(self, name, **arrays):
        np.savez(self.path(f"{name}.npz"), **arrays)
        return self.path(f"{name}.npz")

    def text_file(self, name, text="not data\n"):
        with open(self.path(name), "w") as file:
            file.write(text)
        return self.path(name)

    def _mixed_folder(self):
        folder = self.folder("mixed_sizes")
        for index, size in enumerate((8, 8, 6)):
            Image.new("L", (size, size)).save(
                os.path.join(folder, f"{index}.png")
            )
        return folder

    def _damaged_folder(self):
        folder = self.folder("damaged")
        Image.new("L", (8, 8)).save(os.path.join(folder, "0.png"))
        with open(os.path.join(folder, "1.png"), "wb") as file:
            file.write(b"\x89PNG not really")
        return folder

    @staticmethod
    def _deep_nan(tiny):
        # Past the first batch `open_images` checks, in the training rows.
        rows = np.concatenate([tiny] * 8)
        rows[100, 3, 3] = np.nan
        return rows

    def _huge_npy(self):
        path = self.path("huge.npy")
        # Sparse on disk: only the header is written.
        array = np.lib.format.open_memmap(
            path, mode="w+", dtype="uint8", shape=(2, 4000, 4000)
        )
        del array
        return path

    def _huge_folder(self):
        folder = self.folder("huge_image")
        Image.new("L", (3000, 3000)).save(os.path.join(folder, "0.png"))
        return folder

    def _bomb_folder(self):
        from tests.fuzz.test_faults import bomb_png

        folder = self.folder("bomb")
        bomb_png(os.path.join(folder, "0.png"), 20_000)
        return folder

    def _fifo(self, name):
        os.mkfifo(self.path(name))
        return self.path(name)

    def _fifo_folder(self):
        folder = self.folder("fifo_image")
        os.mkfifo(os.path.join(folder, "0.png"))
        return folder

    def _link(self, target):
        os.symlink(target, self.path("zero.npy"))
        return self.path("zero.npy")

    def _bad_models(self):
        import kgen

        plain = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        plain_file = self.path("plain.keras")
        plain.save(plain_file)
        good = self.path("good.keras")
        kgen.presets.load_preset(VALID_MODEL).save(good)
        with open(good, "rb") as file:
            data = file.read()
        truncated = self.path("truncated.keras")
        with open(truncated, "wb") as file:
            file.write(data[: len(data) // 2])
        empty = self.path("empty.keras")
        open(empty, "wb").close()
        without_config = self.path("weights_only.keras")
        with zipfile.ZipFile(without_config, "w") as archive:
            archive.writestr("model.weights.h5", b"")
        return {
            "a missing .keras file": self.path("missing.keras"),
            "an unknown preset name": "no_such_preset",
            "a text file": self.text_file("model.txt", "not a model\n"),
            "a .npz file": self.npz("model", weights=np.zeros(3)),
            "a plain Keras model file": plain_file,
            "an empty .keras file": empty,
            "a truncated .keras file": truncated,
            "a .keras archive without a config": without_config,
            "an empty folder": self.folder("empty_model"),
        }


def cli_inputs(subcommand, workspace):
    """The bad invocations of one subcommand (`presets` also holds those
    of the command line as a whole)."""
    files = Files(workspace)
    make = {
        "train": _train_argvs,
        "sample": _sample_argvs,
        "evaluate": _evaluate_argvs,
        "export": _export_argvs,
        "presets": _presets_argvs,
        "watermark": _watermark_argvs,
        "audit": _audit_argvs,
    }[subcommand]
    known = _known_options()
    inputs = []
    for names, description, argv, *unknown in make(files):
        missing = _missing_options(argv, known, set(unknown))
        inputs.append(
            BadInput(
                "cli",
                f"kgen {argv[0]}" if argv else "kgen",
                names,
                description,
                lambda argv=argv: run_cli(argv),
                unsupported=(
                    f"this kgen has no {', '.join(missing)}"
                    if missing
                    else None
                ),
            )
        )
    return inputs


# === Each subcommand's bad invocations ===
#
# Each is `(names, description, argv)`, or with a fourth item: an option
# passed on purpose that no kgen knows (else an option this kgen lacks
# makes the case `unsupported`).


def _train_argvs(files):
    def train(*changes, preset="vae", data=True, replace=None):
        """`kgen train` on tiny data for one epoch, less the options in
        `replace`, plus `changes`."""
        options = {
            "--epochs": "1",
            "--batch-size": "8",
            "--out": files.fresh(),
        }
        if data:
            options["--data"] = files.tiny
        for option in replace or ():
            options.pop(option, None)
        argv = ["train", preset, "--quiet"]
        for option, value in options.items():
            argv += [option, value]
        return argv + list(changes)

    yield (
        ("preset", "no_such_preset"),
        "an unknown preset",
        train(preset="no_such_preset"),
    )
    for option, legitimate in TRAIN_NUMBERS.items():
        values = [v for v in BAD_NUMBERS if v not in legitimate]
        if option == "--learning-rate":
            values.append("inf")
        for value in values:
            yield (
                (option,),
                f"{option} {value}",
                train(option, value, replace=[option]),
            )
    yield (
        ("--devices", "--batch-size"),
        "--devices 3 for --batch-size 8",
        train("--devices", "3"),
    )
    yield (
        ("--dataset", "no_such_dataset"),
        "--dataset unknown",
        train("--dataset", "no_such_dataset", data=False),
    )
    for description, path in files.bad_data.items():
        yield (
            ("--data", path),
            f"--data {description}",
            train("--data", path, replace=["--data"]),
        )
    a_file = files.text_file("out_file.txt", "a file\n")
    yield (
        ("--out", a_file),
        "--out an existing file",
        train("--out", a_file, replace=["--out"]),
    )
    full = files.folder("full_out")
    files.text_file(os.path.join("full_out", "keep.txt"))
    yield (
        ("--out", "--overwrite", full),
        "--out a non-empty folder",
        train("--out", full, replace=["--out"]),
    )
    yield ("--resume",), "--resume with no checkpoint", train("--resume")
    yield (
        ("--image-size",),
        "--image-size that is not SIDE or HEIGHTxWIDTH",
        train("--image-size", "8x"),
    )
    yield (
        ("--mesh",),
        "--mesh over more devices than there are",
        train("--mesh", "data=3,model=5", preset="ddpm"),
    )
    yield (
        ("--coordinator",),
        "--num-processes and --process-id without --coordinator",
        train("--num-processes", "2", "--process-id", "0"),
    )
    yield (
        ("--latent-dim",),
        "--latent-dim for ddpm (has none)",
        train("--latent-dim", "4", preset="ddpm"),
    )
    yield ("--out",), "no --out", train(replace=["--out"])
    yield (
        ("--data", "--dataset"),
        "--data and --dataset",
        train("--dataset", "digits"),
    )
    yield ("--nosuch",), "an unknown option", train("--nosuch", "1"), "--nosuch"


def _model_argvs(files, subcommand, rest):
    """A bad MODEL for each subcommand taking one."""
    for description, path in files.bad_models.items():
        yield (
            ("MODEL", "model_path", path),
            f"MODEL {description}",
            [subcommand, path, *rest()],
        )


def _sample_argvs(files):
    def rest():
        return ["--out", files.fresh("grid") + ".png"]

    yield from _model_argvs(files, "sample", rest)
    for value in ("0", "-1", "x"):
        yield (
            ("-n", "--num-samples"),
            f"-n {value}",
            ["sample", VALID_MODEL, "-n", value, *rest()],
        )
    yield (
        ("--seed",),
        "--seed x",
        ["sample", VALID_MODEL, "--seed", "x", *rest()],
    )
    for value in ("0", "x", "5"):  # 5: the model has no length
        yield (
            ("--length",),
            f"--length {value}",
            ["sample", VALID_MODEL, "--length", value, *rest()],
        )
    yield (
        ("--prompt",),
        "--prompt for a model without a tokenizer",
        ["sample", VALID_MODEL, "--prompt", "a", *rest()],
    )
    yield (
        ("--watermark-key",),
        "--watermark-key for a model that draws no tokens",
        ["sample", VALID_MODEL, "--watermark-key", "1", *rest()],
    )
    yield (
        ("--guidance-scale",),
        "--guidance-scale for a model without guidance",
        ["sample", VALID_MODEL, "--guidance-scale", "2", *rest()],
    )
    folder = files.folder("grid_folder")
    # An --out in a folder that does not exist yet is fine: it is made.
    for description, out in (
        ("an existing folder", folder),
        ("a .txt path", files.fresh("grid") + ".txt"),
    ):
        yield (
            ("--out", out),
            f"--out {description}",
            ["sample", VALID_MODEL, "-n", "4", "--out", out],
        )


def _evaluate_argvs(files):
    def evaluate(*changes, n="20"):
        return [
            "evaluate",
            VALID_MODEL,
            "-n",
            n,
            "--features",
            "digits_classifier",
            *changes,
        ]

    yield from _model_argvs(
        files,
        "evaluate",
        lambda: ["-n", "20", "--features", "digits_classifier"],
    )
    for value in ("0", "1", "-1", "x"):
        yield ("-n", "--num-samples"), f"-n {value}", evaluate(n=value)
    yield ("--metric",), "--metric unknown", evaluate("--metric", "nosuch")
    yield ("--split",), "--split val", evaluate("--split", "val")
    yield (
        ("--reference", "no_such_dataset"),
        "--reference unknown",
        evaluate("--reference", "no_such_dataset"),
    )
    yield (
        ("--features", "no_such_preset"),
        "--features unknown",
        evaluate("--features", "no_such_preset"),
    )
    yield (
        ("--classifier", "no_such_preset"),
        "--classifier unknown",
        evaluate("--metric", "is", "--classifier", "no_such_preset"),
    )
    yield ("--seed",), "--seed x", evaluate("--seed", "x")


def _export_argvs(files):
    def export(*changes, path=None):
        path = path or files.fresh("served")
        return ["export", VALID_MODEL, path, *changes]

    yield from _model_argvs(files, "export", lambda: [files.fresh("served")])
    for value in ("0", "-1", "x"):
        yield ("--version",), f"--version {value}", export("--version", value)
    a_file = files.text_file("served_file.txt", "a file\n")
    yield ("path", a_file), "path an existing file", export(path=a_file)
    existing = files.fresh("served")
    os.makedirs(os.path.join(existing, "1"))
    yield (
        ("--overwrite", existing),
        "an existing version",
        export(path=existing),
    )


def _watermark_argvs(files):
    text = files.text_file("watermarked.txt", "--- sample 0\nthe king\n")

    def detect(*changes, model="gpt_shakespeare", path=text):
        return ["watermark", "detect", model, path, "--key", "1", *changes]

    yield (
        ("MODEL", VALID_MODEL),
        "MODEL without a tokenizer",
        detect(model=VALID_MODEL),
    )
    missing = files.path("no_such_text.txt")
    yield ("TEXT", missing), "TEXT missing", detect(path=missing)
    odd = files.text_file("odd.txt", "caf\u00e9 \u2603\n")
    yield ("TEXT", odd), "TEXT outside the vocabulary", detect(path=odd)
    yield ("--gamma", "gamma"), "--gamma 0", detect("--gamma", "0")
    yield ("--key", "key"), "--key -1", detect("--key", "-1")
    yield ("--key",), "--key x", detect("--key", "x")


def _audit_argvs(files):
    def audit(*changes, model=VALID_MODEL):
        return ["audit", "privacy", model, "-n", "8", *changes]

    for option, values in (
        ("-n", ("0", "x")),
        ("--num-members", ("0", "x")),
        ("--num-steps", ("x",)),
        ("--seed", ("-1", "x")),
    ):
        for value in values:
            yield (option,), f"{option} {value}", audit(option, value)
    yield ("--data", "nope"), "an unknown dataset", audit("--data", "nope")
    yield (
        ("--data", "mnist"),
        "a dataset of another image shape",
        audit("--data", "mnist"),
    )
    yield ("aspect",), "an unknown aspect", ["audit", "memory", VALID_MODEL]
    missing = files.path("missing.keras")
    yield ("MODEL", missing), "MODEL missing", audit(model=missing)


def _presets_argvs(files):
    yield (
        ("name", "no_such_preset"),
        "an unknown preset",
        ["presets", "no_such_preset"],
    )
    empty = files.folder("empty_preset")
    yield ("name", empty), "an empty folder", ["presets", empty]
    yield ("--json",), "--json without a name", ["presets", "--json"]
    yield ("--check",), "--check without a name", ["presets", "--check"]
    yield ("command",), "no subcommand", []
    yield ("command", "frobnicate"), "an unknown subcommand", ["frobnicate"]


# === Options the code under test knows ===


def _known_options():
    """`{subcommand: option strings}` of the `kgen` parser under test."""
    from kgen import cli

    known = {}
    for action in cli.build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, parser in action.choices.items():
                known[name] = set(parser._option_string_actions)
    return known


def _missing_options(argv, known, deliberately_unknown):
    """Options in `argv` that this kgen's parser lacks (other than those
    a case passes on purpose)."""
    if not argv or argv[0] not in known:
        return []
    return [
        token
        for token in argv[1:]
        if token.startswith("-")
        and token not in known[argv[0]]
        and token not in deliberately_unknown
        and not _is_number(token)
    ]


def _is_number(token):
    try:
        float(token)
    except ValueError:
        return False
    return True
