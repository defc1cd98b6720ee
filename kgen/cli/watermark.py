"""`kgen watermark`: tests text or images for a watermark, or embeds
a multi-bit key with a trained watermark model."""

from kgen.cli.common import MODEL
from kgen.cli.common import MODEL_HELP
from kgen.cli.common import given
from kgen.cli.common import open_model
from kgen.cli.common import preset_card
from kgen.cli.common import preset_tokenizer
from kgen.cli.common import to_numpy
from kgen.cli.common import value_range_of
from kgen.cli.common import writing_atomically


def add_parser(commands):
    """Adds `kgen watermark` and its options to `commands`."""
    watermark = commands.add_parser(
        "watermark",
        help="test text or images for the watermark that `kgen generate "
        "--watermark-key` embeds, or embed / test a multi-bit key with a "
        "trained BitWatermark or StableSignature (.keras)",
    )
    watermark.add_argument("action", choices=["detect", "embed"])
    watermark.add_argument("model_path", metavar=MODEL, help=MODEL_HELP)
    watermark.add_argument(
        "text_path",
        metavar="FILE",
        help="text models: a text file, each `--- sample N` block (as "
        "`kgen generate` writes them) tested on its own; diffusion and "
        "flow models: a .npy of samples (`kgen generate --out x.npy`) or "
        "one image file",
    )
    watermark.add_argument(
        "--key",
        type=int,
        help="the key (a StableSignature's own when left out)",
    )
    watermark.add_argument(
        "--out",
        help="embed: where the marked images go (.npy, or .png for a grid)",
    )
    watermark.add_argument(
        "--p-value",
        type=float,
        default=0.01,
        help="multi-bit keys: the binomial p-value below which an image "
        "is called watermarked",
    )
    watermark.add_argument("--gamma", type=float, default=0.25)
    watermark.add_argument(
        "--radius",
        type=int,
        help="images: the keyed frequencies' outer ring (default: "
        "FourierNoiseWatermark's, 8)",
    )
    watermark.add_argument(
        "--inner-radius",
        type=int,
        help="images: their inner ring (default 4)",
    )
    watermark.add_argument(
        "--num-steps",
        type=int,
        help="images: sampler steps to invert (default: the preset's, else 50)",
    )
    watermark.add_argument(
        "--threshold",
        type=float,
        help="z-score above which a sample is called watermarked (default "
        "4 for text, 2.326 for images: p < 0.01)",
    )


def watermark(args):
    """`kgen watermark detect MODEL FILE`: the z-score, p-value and
    verdict of each sample in FILE: texts tokenized by MODEL's tokenizer,
    or images whose start noise MODEL's sampler is inverted to."""
    import kgen
    from kgen.models import contract

    model = open_model(args.model_path, watermarks=True)
    if isinstance(
        model, (kgen.watermarks.BitWatermark, kgen.watermarks.StableSignature)
    ):
        return _bit_watermark(model, args)
    if args.action == "embed":
        raise ValueError(
            "`embed` needs a trained kgen.watermarks.BitWatermark saved as "
            f".keras; MODEL {args.model_path} is not one (a generative "
            "model embeds its key as it samples: `kgen generate "
            "--watermark-key`)."
        )
    if args.key is None:
        raise ValueError("`--key` is needed to test for this watermark.")
    tokenizer = preset_tokenizer(args.model_path)
    if tokenizer is None:
        if contract.can(model, "invert"):
            return _detect_image_watermark(model, args)
        raise ValueError(
            f"MODEL {args.model_path} has no tokenizer to read text with "
            "and no sampler to invert: name a text preset (such as "
            "gpt_shakespeare) or a diffusion or flow model (such as "
            "flow_matching_mnist)."
        )
    with open(args.text_path, encoding="utf-8") as f:
        text = f.read()
    samples = _text_samples(text)
    detector = kgen.watermarks.TextWatermarkDetector(
        tokenizer.vocabulary_size,
        gamma=args.gamma,
        key=args.key,
        **given(threshold=args.threshold),
    )
    found = 0
    for index, sample_text in enumerate(samples):
        try:
            tokens = tokenizer(sample_text)
        except ValueError as error:  # it names its own argument, `text`
            raise ValueError(
                str(error).replace("`text`", f"TEXT's sample {index}", 1)
            ) from None
        scores = {k: v[0] for k, v in detector.score(tokens).items()}
        marked = scores["z_score"] > detector.threshold
        found += int(marked)
        print(
            f"sample {index}: z {scores['z_score']:.2f}, p "
            f"{scores['p_value']:.2e}, green {scores['green_fraction']:.3f} "
            f"of {scores['num_scored']} tokens: "
            + ("watermarked" if marked else "not watermarked")
        )
    print(f"kgen: {found} of {len(samples)} samples watermarked")
    return 0


def _detect_image_watermark(model, args):
    import numpy as np

    import kgen

    card = preset_card(args.model_path)
    num_steps = args.num_steps
    if num_steps is None:  # the preset's sampler, else `invert`'s default
        num_steps = card.get("sample_arguments", {}).get("num_steps")
    detector = kgen.watermarks.FourierNoiseWatermark(
        key=args.key,
        **given(
            radius=args.radius,
            inner_radius=args.inner_radius,
            threshold=args.threshold,
        ),
    )
    images = _read_images(
        args.text_path, model.sample_shape, value_range_of(model, card)
    )
    scores = detector.score(images, model, **given(num_steps=num_steps))
    marked = scores["z_score"] > detector.threshold
    for index, (z_score, p_value) in enumerate(
        zip(scores["z_score"], scores["p_value"])
    ):
        print(
            f"sample {index}: z {z_score:.2f}, p {p_value:.2e}: "
            + ("watermarked" if marked[index] else "not watermarked")
        )
    print(f"kgen: {int(np.sum(marked))} of {len(marked)} samples watermarked")
    return 0


def _bit_watermark(model, args):
    """`embed` or `detect` a multi-bit key with a trained model."""
    import numpy as np

    import kgen
    from kgen.utils.argument_validation import validate_float

    is_signature = isinstance(model, kgen.watermarks.StableSignature)
    if args.key is None and not is_signature:
        raise ValueError("`--key` is needed: a BitWatermark takes any key.")
    key = model.key if args.key is None else args.key
    bits = kgen.watermarks.key_bits(key, model.num_bits)
    low, high = model.value_range
    images = _read_images(args.text_path, model.image_shape, (low, high))
    if args.action == "embed":
        if is_signature:
            raise ValueError(
                "`embed` needs a BitWatermark: a StableSignature's key is "
                "in its decoder's weights, in every image it decodes."
            )
        if not args.out or not args.out.lower().endswith((".npy", ".png")):
            raise ValueError(
                f"`embed` needs `--out` (.npy or .png); received {args.out!r}."
            )
        marked = to_numpy(model.embed(images, bits))
        with writing_atomically(args.out, "--out") as temporary:
            if args.out.lower().endswith(".png"):
                kgen.utils.save_image_grid(
                    marked, temporary, value_range=(low, high)
                )
            else:
                np.save(temporary, marked)
        print(f"kgen: {len(marked)} images with key {key}: {args.out}")
        return 0
    threshold = validate_float(
        args.p_value,
        "--p-value",
        0.0,
        1.0,
        exclusive_minimum=True,
        exclusive_maximum=True,
    )
    scores = model.score(images, bits)
    marked = scores["p_value"] < threshold
    for index, (matching, p_value) in enumerate(
        zip(scores["num_matching"], scores["p_value"])
    ):
        print(
            f"sample {index}: {matching} of {model.num_bits} bits match, p "
            f"{p_value:.2e}: "
            + ("watermarked" if marked[index] else "not watermarked")
        )
    print(f"kgen: {int(np.sum(marked))} of {len(marked)} samples watermarked")
    return 0


def _read_images(path, image_shape, value_range):
    """FILE's images in `value_range`: a `.npy` batch as `kgen generate`
    saves it (one image of `image_shape` is a batch of one), or one image
    file (8-bit, scaled to the range)."""
    import numpy as np
    from PIL import Image

    if path.lower().endswith(".npy"):
        from kgen.utils.data_validation import check_real_dtype

        try:
            # Memory-mapped: the header is checked before any data is read.
            images = np.load(path, mmap_mode="r", allow_pickle=False)
        except ValueError as error:
            raise ValueError(f"FILE {path}: not a .npy array ({error}).")
        check_real_dtype(images.dtype, "FILE")
        if images.ndim == len(image_shape):
            images = images[None]
        if tuple(images.shape[1:]) != tuple(image_shape):
            raise ValueError(
                f"FILE {path} holds an array of shape {images.shape}; this "
                f"MODEL's samples are {tuple(image_shape)}."
            )
        return np.asarray(images, "float32")
    try:
        image = np.asarray(Image.open(path), "float32") / 255.0
    except (OSError, ValueError) as error:
        raise ValueError(
            f"FILE must be a .npy of samples or an image file; {path!r} "
            f"could not be read ({error})."
        ) from None
    if image.ndim == 2:
        image = np.repeat(image[..., None], image_shape[-1], axis=-1)
    low, high = value_range
    return (image[None] * (high - low) + low).astype("float32")


def _text_samples(text):
    """The `--- sample N` blocks `kgen generate` writes, or the whole text
    when it has none."""
    blocks, current = [], None
    for line in text.split("\n"):
        if line.startswith("--- sample "):
            current = []
            blocks.append(current)
        elif current is not None:
            current.append(line)
    if not blocks:
        return [text]
    return ["\n".join(block).rstrip("\n") for block in blocks]
