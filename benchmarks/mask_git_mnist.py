"""MaskGIT against a PixelCNN prior over the same VQ-VAE codes of MNIST.

1. Trains `kgen.models.VQVAE` (128 EMA codes with dead-code restarts on a
   7x7 grid, `benchmarks.vqvae_mnist`'s model) for `--vqvae-epochs` on
   the MNIST train split in [0, 1] and encodes both splits.
2. Trains two class-conditional priors on the 60,000 training code grids
   for `--prior-epochs` epochs each (batch 128, Adam 1e-3, label dropout
   0.1 for MaskGIT): a gated `PixelCNN` (one network call per code, 49
   per grid, windowed) and a `MaskGIT` (a 4-block bidirectional
   Transformer, cosine mask schedule).
3. Draws `--num-samples` grids from each (balanced labels, seed 1,
   temperature 1, no guidance; MaskGIT at 4 / 8 / 12 steps), decodes them
   with the VQ-VAE and scores the images by FID and KID (FID-Inception
   features) against the first 1,000 MNIST test images, with the
   requested-label accuracy of an MNIST CNN. The VQ-VAE's reconstructions
   of the test images are the floor the priors can reach.
4. Times each prior's sampling of the same batch of `--num-samples`
   grids (a second call; the first traces and compiles).

    KGEN_DATA_DIR=../shared/data python -m benchmarks.mask_git_mnist
"""

import argparse
import time

import keras
import numpy as np

import kgen
from benchmarks.common import inception_distances
from benchmarks.common import print_table
from benchmarks.common import write_json

MASK_GIT_STEPS = (4, 8, 12)


def train_vqvae(x_train, epochs):
    model = kgen.models.VQVAE(
        kgen.networks.vqvae_encoder((28, 28, 1), 16, 32),
        kgen.networks.vqvae_decoder((28, 28, 1), 16, 32),
        kgen.layers.VectorQuantizer(
            128, 16, use_ema=True, dead_code_threshold=1.0, seed=0
        ),
        seed=0,
    )
    model.compile(optimizer=keras.optimizers.Adam(2e-3))
    model.fit(x_train, batch_size=128, epochs=epochs, verbose=2)
    return model


def encode(vqvae, x):
    return np.concatenate(
        [
            keras.ops.convert_to_numpy(vqvae.encode(x[i : i + 2000]))
            for i in range(0, len(x), 2000)
        ]
    ).astype("int32")


def decode(vqvae, codes):
    return np.clip(keras.ops.convert_to_numpy(vqvae.decode(codes)), 0, 1)


def train_prior(model, codes, labels, epochs):
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    start = time.time()
    history = model.fit(codes, labels, batch_size=128, epochs=epochs, verbose=2)
    return {
        "parameters": int(model.count_params()),
        "train_seconds": time.time() - start,
        "final_loss": float(history.history["loss"][-1]),
    }


def timed(draw):
    draw()
    start = time.time()
    grids = keras.ops.convert_to_numpy(draw())
    return grids, time.time() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vqvae-epochs", type=int, default=3)
    parser.add_argument("--prior-epochs", type=int, default=10)
    parser.add_argument("--num-samples", type=int, default=500)
    args = parser.parse_args()
    from benchmarks.gan_mnist import mnist_classifier

    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = kgen.datasets.load("mnist")
    vqvae = train_vqvae(x_train, args.vqvae_epochs)
    train_codes = encode(vqvae, x_train)
    code_shape, num_levels = vqvae.code_shape, 128

    pixel_cnn = kgen.models.PixelCNN(
        code_shape,
        num_levels=num_levels,
        filters=64,
        num_layers=5,
        num_classes=10,
        seed=0,
    )
    mask_git = kgen.models.MaskGIT(
        kgen.networks.masked_token_transformer(
            code_shape,
            num_levels,
            width=128,
            num_layers=4,
            num_heads=4,
            num_classes=10,
        ),
        num_classes=10,
        seed=0,
    )
    training = {
        "pixel_cnn": train_prior(
            pixel_cnn, train_codes, y_train, args.prior_epochs
        ),
        "mask_git": train_prior(
            mask_git, train_codes, y_train, args.prior_epochs
        ),
    }
    print(training, flush=True)

    n = args.num_samples
    labels = np.arange(n) % 10
    draws = {
        "pixel_cnn": (
            lambda: pixel_cnn.sample(n, labels=labels, seed=1),
            int(np.prod(code_shape)),
        )
    }
    for steps in MASK_GIT_STEPS:
        draws[f"mask_git-{steps}"] = (
            lambda steps=steps: mask_git.sample(
                n, labels=labels, num_steps=steps, seed=1
            ),
            steps,
        )

    classifier, classifier_accuracy = mnist_classifier(
        x_train, y_train, x_test, y_test
    )
    distances = inception_distances(x_test[:1000], (0, 1))

    def scores(images, wanted):
        predicted = classifier.predict(images, verbose=0).argmax(1)
        return *distances(images), float((predicted == wanted).mean())

    floor = decode(vqvae, encode(vqvae, x_test[:n]))
    floor_fid, floor_kid, floor_accuracy = scores(floor, y_test[:n])
    rows = [
        {
            "prior": "reconstructions (floor)",
            "network_calls": 0,
            "fid": floor_fid,
            "kid": floor_kid,
            "label_accuracy": floor_accuracy,
            "seconds": 0.0,
        }
    ]
    for name, (draw, calls) in draws.items():
        grids, seconds = timed(draw)
        images = decode(vqvae, grids)
        fid_value, kid_value, accuracy = scores(images, labels)
        rows.append(
            {
                "prior": name,
                "network_calls": calls,
                "fid": fid_value,
                "kid": kid_value,
                "label_accuracy": accuracy,
                "seconds": seconds,
            }
        )
        print(rows[-1], flush=True)
        kgen.utils.save_image_grid(
            images[:100], f"benchmarks/results/mask_git_mnist_{name}.png"
        )
    print_table(rows, list(rows[0]))
    pixel_seconds = rows[1]["seconds"]
    speedups = {
        row["prior"]: pixel_seconds / row["seconds"] for row in rows[2:]
    }
    print("speed-up over the PixelCNN prior, same batch:", speedups)
    write_json(
        f"mask_git_mnist_{keras.backend.backend()}",
        {
            "vqvae_epochs": args.vqvae_epochs,
            "prior_epochs": args.prior_epochs,
            "training": training,
            "num_samples": n,
            "classifier_test_accuracy": classifier_accuracy,
            "rows": rows,
            "speedup_over_pixel_cnn": speedups,
        },
    )


if __name__ == "__main__":
    main()
