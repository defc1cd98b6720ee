"""The examples `kgen train` fits on: a preset's `--dataset` as arrays,
a folder or `.npy` of images read by the batch, shards packed by `kgen
data pack`, or captioned images, each prepared by the preset and trimmed
so that every batch splits over the devices. Apart from `train.py`, which
runs the fit, because reading data is its own concern with its own
checks (`--image-size`, labels, captions) and its own tests."""

import os


def training_data(args, preset, batch_size):
    """`((x, y), (x_test, y_test), image shape, name)`: the preset's
    prepared examples, arrays for `--dataset`, read by the batch for
    `--data`; `y` the class labels of a class-conditional preset (of a
    labelled `--dataset`), or the captions of a text-to-image one, else
    `None`; `x_test` `None` where there is no held-out set."""
    import numpy as np

    import kgen
    from kgen.datasets import lazy_images
    from kgen.presets import architectures

    def prepare(images):
        return architectures.prepare_data(args.preset, images)

    if preset.get("captioned"):
        return _captioned_data(args, preset, batch_size, prepare)
    if not args.data:
        dataset = args.dataset or preset["data"]["dataset"]
        (images, labels), (test_images, test_labels) = kgen.datasets.load(
            dataset
        )
        x_train, x_test = prepare(images), prepare(test_images)
        if (args.devices or 1) > 1:
            x_train, x_test = _whole_batches(
                x_train, x_test, batch_size, args.devices
            )
        if not is_class_conditional(args):
            labels = test_labels = None
        else:  # as `_whole_batches` trimmed the images
            labels = labels[: len(x_train)]
            test_labels = None if x_test is None else test_labels[: len(x_test)]
        return (
            (x_train, labels),
            (x_test, test_labels),
            images.shape[1:],
            dataset,
        )
    if os.path.isdir(args.data) and os.path.isfile(
        os.path.join(args.data, "index.json")
    ):
        return _sharded_data(args, batch_size, prepare)
    image_size = None
    if args.image_size is not None:
        image_size = lazy_images.parse_image_size(args.image_size)
    images = lazy_images.open_images(
        args.data, args.max_image_pixels, image_size=image_size
    )
    count = len(images)
    image_shape = images[np.arange(1)].shape[1:]
    _check_image_size(args, preset, image_shape)
    split = lazy_images.validation_count(count, image_shape)
    rows = np.arange(split, count)
    if (args.devices or 1) > 1:
        rows, _ = _whole_batches(rows, None, batch_size, args.devices)
    x_train = lazy_images.PreparedImages(images, rows, prepare)
    x_test = prepare(images[np.arange(split)]) if split else None
    return (x_train, None), (x_test, None), image_shape, args.data


def is_class_conditional(args):
    from kgen.presets import architectures

    entry = architectures.architecture(args.preset)
    return entry["arguments"].get("num_classes") is not None


def _check_image_size(args, preset, image_shape):
    """Refuses `--data` images of another size than the preset's unless
    `--image-size` says at what size to train: a size is a choice of
    architecture and memory, made once, explicitly (as diffusers'
    `--resolution`), not whatever the first file is."""
    if preset["data"].get("layout") == "vector":
        # Flattened: the architecture takes any number of values.
        return
    own = tuple(preset["data"]["shape"][:2])
    if args.image_size is None and tuple(image_shape[:2]) != own:
        height, width = image_shape[:2]
        raise ValueError(
            f"--data holds {height}x{width} images; {args.preset} is sized "
            f"for {own[0]}x{own[1]}. Pass --image-size to choose the "
            f"training size: --image-size {height}x{width} trains at "
            "theirs, --image-size 64 resizes and centre-crops them to "
            "64x64 (the architecture follows either)."
        )


def _sharded_data(args, batch_size, prepare):
    """`(train, None, image shape, name)` for a folder of shards written
    by `kgen data pack`: this process's share of every global batch,
    streamed (no validation split: the shards are all training data)."""
    import kgen

    if args.image_size is not None:
        raise ValueError(
            "--image-size applies to images read from a folder or a .npy "
            "file; shards hold their images at the size they were packed "
            "at (kgen data pack --image-size)."
        )

    batches = kgen.datasets.from_shards(
        args.data,
        batch_size,
        seed=args.seed,
        prepare=prepare,
        # The labels go to a class-conditional architecture alone.
        with_labels=is_class_conditional(args),
    )
    return (batches, None), (None, None), batches.example_shape, args.data


def _captioned_data(args, preset, batch_size, prepare):
    """`((x_train, captions), (x_test, captions), image shape, name)` of a
    preset that trains on `kgen.datasets.load_captioned`."""
    import kgen

    if args.data:
        raise ValueError(
            f"Preset {args.preset!r} trains on captioned images: use "
            "`--dataset digits|mnist|fashion_mnist` (`--data` holds no "
            "captions)."
        )
    dataset = args.dataset or preset["data"]["dataset"]
    (images, captions, _), (test_images, test_captions, _) = (
        kgen.datasets.load_captioned(dataset)
    )
    x_train, x_test = prepare(images), prepare(test_images)
    if (args.devices or 1) > 1:
        x_train, x_test = _whole_batches(
            x_train, x_test, batch_size, args.devices
        )
        captions = captions[: len(x_train)]
        test_captions = None if x_test is None else test_captions[: len(x_test)]
    return (
        (x_train, captions),
        (x_test, test_captions),
        images.shape[1:],
        f"{dataset} (captioned)",
    )


def _whole_batches(x_train, x_test, batch_size, num_devices):
    """Drops the few examples that would leave a last batch the devices
    cannot share evenly (JAX shards every batch)."""

    def trimmed(x):
        if x is None:
            return None
        extra = len(x) % batch_size % num_devices
        return x[: len(x) - extra] if len(x) - extra else None

    train, test = trimmed(x_train), trimmed(x_test)
    if train is None:
        raise ValueError(
            f"--devices {num_devices} needs at least {num_devices} "
            "training examples."
        )
    dropped = len(x_train) - len(train)
    if dropped:
        print(
            f"kgen: leaving out {dropped} training example(s) so every "
            f"batch splits over {num_devices} devices"
        )
    return train, test
