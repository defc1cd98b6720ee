"""`kgen finetune`: LoRA adapters trained on a user's images over a kgen
preset, a diffusers folder or an adapter, written as an adapter preset
beside a grid of samples and a JSON summary.

kgen finetune ddpm_mnist --dataset fashion_mnist --lora-rank 8 --out RUN
kgen finetune google-ddpm/ --data my_photos/ --prior-preservation 64 \
    --out RUN

With `--data`, every image is resized and cropped to the base's size and
brought to its channels; a class-conditional base trains them under
`--label` (DreamBooth's "rare token": a class the new subject takes over),
and `--prior-preservation N` mixes in N samples the base draws for that
class first, so that it keeps what it made there (Ruiz et al., 2023). A
text-to-image base (a Stable Diffusion folder) trains them under
`--prompt` (DreamBooth's instance prompt, "a photo of sks dog"), its
prior samples drawn for `--prior-prompt` ("a photo of a dog").

kgen finetune stable-diffusion/ --data dog/ --prompt "a photo of sks dog" \
    --prior-preservation 100 --prior-prompt "a photo of a dog" --out RUN
"""

import json
import os
import time

from kgen.cli.common import given
from kgen.cli.common import writing_atomically

# The adapters' rank without `--lora-rank`: `kgen.lora.enable_lora`'s.
DEFAULT_RANK = 8
# The most base samples `--prior-preservation` draws before training.
MAX_PRIOR_SAMPLES = 10_000
GRID_SAMPLES = 16
# The most bytes of float32 examples a fine-tune holds in memory (a few
# images of a subject, or a small dataset).
MAX_DATA_BYTES = 2**31


def add_parser(commands):
    parser = commands.add_parser(
        "finetune",
        help="train LoRA adapters over a preset, a diffusers folder or an "
        "adapter on new images; writes an adapter preset",
    )
    parser.add_argument(
        "base",
        metavar="BASE",
        help="a preset name or folder, a diffusers folder (a UNet2DModel, "
        "its pipeline, a DiT or Stable Diffusion pipeline), or a LoRA "
        "adapter folder (training goes on)",
    )
    data = parser.add_mutually_exclusive_group(required=True)
    data.add_argument(
        "--data",
        help="a folder of images or an .npy of images in [0, 1], resized "
        "and cropped to the base's size",
    )
    data.add_argument(
        "--dataset", help="a kgen dataset name, e.g. fashion_mnist"
    )
    parser.add_argument("--out", required=True, help="the run folder")
    parser.add_argument(
        "--lora-rank",
        type=int,
        help=f"the adapters' rank (default {DEFAULT_RANK}); an adapter "
        "BASE keeps its own",
    )
    parser.add_argument(
        "--lora-alpha",
        type=float,
        help="the adapters' alpha (default the rank); an adapter BASE "
        "keeps its own",
    )
    parser.add_argument(
        "--target-layers",
        nargs="+",
        help="layer path or name patterns to adapt (default: the query "
        "and value projections of every attention layer)",
    )
    parser.add_argument(
        "--label",
        type=int,
        help="a class-conditional base: the class every --data image "
        "trains under (required there with --data)",
    )
    parser.add_argument(
        "--prompt",
        help="a text-to-image base: the caption every --data image trains "
        "under (required there), e.g. 'a photo of sks dog'",
    )
    parser.add_argument(
        "--prior-prompt",
        help="a text-to-image base: the prompt --prior-preservation "
        "samples are drawn for, e.g. 'a photo of a dog'",
    )
    parser.add_argument(
        "--prior-preservation",
        type=int,
        default=0,
        metavar="N",
        help="mix N samples of the base (for --label) into the data",
    )
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--max-examples", type=int)
    parser.add_argument("--seed", type=int, default=0)


def finetune(args):
    import keras
    import numpy as np

    import kgen
    from kgen.presets import lora_adapter

    _check_numbers(args)
    if args.prior_preservation and args.dataset:
        raise ValueError(
            "--prior-preservation takes --data (a new subject under one "
            "--label); a --dataset of many classes needs none."
        )
    model, base = _load_base(args.base)
    _check_adapter_options(args, model)
    if model.conditioning.targets_required:
        raise ValueError(
            f"BASE is a {type(model).__name__}, which trains on pairs of "
            "images; kgen finetune trains on images alone. Use kgen.lora in "
            "a script (docs/training.md, Fine-tuning with LoRA)."
        )
    _check_prompts(args, model)
    images, labels = _training_data(args, model)
    num_classes = getattr(model, "num_classes", None)
    # The class the new images train under (`None`: unconditional).
    label = _new_class(args, labels)
    if args.prompt is not None:
        # A text-to-image base's "labels" are its captions.
        labels = [args.prompt] * len(images)
    if args.prior_preservation:
        count = args.prior_preservation
        if args.prompt is not None:
            # A text model's own 50-step DDIM run, not sample's 1,000
            # DDPM steps.
            prior = model.generate([args.prior_prompt] * count, seed=args.seed)
            labels = labels + [args.prior_prompt] * count
        else:
            prior = model.sample(
                count,
                labels=None if label is None else np.full(count, label),
                seed=args.seed,
            )
            if labels is not None:
                labels = np.concatenate([labels, labels[:1].repeat(count)])
        images = np.concatenate([images, keras.ops.convert_to_numpy(prior)])
    if not kgen.lora.lora_layers(model):
        kgen.lora.enable_lora(
            model,
            DEFAULT_RANK if args.lora_rank is None else args.lora_rank,
            **given(alpha=args.lora_alpha, target_layers=args.target_layers),
            seed=args.seed,
        )
    model.compile(**_optimizers(model, args.learning_rate))
    trainable = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
    total = sum(int(np.prod(v.shape)) for v in model.weights)
    start = time.perf_counter()
    history = model.fit(
        images,
        labels,
        batch_size=min(args.batch_size, len(images)),
        epochs=args.epochs,
        verbose=0,
    )
    seconds = time.perf_counter() - start
    os.makedirs(args.out, exist_ok=True)
    adapter = kgen.presets.save_lora_adapter(
        model, os.path.join(args.out, "adapter"), base
    )
    grid_labels = None
    if label is not None:
        grid_labels = np.full(GRID_SAMPLES, label)
    elif num_classes is not None and args.dataset:
        grid_labels = np.arange(GRID_SAMPLES) % num_classes
    if args.prompt is None:
        samples = model.sample(GRID_SAMPLES, labels=grid_labels, seed=args.seed)
    else:
        samples = model.generate([args.prompt] * GRID_SAMPLES, seed=args.seed)
    low, high = kgen.presets.value_range_of(model)
    grid = (keras.ops.convert_to_numpy(samples) - low) / (high - low)
    kgen.utils.save_image_grid(grid, os.path.join(args.out, "samples.png"))
    summary = {
        "base": base,
        "base_sha256": kgen.lora.base_weights_sha256(model),
        "examples": len(images),
        "epochs": args.epochs,
        "trainable_parameters": trainable,
        "base_parameters": total - trainable,
        "adapter_bytes": os.path.getsize(
            os.path.join(adapter, lora_adapter.ADAPTER_WEIGHTS)
        ),
        "train_seconds": round(seconds, 1),
        # Every loss `fit` reports: a GAN's generator and discriminator
        # losses, one "loss" otherwise.
        "losses": {
            name: [float(v) for v in values]
            for name, values in history.history.items()
            if name.endswith("loss")
        },
    }
    with writing_atomically(
        os.path.join(args.out, "finetune.json"), "--out"
    ) as path:
        with open(path, "w") as file:
            json.dump(summary, file, indent=2)
            file.write("\n")
    print(json.dumps(summary))
    return 0


def _optimizers(model, learning_rate):
    """An Adam for each optimizer `model.compile` takes: one, or one per
    network (a GAN's generator and discriminator)."""
    import inspect

    import keras

    names = [
        name
        for name in inspect.signature(model.compile).parameters
        if name == "optimizer" or name.endswith("_optimizer")
    ]
    return {name: keras.optimizers.Adam(learning_rate) for name in names}


def _new_class(args, labels):
    """The one class `--data` images train under, `None` for none (an
    unconditional base, or a labelled `--dataset`)."""
    if labels is None or args.dataset:
        return None
    return int(labels[0])


def _check_adapter_options(args, model):
    """An adapter BASE trains on with its own adapters: options that
    would shape new ones are refused rather than silently ignored."""
    import kgen

    if not kgen.lora.lora_layers(model):
        return
    asked = [
        option
        for option, value in (
            ("--lora-rank", args.lora_rank),
            ("--lora-alpha", args.lora_alpha),
            ("--target-layers", args.target_layers),
        )
        if value is not None
    ]
    if asked:
        settings = kgen.lora.lora_settings(model)
        raise ValueError(
            f"BASE {args.base} is a LoRA adapter (rank {settings['rank']}, "
            f"alpha {settings['alpha']:g}, {len(settings['layers'])} "
            f"layers) whose training goes on with its own adapters: drop "
            f"{', '.join(asked)}, or fine-tune its base instead."
        )


def _check_numbers(args):
    for option, value, low, high in (
        (
            "--lora-rank",
            DEFAULT_RANK if args.lora_rank is None else args.lora_rank,
            1,
            4096,
        ),
        ("--epochs", args.epochs, 1, 100_000),
        ("--batch-size", args.batch_size, 1, 2**16),
        ("--prior-preservation", args.prior_preservation, 0, MAX_PRIOR_SAMPLES),
        (
            "--max-examples",
            1 if args.max_examples is None else args.max_examples,
            1,
            2**31,
        ),
    ):
        if not low <= value <= high:
            raise ValueError(
                f"{option} must be in [{low}, {high}]; received {value}."
            )
    if not 0 < args.learning_rate < float("inf"):
        raise ValueError(
            "--learning-rate must be positive and finite; received "
            f"{args.learning_rate}."
        )


def _load_base(base):
    """The model to adapt and the base its adapter will name: an adapter
    folder continues its adapters over its own base."""
    import kgen
    from kgen.presets import lora_adapter

    if lora_adapter.is_diffusers_folder(base):
        return _diffusers_class(base).from_diffusers(base), base
    if os.path.isdir(base) and lora_adapter.is_lora_adapter(base):
        config, _ = lora_adapter.read_lora_adapter(base)
        return kgen.presets.load_preset(base), lora_adapter.base_location(
            base, config
        )
    model = kgen.presets.load_preset(base)
    if not isinstance(model, kgen.models.GenerativeModel):
        raise ValueError(
            f"BASE {base} holds a {type(model).__name__}, not a kgen "
            "generative model."
        )
    return model, base


# A diffusers pipeline's class -> the kgen model it imports as; any other
# folder (a U-Net's own, a DDPM or DDIM pipeline) is a DiffusionModel's.
DIFFUSERS_MODELS = {
    "StableDiffusionPipeline": "LatentTextToImage",
    "DiTPipeline": "LatentDiffusion",
}


def _diffusers_class(folder):
    """The kgen class a diffusers folder imports as; an unreadable index
    is left to `DiffusionModel.from_diffusers`, which names what is
    wrong with it."""
    import kgen
    from kgen.utils.json_file import read_json

    kind = None
    try:
        kind = read_json(os.path.join(folder, "model_index.json"))
    except (OSError, ValueError):
        pass
    name = "DiffusionModel"
    if isinstance(kind, dict) and isinstance(kind.get("_class_name"), str):
        name = DIFFUSERS_MODELS.get(kind["_class_name"], name)
    return getattr(kgen.models, name)


def _check_prompts(args, model):
    """`--prompt` and `--prior-prompt` given exactly for a text-to-image
    base, and `--label` not."""
    texts = "generate" in model.capabilities and hasattr(model, "tokenizer")
    if not texts:
        for option, value in (
            ("--prompt", args.prompt),
            ("--prior-prompt", args.prior_prompt),
        ):
            if value is not None:
                raise ValueError(
                    f"{option} is for a text-to-image base; BASE is a "
                    f"{type(model).__name__}."
                )
        return
    if args.dataset:
        raise ValueError(
            f"BASE is a {type(model).__name__}, which trains on captioned "
            "images: give --data and --prompt, not --dataset."
        )
    if args.prompt is None or args.label is not None:
        raise ValueError(
            f"BASE is a {type(model).__name__}: give --prompt, the caption "
            "every --data image trains under (not --label)."
        )
    if bool(args.prior_preservation) != (args.prior_prompt is not None):
        raise ValueError(
            "--prior-preservation N and --prior-prompt go together on a "
            "text-to-image base: N samples drawn for the prior prompt."
        )


def _training_data(args, model):
    """`(images, labels)` in the base's shape and value range; `labels`
    `None` for a base without classes."""
    import numpy as np

    import kgen
    from kgen.datasets import lazy_images

    shape = tuple(model.data_shape)
    if len(shape) != 3:
        raise ValueError(
            f"BASE draws examples of shape {shape}; kgen finetune adapts "
            "image models (height, width, channels)."
        )
    num_classes = getattr(model, "num_classes", None)
    labels = None
    if args.dataset:
        (images, labels), _ = kgen.datasets.load(args.dataset)
        if images.ndim != 4 or images.shape[1:3] != shape[:2]:
            raise ValueError(
                f"--dataset {args.dataset} holds examples of shape "
                f"{images.shape[1:]}; BASE takes {shape} (give its images "
                "as --data to resize them)."
            )
    else:
        source = lazy_images.open_images(args.data, image_size=shape[:2])
        count = min(len(source), args.max_examples or len(source))
        if count * 4 * np.prod(shape) > MAX_DATA_BYTES:
            raise ValueError(
                f"--data holds {len(source):,} images, more than "
                f"{MAX_DATA_BYTES:,} bytes at the base's size; take fewer "
                "with --max-examples."
            )
        images = source.read(np.arange(count))
    if args.max_examples:
        images = images[: args.max_examples]
        labels = None if labels is None else labels[: args.max_examples]
    images = _with_channels(images, shape[-1])
    low, high = kgen.presets.value_range_of(model)
    images = (low + (high - low) * images).astype("float32")
    if num_classes is None:
        return images, None
    if args.label is not None and not 0 <= args.label < num_classes:
        raise ValueError(
            f"--label must be in [0, {num_classes - 1}] (the base's "
            f"classes); received {args.label}."
        )
    if args.label is not None:
        labels = np.full(len(images), args.label)
    elif labels is None:
        raise ValueError(
            f"BASE is class-conditional ({num_classes} classes): give "
            "--label, the class the --data images train under."
        )
    return images, np.asarray(labels, "int32")


def _with_channels(images, channels):
    if images.shape[-1] == channels:
        return images
    if channels == 1:
        return images.mean(axis=-1, keepdims=True)
    if images.shape[-1] == 1:
        return images.repeat(channels, axis=-1)
    raise ValueError(
        f"--data holds images of {images.shape[-1]} channels; BASE takes "
        f"{channels}."
    )
