"""Preset folders as an attacker writes them: every mutation of a shipped
preset's card, config, tokenizer and weights headers, resealed (its
sha256s rewritten, as whoever controls the folder can), must load or be
refused with a `PresetError` naming a file of the folder, within a memory
bound and a time bound, by every entry point that opens a folder
(`load_preset`, `from_preset`, `kgen presets DIR` with and without
`--check`, `kgen generate`); a command must succeed or exit 2 with one
line.

The same holds for the other folders kgen reads from strangers: a LoRA
adapter (the shipped one: its config and safetensors header), and a
diffusers pipeline folder (a `DDPMPipeline` and a `DiTPipeline` written
by kgen: every config, the scheduler's, the index and each safetensors
header), opened by `from_diffusers` and through an adapter on it.

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
import math
import os
import pathlib
import random
import resource
import shutil
import signal
import sys
import time

SOURCES = ("vae_digits", "gpt_shakespeare", "gpt_moses", "ddpm_mnist")
ADAPTER_SOURCES = ("ddpm_mnist_fashion_lora",)
DIFFUSERS_SOURCES = ("ddpm_pipeline", "dit_pipeline")
JSON_FILES = (
    "metadata.json",
    "config.json",
    "tokenizer.json",
    "adapter_config.json",
    "model_index.json",
    "unet/config.json",
    "transformer/config.json",
    "vae/config.json",
    "scheduler/scheduler_config.json",
)
# The weights file and a config of each kind of folder.
WEIGHTS_FILES = {
    "preset": ("model.weights.h5",),
    "adapter": ("adapter_model.safetensors",),
    "ddpm_pipeline": ("unet/diffusion_pytorch_model.safetensors",),
    "dit_pipeline": (
        "transformer/diffusion_pytorch_model.safetensors",
        "vae/diffusion_pytorch_model.safetensors",
    ),
}
CONFIG_FILES = {
    "preset": "config.json",
    "adapter": "adapter_config.json",
    "ddpm_pipeline": "unet/config.json",
    "dit_pipeline": "transformer/config.json",
}
# Inside a diffusers source: an adapter whose base is the folder itself.
ADAPTER_FOLDER = "lora_adapter"
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
    whoever writes the folder can (an adapter's, its weights')."""
    directory = pathlib.Path(directory)
    for adapter in (directory, directory / ADAPTER_FOLDER):
        _reseal_adapter(adapter)
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


def _reseal_adapter(directory):
    config_path = directory / "adapter_config.json"
    weights = directory / "adapter_model.safetensors"
    if not config_path.is_file() or config_path.is_symlink():
        return  # a FIFO would hang the fuzzer itself
    try:
        config = json.loads(config_path.read_text())
        if weights.is_file() and not weights.is_symlink():
            digest = hashlib.sha256(weights.read_bytes()).hexdigest()
            config["weights_sha256"] = digest
            config_path.write_text(json.dumps(config))
    except (ValueError, TypeError, OSError):
        pass  # an adapter mutated past resealing is refused as it is


def kind_of_source(name):
    if name in ADAPTER_SOURCES:
        return "adapter"
    return name if name in DIFFUSERS_SOURCES else "preset"


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
                    _writer(filename, document, field, new),
                )
            )
    rng.shuffle(cases)
    return cases[:count]


def _writer(filename, document, field, new):
    """Writes `document` with `new` at `field`, copied when the case runs:
    a copy per leaf up front (a preset's config has thousands) took most
    of the fuzzer's time, for the few cases kept."""

    def write(directory):
        mutated = replaced(document, field, new)
        (directory / filename).write_text(json.dumps(mutated))

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


def safetensors_cases(source, relative):
    """Mutations of a safetensors file's header, its data kept: what an
    attacker who rewrites the header (and reseals) can declare."""
    import struct

    def edit(change):
        def write(directory):
            path = directory / relative
            raw = path.read_bytes()
            (length,) = struct.unpack("<Q", raw[:8])
            header = json.loads(raw[8 : 8 + length])
            data = raw[8 + length :]
            name = sorted(k for k in header if k != "__metadata__")[0]
            result = change(header, name)
            if isinstance(result, bytes):
                path.write_bytes(result)
                return
            encoded = json.dumps(header).encode()
            path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + data)

        return write

    def transposed(header, name):
        header[name]["shape"] = header[name]["shape"][::-1] + [1]

    def dropped(header, name):
        del header[name]

    def renamed(header, name):
        header[name + ".spare"] = header.pop(name)

    def half_precision(header, name):
        entry = header[name]
        entry["dtype"] = "F16"
        entry["shape"] = [math.prod(entry["shape"]) * 2]

    def huge_shape(header, name):
        header[name]["shape"] = [2**31, 2**31]

    def huge_header(header, name):
        return struct.pack("<Q", 2**40) + b"{}"

    return [
        (f"{source.name}/{relative}:{change.__name__}", edit(change))
        for change in (
            transposed,
            dropped,
            renamed,
            half_precision,
            huge_shape,
            huge_header,
        )
    ]


def file_cases(source, kind):
    """Files the folder holds that are not regular files of the folder."""
    weights = WEIGHTS_FILES[kind][0]
    config = CONFIG_FILES[kind]

    def link_out(directory):
        target = directory / weights
        target.unlink()
        target.symlink_to(source / weights)

    def fifo(directory):
        target = directory / config
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
    "ddpm_mnist_fashion_lora": "png",
    "ddpm_pipeline": "png",
    "dit_pipeline": "png",
}


def entry_points(directory, source):
    """`(name, call)` for every way a user opens a preset folder: the
    API's two loaders and the three commands that read one; a command
    returns its exit status. A diffusers folder is opened by its class's
    `from_diffusers` and through the adapter it holds."""
    import kgen
    import kgen.cli

    out = directory.parent / f"{directory.name}.{OUTPUTS[source]}"
    if source in DIFFUSERS_SOURCES:
        model_class = (
            kgen.models.LatentDiffusion
            if source == "dit_pipeline"
            else kgen.models.DiffusionModel
        )
        adapter = directory / ADAPTER_FOLDER
        return (
            ("from_diffusers", lambda: model_class.from_diffusers(directory)),
            ("load_preset", lambda: kgen.presets.load_preset(adapter)),
            ("kgen presets --check", command("presets", adapter, "--check")),
            ("kgen generate", command("generate", adapter, "--out", out)),
        )

    return (
        ("load_preset", lambda: kgen.presets.load_preset(directory)),
        (
            "from_preset",
            lambda: kgen.models.GenerativeModel.from_preset(directory),
        ),
        ("kgen presets", command("presets", directory)),
        ("kgen presets --check", command("presets", directory, "--check")),
        ("kgen generate", command("generate", directory, "--out", out)),
    )


def command(*argv):
    """A `kgen` command line as an entry point: its exit status and what
    it wrote to stderr (`generate` draws 2 samples)."""
    import kgen.cli

    argv = [str(arg) for arg in argv]
    if argv[0] == "generate":
        argv[2:2] = ["-n", "2"]

    def call():
        with contextlib.redirect_stdout(io.StringIO()):
            with contextlib.redirect_stderr(io.StringIO()) as err:
                status = kgen.cli.main(argv)
        return status, err.getvalue()

    return call


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


def diffusers_sources(directory):
    """`{name: folder}` of two small diffusers pipelines kgen writes (a
    `DDPMPipeline` and a `DiTPipeline` with its `AutoencoderKL`), each
    holding a LoRA adapter on itself in `ADAPTER_FOLDER`."""
    import kgen
    from kgen.models.diffusion import diffusers_checkpoint

    unet = kgen.networks.DiffusersUNet(
        dict(
            sample_size=8,
            in_channels=1,
            out_channels=1,
            block_out_channels=[8, 16],
            norm_num_groups=4,
            layers_per_block=1,
            down_block_types=["DownBlock2D", "AttnDownBlock2D"],
            up_block_types=["AttnUpBlock2D", "UpBlock2D"],
            attention_head_dim=4,
        )
    )
    autoencoder = dict(
        _class_name="AutoencoderKL",
        in_channels=1,
        out_channels=1,
        block_out_channels=[8, 16],
        layers_per_block=1,
        norm_num_groups=4,
        latent_channels=2,
        sample_size=8,
        down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2,
    )
    dit = kgen.networks.DiffusersDiT(
        dict(
            num_attention_heads=2,
            attention_head_dim=4,
            in_channels=2,
            num_layers=1,
            sample_size=4,
            patch_size=2,
            num_embeds_ada_norm=3,
        )
    )
    models = {
        "ddpm_pipeline": kgen.models.DiffusionModel(
            unet,
            scheduler=kgen.schedulers.DDPMScheduler(num_train_timesteps=50),
        ),
        "dit_pipeline": kgen.models.LatentDiffusion(
            kgen.models.KLAutoencoder(
                kgen.networks.DiffusersEncoder(autoencoder),
                kgen.networks.DiffusersDecoder(autoencoder),
            ),
            dit,
            scheduler=kgen.schedulers.DDIMScheduler(num_train_timesteps=50),
            num_classes=3,
            latent_scale=0.5,
        ),
    }
    folders = {}
    for name, model in models.items():
        folder = pathlib.Path(directory) / name
        diffusers_checkpoint.to_diffusers(model, folder)
        loaded = type(model).from_diffusers(folder)
        kgen.lora.enable_lora(loaded, rank=2, seed=0)
        kgen.presets.save_lora_adapter(
            loaded, folder / ADAPTER_FOLDER, str(folder)
        )
        folders[name] = folder
    return folders


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
    parser.add_argument(
        "--sources",
        nargs="+",
        choices=SOURCES + ADAPTER_SOURCES + DIFFUSERS_SOURCES,
        default=SOURCES + ADAPTER_SOURCES + DIFFUSERS_SOURCES,
        help="the folders mutated (default: all)",
    )
    args = parser.parse_args(argv)
    import kgen

    rng = random.Random(args.seed)
    workdir = pathlib.Path(args.workdir)
    sources = {
        **kgen.presets.shipped_presets(),
        **kgen.presets.registry.shipped_lora_adapters(),
        **diffusers_sources(workdir / "sources"),
    }
    cases = []
    for name in args.sources:
        source, kind = pathlib.Path(sources[name]), kind_of_source(name)
        cases += json_cases(source, rng, args.count)
        if kind == "preset":
            cases += weights_cases(source)
        else:
            for relative in WEIGHTS_FILES[kind]:
                cases += safetensors_cases(source, relative)
        cases += file_cases(source, kind)
    # Warm: the first load imports and traces what every later one reuses.
    for name in args.sources:
        directory = workdir / f"warm_{name}"
        shutil.copytree(sources[name], directory)
        outcome, message, _ = run_case(directory, name)
        if outcome != "loaded":
            raise SystemExit(f"the shipped {name} fails: {message}")
    if sys.platform.startswith("linux"):
        cap_memory()
    for index, (case, mutate) in enumerate(cases):
        directory = workdir / f"case{index}"
        name = case.split("/")[0].split(":")[0]
        shutil.copytree(sources[name], directory)
        mutate(directory)
        reseal(directory)
        outcome, message, slowest = run_case(directory, name, args.seconds)
        record = {"case": case, "outcome": outcome, "message": message}
        print(json.dumps({**record, "slowest": slowest}), flush=True)
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
