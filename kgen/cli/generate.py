"""`kgen sample` (alias `kgen generate`): draws samples and writes them
as their kind asks."""

import os

from kgen.cli import molecule_files
from kgen.cli.common import MODEL
from kgen.cli.common import MODEL_HELP
from kgen.cli.common import given
from kgen.cli.common import open_model
from kgen.cli.common import preset_card
from kgen.cli.common import preset_tokenizer
from kgen.cli.common import to_numpy
from kgen.cli.common import value_range_of
from kgen.cli.common import writing_atomically

# `kgen generate` draws at most this many samples per `sample` call
# (`kgen.models.sample_in_chunks`): `-n` up to a chunk gives exactly what
# one `sample(n, seed=SEED)` call gives.
SAMPLE_CHUNK = 256
# The most `--num-steps` and `--length` a user may ask for: ten and 64
# times what a preset's card may set unasked (`kgen.presets.registry`).
MAX_NUM_STEPS = 10_000
MAX_LENGTH = 2**20


def add_parser(commands):
    """Adds `kgen sample` (alias `generate`) and its options to `commands`."""
    sample = commands.add_parser(
        "sample",
        aliases=["generate"],
        help="write samples: an image grid, a 2-D scatter plot, text or a "
        "WAV, by the model",
    )
    sample.add_argument("model_path", metavar=MODEL, help=MODEL_HELP)
    sample.add_argument(
        "text",
        nargs="?",
        metavar="PROMPT",
        help="text-to-image models: the prompt of every image (default: "
        "the empty prompt, unconditional); text models: as --prompt",
    )
    sample.add_argument("-n", "--num-samples", type=int, default=64)
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument(
        "--max-output-bytes",
        type=int,
        default=2**31,
        help="the most bytes of samples drawn (n x values per sample x "
        "4), checked before any is drawn where the shape is known, else "
        "after the first chunk (default 2 GiB); samples are drawn "
        f"{SAMPLE_CHUNK} at a time",
    )
    sample.add_argument(
        "--out",
        required=True,
        help="output path: an image (.png) for images and 2-D points, .txt "
        "for a text model, .txt or .smi (one SMILES per line) for a "
        "molecule model, .wav for an audio model, .gif for a video model, "
        ".mid (one track per voice) for a music model, .sdf or .xyz "
        "for a model of molecules in 3-D (.npz: their arrays; .png: "
        "drawn), "
        "or .npy (the samples as an array) for any other",
    )
    sample.add_argument(
        "--length",
        type=int,
        help="sequence models: tokens or audio steps per sample, at most "
        "2**20 (default: the preset's)",
    )
    sample.add_argument(
        "--prompt",
        help="text models: the text every sample continues (default: a "
        "random first character)",
    )
    sample.add_argument(
        "--watermark-key",
        type=int,
        metavar="KEY",
        help="token models: draw with a green-list watermark of this "
        "secret key; diffusion and flow models: with a Tree-Ring key in "
        "the start noise (`kgen watermark detect` finds either)",
    )
    sample.add_argument(
        "--watermark-radius",
        type=int,
        help="diffusion and flow models: the keyed frequencies' outer "
        "ring (default: FourierNoiseWatermark's, 8)",
    )
    sample.add_argument(
        "--watermark-inner-radius",
        type=int,
        help="diffusion and flow models: their inner ring (default 4)",
    )
    sample.add_argument(
        "--watermark-delta",
        type=float,
        default=2.0,
        help="logit bonus of the green tokens (default 2)",
    )
    sample.add_argument(
        "--watermark-gamma",
        type=float,
        default=0.25,
        help="green fraction of the vocabulary (default 0.25)",
    )
    sample.add_argument(
        "--num-steps",
        type=int,
        help="diffusion, flow, consistency and masked-token models: "
        "sampler steps, at most 10,000 (default: the preset's)",
    )
    sample.add_argument(
        "--guidance-scale",
        type=float,
        help="classifier-free guidance weight w of text-to-image and "
        "class-conditional diffusion models (default: the preset's)",
    )
    sample.add_argument(
        "--labels",
        type=int,
        nargs="+",
        metavar="CLASS",
        help="class-conditional models: the classes, cycled over the "
        "samples (`--labels 3`: all threes; `--labels 0 1 2 3 4 5 6 7 8 9` "
        "with -n 100: one class per column of the grid)",
    )


def sample(args):
    import numpy as np

    import kgen
    from kgen.models import contract
    from kgen.utils.argument_validation import validate_int

    validate_int(args.num_samples, "-n")
    validate_int(args.max_output_bytes, "--max-output-bytes")
    if args.length is not None:
        validate_int(args.length, "--length", maximum=MAX_LENGTH)
    model = open_model(args.model_path)
    card = preset_card(args.model_path)
    write = _sample_writer(model, card, args)  # checks --out first
    # The model's own defaults (a preset card's `sample_arguments`, kept
    # by a `.keras` file too), which the options below may override.
    options = model.sample_defaults
    parameters = contract.options(model)
    if args.text is not None and args.prompt is not None:
        raise ValueError(
            f"Give the prompt once: as PROMPT ({args.text!r}) or as "
            f"`--prompt` ({args.prompt!r})."
        )
    prompt = args.prompt if args.text is None else args.text
    if "prompts" in parameters:
        # A text-to-image model: every image gets the prompt.
        options["prompts"] = "" if prompt is None else prompt
        prompt = None
    if args.guidance_scale is not None:
        if "guidance_scale" not in parameters:
            raise ValueError(
                "`--guidance-scale` needs a guided diffusion model; MODEL "
                f"{args.model_path} is a {type(model).__name__}."
            )
        options["guidance_scale"] = args.guidance_scale
    if args.num_steps is not None:
        if "num_steps" not in parameters:
            raise ValueError(
                "`--num-steps` needs a model sampled in steps (diffusion, "
                f"flow, consistency, masked-token); MODEL {args.model_path} "
                f"is a {type(model).__name__}."
            )
        options["num_steps"] = validate_int(
            args.num_steps,
            "--num-steps",
            maximum=MAX_NUM_STEPS,
        )
    if args.length is not None:
        if "length" not in parameters:
            raise ValueError(
                "`--length` needs a sequence model (whose samples have a "
                f"length); MODEL {args.model_path} is a "
                f"{type(model).__name__}."
            )
        options["length"] = args.length
    if args.labels is not None:
        if not getattr(model, "samples_by_class", False):
            raise ValueError(
                f"`--labels` needs a class-conditional model; MODEL "
                f"{args.model_path} is a {type(model).__name__} without "
                "classes."
            )
        bad = [c for c in args.labels if not 0 <= c < model.num_classes]
        if bad:
            raise ValueError(
                f"`--labels` must lie in [0, {model.num_classes}); "
                f"received {bad}."
            )
        # Cycled, so that a grid's columns hold one class each.
        options["labels"] = np.resize(
            np.asarray(args.labels, "int32"), args.num_samples
        )
    if args.watermark_key is not None and "watermark" in parameters:
        options["watermark"] = kgen.watermarks.FourierNoiseWatermark(
            key=args.watermark_key,
            **given(
                radius=args.watermark_radius,
                inner_radius=args.watermark_inner_radius,
            ),
        )
    elif args.watermark_key is not None:
        if "sampler" not in parameters:
            raise ValueError(
                "`--watermark-key` needs a token model (whose `sample` "
                "takes a sampler) or a diffusion or flow model (whose "
                f"`sample` takes a watermark); MODEL {args.model_path} is "
                f"a {type(model).__name__}."
            )
        options["sampler"] = kgen.samplers.WatermarkedSampler(
            model.vocabulary_size,
            sampler=options.get("sampler", "random"),
            gamma=args.watermark_gamma,
            delta=args.watermark_delta,
            key=args.watermark_key,
        )
    if prompt is not None:
        samples = _continue_prompt(model, prompt, args, options)
    else:
        samples = sample_chunked(model, args, options)
    with writing_atomically(args.out, "--out") as temporary:
        if isinstance(samples, dict):  # molecules in 3-D
            write(samples, temporary)
        else:
            write(np.asarray(to_numpy(samples)), temporary)
    print(f"kgen: {args.num_samples} samples: {os.path.abspath(args.out)}")
    return 0


def sample_chunked(model, args, options):
    """`model.sample(-n, seed=--seed, **options)` by
    `kgen.models.sample_in_chunks`, `SAMPLE_CHUNK` at a time, refused
    (naming `-n` and `--max-output-bytes`) before drawing when samples of
    a known shape would pass the budget."""
    import numpy as np

    import kgen

    shape = getattr(model, "data_shape", None)
    if shape is not None and all(isinstance(d, int) for d in shape):
        _check_output_bytes(args.num_samples * 4 * int(np.prod(shape)), args)
    return kgen.models.sample_in_chunks(
        model,
        args.num_samples,
        seed=args.seed,
        chunk_size=SAMPLE_CHUNK,
        max_bytes=args.max_output_bytes,
        **options,
    )


def _check_output_bytes(total, args):
    if total > args.max_output_bytes:
        raise ValueError(
            f"`-n {args.num_samples}` samples take {total:,} bytes, over "
            f"`--max-output-bytes` ({args.max_output_bytes:,}); draw fewer "
            "or raise the limit."
        )


def _continue_prompt(model, prompt, args, options):
    """`--prompt`: each sample continues the prompt's tokens, drawn as
    `sample` draws (`sampler="random"`), up to `length` tokens in all."""
    import numpy as np

    tokenizer = preset_tokenizer(args.model_path)
    if tokenizer is None:
        raise ValueError(
            f"`--prompt` needs a text model (a preset with a tokenizer); "
            f"MODEL {args.model_path} has none."
        )
    try:
        tokens = tokenizer(prompt)
    except ValueError as error:  # it names its own argument, `text`
        raise ValueError(
            str(error).replace("`text`", "`--prompt`", 1)
        ) from None
    length = options.get("length", model.sequence_length)
    if not 1 <= len(tokens) < length:
        raise ValueError(
            f"`--prompt` must hold 1 to {length - 1} characters (the "
            f"samples are {length} long); received {len(tokens)}."
        )
    prompt = np.tile(tokens[None], (args.num_samples, 1))
    return model.generate(
        prompt,
        length - len(tokens),
        sampler=options.get("sampler", "random"),
        seed=args.seed,
    )


# The file each kind of sample is written to, by `--out`'s extension.
SAMPLE_FILES = {
    "text": (".txt",),
    "molecules": (".txt", ".smi"),
    "peptides": (".txt",),
    "audio": (".wav",),
    "video": (".gif",),
    "music": (".mid", ".midi"),
    "molecules_3d": (".sdf", ".xyz", ".npz", ".png"),
}


def _music_pitches(tokens, data):
    """A music model's tokens `(n, frames, voices)` as MIDI pitches: token
    `k > 0` is pitch `lowest_pitch + k - 1` (the card's), 0 a rest."""
    from kgen.datasets import token_pitches

    return token_pitches(tokens, data["lowest_pitch"])


def sample_kind(model, card, model_path):
    """`kgen.presets.sample_kind` of a MODEL (a `.keras` file keeps no
    tokenizer)."""
    import kgen

    return kgen.presets.sample_kind(
        model, card, has_tokenizer=preset_tokenizer(model_path) is not None
    )


def _sample_writer(model, card, args):
    """A function `write(samples, path)` writing samples as their kind
    asks (or as a `.npy` array, for any kind), for `args.out`; refuses a
    bad `--out` before any sample is drawn."""
    import numpy as np

    import kgen

    kind = sample_kind(model, card, args.model_path)
    from kgen.utils.regular_file import check_writable_target

    out = args.out
    if os.path.isdir(out):
        raise ValueError(f"`--out` must be a file path; {out!r} is a folder.")
    check_writable_target(os.path.abspath(out))
    if out.lower().endswith(".npy") and kind != "molecules_3d":
        return lambda samples, path: np.save(path, samples)
    if kind in SAMPLE_FILES:
        if not out.lower().endswith(SAMPLE_FILES[kind]):
            raise ValueError(
                f"`--out` must be a {' or '.join(SAMPLE_FILES[kind])} (or "
                f".npy) path for the {kind} samples of MODEL "
                f"{args.model_path}; received {out!r}."
            )
    else:
        _check_image_path(out, "--out")
    data = card.get("data", {})
    if kind == "text":
        tokenizer = preset_tokenizer(args.model_path)
        return lambda samples, path: _write_text(
            path, tokenizer.detokenize(samples.astype("int32"))
        )
    if kind in ("molecules", "peptides"):
        tokenizer = preset_tokenizer(args.model_path)
        return lambda samples, path: _write_lines(
            path, tokenizer.detokenize(samples.astype("int32"))
        )
    if kind == "audio":
        return lambda samples, path: _write_clips(
            path,
            samples,
            getattr(model, "num_levels", None),
            data["sample_rate"],
        )
    if kind == "music":
        return lambda samples, path: kgen.utils.save_midi(
            _music_pitches(samples, data),
            path,
            voice_names=data.get("voices"),
        )
    if kind == "molecules_3d":
        return molecule_files.molecule_writer(
            out, molecule_files.model_elements(model, card, args)
        )
    if kind == "points":
        return lambda samples, path: kgen.utils.save_scatter_plot(samples, path)
    value_range = value_range_of(model, card)
    if kind == "video":
        return lambda samples, path: kgen.utils.save_video_grid(
            samples, path, value_range=value_range
        )
    image_shape = data.get("image_shape")
    # A column per label when --labels cycles through them.
    labels = args.labels or []
    num_columns = len(labels) if len(set(labels)) > 1 else None

    def write_images(samples, path):
        if image_shape is not None:
            samples = samples.reshape((-1, *image_shape))
        kgen.utils.save_image_grid(
            samples, path, value_range=value_range, num_columns=num_columns
        )

    return write_images


def _write_text(path, texts):
    with open(path, "w", encoding="utf-8") as f:
        for index, text in enumerate(texts):
            f.write(f"--- sample {index}\n{text}\n")
    return path


def _write_lines(path, texts):
    """One sample per line: the `.smi` layout RDKit and MOSES read (a
    molecule the model wrote badly is kept, as an invalid line), or one
    peptide per line."""
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(f"{text}\n" for text in texts)
    return path


def _write_clips(path, clips, num_levels, sample_rate):
    """Each clip (mu-law levels when `num_levels` is set, else samples in
    [-1, 1]) joined by 0.25 s of silence into one WAV."""
    import numpy as np

    import kgen

    silence = np.zeros(int(0.25 * sample_rate), "float32")
    clips = np.asarray(clips)
    if num_levels is None:
        clips = [np.clip(clip.reshape(-1), -1.0, 1.0) for clip in clips]
    else:
        clips = [kgen.utils.mu_law_decode(c, num_levels) for c in clips]
    audio = np.concatenate([part for c in clips for part in (c, silence)])
    return kgen.utils.save_wav(path, audio, sample_rate)


def _check_image_path(path, option):
    """Refuses a path PIL cannot write an image to (by its extension), or
    an existing folder, before any sample is drawn."""
    from PIL import Image

    extension = os.path.splitext(path)[1].lower()
    if (
        os.path.isdir(path)
        or Image.registered_extensions().get(extension) not in Image.SAVE
    ):
        raise ValueError(
            f"`{option}` must be an image file path such as grid.png; "
            f"received {path!r}."
        )
