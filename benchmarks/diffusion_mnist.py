"""Diffusion on MNIST: samplers, guidance, inpainting and the likelihood bound.

Trains one class-conditional DDPM (a ~1.1M-parameter U-Net, epsilon
prediction, 1,000-step linear schedule, label dropout 0.1, Adam with EMA
weights) for a CPU budget of `--epochs` epochs over the 60,000 MNIST
training images in [-1, 1], then reports:

1. Sample quality per sampler (DDPM 1000 steps; DDIM 10/20/50/100;
   DPM-Solver++ 10/20): FID and KID (FID-Inception features) of
   `--num-samples` samples (balanced labels, no guidance) against 1,000
   MNIST test images, the requested-label accuracy of an MNIST CNN on the
   samples, and wall time. FID(train, test) at the same sample size is the
   floor.
2. Classifier-free guidance: requested-label accuracy at scales 0, 1, 3.
3. Inpainting of the bottom half of test images: the largest error on the
   known pixels, and the CNN's accuracy on inpainted vs half-blank images.
4. The bits-per-dim bound (Monte Carlo over timesteps) on test images.

    KGEN_DATA_DIR=../shared/data python -m benchmarks.diffusion_mnist
"""

import argparse
import os
import time

import keras
import numpy as np

import kgen
from benchmarks.common import print_table
from benchmarks.common import write_json
from benchmarks.gan_mnist import mnist_classifier

SHAPE = (28, 28, 1)
SAMPLERS = [
    ("ddpm", 1000),
    ("ddim", 10),
    ("ddim", 20),
    ("ddim", 50),
    ("ddim", 100),
    ("dpm_solver", 10),
    ("dpm_solver", 20),
]


def build():
    denoiser = kgen.networks.unet_denoiser(
        SHAPE, widths=(32, 64, 64), attention_levels=(2,), num_classes=10
    )
    model = kgen.models.DiffusionModel(
        denoiser, num_classes=10, condition_dropout=0.1, seed=0
    )
    model.compile(
        optimizer=keras.optimizers.Adam(5e-4, use_ema=True, ema_momentum=0.995)
    )
    return model


def accuracy(classifier, images, labels):
    predicted = classifier.predict((images + 1) / 2, verbose=0).argmax(1)
    return float((predicted == labels).mean())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--num-samples", type=int, default=200)
    parser.add_argument(
        "--model",
        help="a .keras file: load it instead of training, or save the "
        "trained model there when it does not exist yet",
    )
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    (x_unit, y_train), (test_unit, y_test) = kgen.datasets.load("mnist")
    x_train, test = x_unit * 2 - 1, test_unit * 2 - 1
    classifier, classifier_accuracy = mnist_classifier(
        x_unit, y_train, test_unit, y_test
    )

    if args.model and os.path.exists(args.model):
        model = keras.saving.load_model(args.model)
        train_seconds = None
    else:
        model = build()
        start = time.time()
        history = model.fit(
            x_train,
            y_train,
            batch_size=args.batch_size,
            epochs=args.epochs,
            verbose=0,
        )
        train_seconds = time.time() - start
        print(
            f"trained in {train_seconds:.0f} s, final loss "
            f"{history.history['loss'][-1]:.4f}"
        )
        if args.model:
            model.save(args.model)
    train_steps = int(keras.ops.convert_to_numpy(model.optimizer.iterations))

    fid = kgen.metrics.FrechetInceptionDistance(value_range=(-1, 1))
    kid = kgen.metrics.KernelInceptionDistance(
        value_range=(-1, 1), subset_size=100
    )
    fid.set_reference(test[:1000])
    kid.set_reference(test[:1000])
    n = args.num_samples
    fid.update_state(generated_images=x_train[:n])
    kid.update_state(generated_images=x_train[:n])
    floor = {"fid": fid.result(), "kid": kid.result()}

    labels = np.arange(n) % 10
    rows = []
    for sampler, num_steps in SAMPLERS:
        start = time.time()
        samples = keras.ops.convert_to_numpy(
            model.sample(n, num_steps, sampler=sampler, labels=labels, seed=1)
        )
        seconds = time.time() - start
        for metric in (fid, kid):
            metric.reset_state()
            metric.update_state(generated_images=samples)
        rows.append(
            {
                "sampler": f"{sampler}-{num_steps}",
                "fid": fid.result(),
                "kid": kid.result(),
                "label_accuracy": accuracy(classifier, samples, labels),
                "seconds": seconds,
            }
        )
        print(rows[-1], flush=True)
        if sampler == "ddpm":
            kgen.utils.save_image_grid(
                samples[:100],
                "benchmarks/results/diffusion_mnist_ddpm.png",
                value_range=(-1, 1),
            )
    print_table(rows, list(rows[0]))

    guidance = []
    for scale in (0.0, 1.0, 3.0):
        samples = keras.ops.convert_to_numpy(
            model.sample(
                n,
                50,
                sampler="ddim",
                labels=labels,
                guidance_scale=scale,
                seed=2,
            )
        )
        guidance.append(
            {
                "guidance_scale": scale,
                "label_accuracy": accuracy(classifier, samples, labels),
            }
        )
    print_table(guidance, list(guidance[0]))

    known = test[:n]
    mask = np.ones(SHAPE, "float32")
    mask[14:] = 0.0
    inpainted = keras.ops.convert_to_numpy(
        model.inpaint(
            known, mask, 100, sampler="ddpm", labels=y_test[:n], seed=3
        )
    )
    inpainting = {
        "known_pixels_max_error": float(
            np.abs((inpainted - known) * mask).max()
        ),
        "accuracy_inpainted": accuracy(classifier, inpainted, y_test[:n]),
        "accuracy_half_blank": accuracy(
            classifier, known * mask - (1 - mask), y_test[:n]
        ),
        "accuracy_original": accuracy(classifier, known, y_test[:n]),
    }
    print(inpainting)

    start = time.time()
    bound = keras.ops.convert_to_numpy(
        model.bits_per_dim(test[:100], num_timesteps=100, seed=4)
    )
    bits = {
        "bits_per_dim": float(bound.mean()),
        "standard_error": float(bound.std() / np.sqrt(len(bound))),
        "images": 100,
        "timesteps_per_image": 100,
        "seconds": time.time() - start,
    }
    print(bits)

    reference = next(r for r in rows if r["sampler"] == "ddpm-1000")
    ddim50 = next(r for r in rows if r["sampler"] == "ddim-50")
    print(
        f"DDIM-50 FID / DDPM-1000 FID = {ddim50['fid'] / reference['fid']:.3f}"
        f"; FID floor (train vs test, n={n}) {floor['fid']:.2f}"
    )
    write_json(
        f"diffusion_mnist_{keras.backend.backend()}",
        {
            "epochs": args.epochs,
            "train_steps": train_steps,
            "batch_size": args.batch_size,
            "train_seconds": train_seconds,
            "parameters": int(model.count_params()),
            "num_samples": n,
            "classifier_test_accuracy": classifier_accuracy,
            "floor": floor,
            "samplers": rows,
            "guidance": guidance,
            "inpainting": inpainting,
            "bound": bits,
        },
    )


if __name__ == "__main__":
    main()
