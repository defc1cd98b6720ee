"""Style transfer on digits and clothes with texture styles, both kgen
methods side by side, judged by the losses each is meant to lower.

Content: 4 MNIST and 4 Fashion-MNIST test images; styles: one
procedural texture of each kind (`kgen.datasets.load_textures`). Every
content image is styled with every style. Features: the FID-Inception
stem at 128x128 (`kgen.style.inception_feature_network`), the only
natural-image network available offline.

- Gatys: `kgen.style.gatys_style_transfer`, 200 Adam steps on the pixels
  from the content image.
- AdaIN: `kgen.style.AdaINStyleTransfer` trained by `fit` on MNIST and
  Fashion-MNIST training images against fresh random textures
  (`--adain-steps` steps of 16), then one pass per image.

For each method, the content loss (the deepest layer, against the
content image) and the Gram style loss (every layer, against the style
image), before (the content image itself) and after, and the seconds per
image; grids in benchmarks/results/style_transfer_<method>.png (first
row the styles, first column the content images).

    export KGEN_DATA_DIR=../shared/data
    python -m benchmarks.style_transfer
"""

import argparse
import time

import keras
import numpy as np

import kgen
from benchmarks import common
from kgen.utils.image_grid import save_image_grid

IMAGE_SHAPE = (28, 28, 1)


def content_images(per_dataset):
    images, names = [], []
    for dataset in ("mnist", "fashion_mnist"):
        _, (x_test, _) = kgen.datasets.load(dataset)
        images.append(x_test[:per_dataset])
        names += [dataset] * per_dataset
    return np.concatenate(images), names


def pairs(contents, styles):
    """Every content image with every style: content-major order."""
    return (
        np.repeat(contents, len(styles), axis=0),
        np.tile(styles, (len(contents), 1, 1, 1)),
    )


def grid(path, contents, styles, styled):
    blank = np.zeros((1,) + IMAGE_SHAPE, "float32")
    rows = [np.concatenate([blank, styles])]
    for index, content in enumerate(contents):
        row = styled[index * len(styles) : (index + 1) * len(styles)]
        rows.append(np.concatenate([content[None], row]))
    save_image_grid(
        np.concatenate(rows), path, num_columns=len(styles) + 1, scale=3
    )
    print(f"wrote {path}")


def summary(method, before, after, seconds, count):
    return {
        "method": method,
        "content_loss_before": float(before["content_loss"].mean()),
        "content_loss_after": float(after["content_loss"].mean()),
        "style_loss_before": float(before["style_loss"].mean()),
        "style_loss_after": float(after["style_loss"].mean()),
        "style_loss_reduction": float(
            1 - after["style_loss"].mean() / before["style_loss"].mean()
        ),
        "seconds_per_image": seconds / count,
    }


def train_adain(network, steps, seed=0):
    (mnist, _), _ = kgen.datasets.load("mnist")
    (fashion, _), _ = kgen.datasets.load("fashion_mnist")
    rng = np.random.default_rng(seed)
    count = steps * 16
    contents = np.concatenate([mnist, fashion])[
        rng.choice(len(mnist) + len(fashion), count)
    ]
    styles, _ = kgen.datasets.load_textures(count, seed=seed + 1)
    styles = styles[rng.permutation(count)]
    decoder = kgen.networks.style_decoder(
        network.outputs[-1].shape[1:], IMAGE_SHAPE
    )
    model = kgen.style.AdaINStyleTransfer(network, decoder, style_weight=10.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    start = time.perf_counter()
    history = model.fit(
        {"content": contents, "style": styles},
        batch_size=16,
        epochs=1,
        verbose=2,
    )
    return model, time.perf_counter() - start, history.history


def main():
    parser = argparse.ArgumentParser()
    common.add_flags(
        parser,
        per_dataset=4,
        gatys_steps=200,
        adain_steps=1500,
        style_weight=100.0,
    )
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    contents, sources = content_images(args.per_dataset)
    styles, _ = kgen.datasets.load_textures(
        len(kgen.datasets.TEXTURE_KINDS), seed=7
    )
    content_batch, style_batch = pairs(contents, styles)
    network = kgen.style.inception_feature_network(IMAGE_SHAPE)

    def losses(images):
        return kgen.style.style_transfer_losses(
            network, images, content_batch, style_batch
        )

    before = losses(content_batch)
    rows = []

    start = time.perf_counter()
    gatys = kgen.style.gatys_style_transfer(
        content_batch,
        style_batch,
        network,
        num_steps=args.gatys_steps,
        style_weight=args.style_weight,
        learning_rate=0.1,
    )
    seconds = time.perf_counter() - start
    rows.append(summary("gatys", before, losses(gatys), seconds, len(gatys)))
    grid(f"{common.RESULTS}/style_transfer_gatys.png", contents, styles, gatys)

    model, train_seconds, history = train_adain(network, args.adain_steps)
    start = time.perf_counter()
    adain = model.stylize(content_batch, style_batch)
    seconds = time.perf_counter() - start
    rows.append(summary("adain", before, losses(adain), seconds, len(adain)))
    rows[-1]["train_seconds"] = train_seconds
    grid(f"{common.RESULTS}/style_transfer_adain.png", contents, styles, adain)

    common.print_table(rows, list(rows[0]))
    common.write_json(
        "style_transfer",
        {
            "rows": rows,
            "contents": sources,
            "styles": list(kgen.datasets.TEXTURE_KINDS),
            "gatys_steps": args.gatys_steps,
            "style_weight": args.style_weight,
            "adain_steps": args.adain_steps,
            "adain_final_losses": {k: v[-1] for k, v in history.items()},
        },
        headline={
            "title": "Style transfer on MNIST and Fashion-MNIST with texture "
            "styles: Gatys' optimisation against a trained AdaIN network",
            "values": {
                "unstyled style loss": "/rows/0/style_loss_before",
                "Gatys style loss": "/rows/0/style_loss_after",
                "AdaIN style loss": "/rows/1/style_loss_after",
                "Gatys s/image": "/rows/0/seconds_per_image",
                "AdaIN s/image": "/rows/1/seconds_per_image",
            },
            "peer": "Gatys et al.'s per-image optimisation "
            "(kgen.style.gatys_style_transfer)",
        },
    )


if __name__ == "__main__":
    main()
