"""`kgen data pack`: packs an image dataset into shards that
`kgen.datasets.from_shards` streams into `fit`.

kgen data pack images/ shards/ --shards 8     # a folder; class subfolders
kgen data pack faces.npy shards/ --shards 8   # (n, h, w[, c]) uint8/[0, 1]
kgen data pack mnist shards/ --shards 8       # a dataset's train split
"""

import os

# kgen.datasets.lazy_images.MAX_IMAGE_PIXELS, not imported here: `kgen
# --help` imports every command, and that module imports Keras.
MAX_IMAGE_PIXELS = 1024 * 1024


def add_parser(commands):
    """Adds `kgen data` and its actions to `commands`."""
    data = commands.add_parser(
        "data",
        help="pack an image dataset into shards for streaming",
        description="Prepares training data: `kgen data pack` writes "
        "ArrayRecord shards and their index.json, which "
        "kgen.datasets.from_shards streams into fit, one share per "
        'process (needs `pip install "kgen[data]"`).',
    )
    actions = data.add_subparsers(dest="action", required=True)
    pack = actions.add_parser(
        "pack",
        help="write SRC's images as shards in OUT",
        description="Writes SRC's images (uint8) and labels as --shards "
        "ArrayRecord files and index.json in OUT, all at once.",
    )
    pack.add_argument(
        "src",
        metavar="SRC",
        help="a folder of images (in class subfolders SRC/<class>/: "
        "labelled by sorted subfolder name), a .npy file of images (n, "
        "height, width[, channels]) uint8 or in [0, 1], or a dataset name "
        "(digits, mnist, fashion_mnist, emoji), whose train split is "
        "packed with its labels",
    )
    pack.add_argument("out", metavar="OUT", help="the folder to write")
    pack.add_argument(
        "--shards",
        type=int,
        required=True,
        help="number of shards: at least the number of processes that "
        "will read them (each reads its own)",
    )
    pack.add_argument(
        "--overwrite", action="store_true", help="replace a non-empty OUT"
    )
    pack.add_argument(
        "--max-image-pixels",
        type=int,
        default=MAX_IMAGE_PIXELS,
        help="the largest image (height x width) taken from a folder or "
        f".npy, checked before anything is read (default "
        f"{MAX_IMAGE_PIXELS:,})",
    )


def pack(args):
    from kgen.datasets.shards import pack_shards

    if args.shards < 1:
        raise ValueError(f"--shards must be >= 1; received {args.shards}.")
    images, labels, classes = _source(args.src, args.max_image_pixels)
    index = pack_shards(
        images,
        args.out,
        num_shards=args.shards,
        labels=labels,
        num_classes=None if classes is None else len(classes),
        overwrite=args.overwrite,
    )
    size = sum(shard["bytes"] for shard in index["shards"])
    shape = "x".join(map(str, index["example_shape"]))
    described = (
        f"{index['num_classes']} classes" if index["labels"] else "no labels"
    )
    print(
        f"kgen: packed {index['count']:,} images ({shape}, {described}) "
        f"into {len(index['shards'])} shards, {size:,} bytes: "
        f"{os.path.abspath(args.out)}"
    )
    if classes is not None and not isinstance(classes, range):
        mapping = ", ".join(f"{i}={name}" for i, name in enumerate(classes))
        print(f"kgen: labels: {mapping}")
    return 0


def _source(src, max_image_pixels):
    """`(images, labels, classes)` of SRC; `labels` and `classes` (the
    class names, by label) are `None` without labels."""
    import kgen
    from kgen.datasets.lazy_images import open_images

    if os.path.isdir(src) or src.endswith(".npy"):
        images = open_images(src, max_image_pixels)
        if not os.path.isdir(src):
            return images, None, None
        return (images, *_folder_labels(src, images.files))
    if src in kgen.datasets.available():
        (x_train, y_train), _ = kgen.datasets.load(src)
        if x_train.ndim != 4 or y_train.ndim != 1:
            raise ValueError(
                f"SRC {src} is not a labelled image dataset (examples "
                f"{x_train.shape[1:]}, labels {y_train.shape[1:]}); give "
                "images with one class id each."
            )
        return x_train, y_train, range(int(y_train.max()) + 1)
    raise ValueError(
        f"SRC must be a folder of images, a .npy file or a dataset name "
        f"({', '.join(kgen.datasets.available())}); received {src!r}."
    )


def _folder_labels(src, files):
    """Class ids by sorted subfolder name when every image sits in a
    subfolder `src/<class>/`, else no labels."""
    import numpy as np

    parts = [os.path.relpath(file, src).split(os.sep) for file in files]
    if any(len(part) != 2 for part in parts):
        return None, None
    classes = sorted({part[0] for part in parts})
    ids = {name: label for label, name in enumerate(classes)}
    return np.array([ids[part[0]] for part in parts]), classes
