"""DCGAN and WGAN-GP on MNIST: class coverage and FID.

Trains each model for a small CPU budget on the 60,000 MNIST training
images (`$KGEN_DATA_DIR/mnist.npz`), draws 1,000 samples, and reports the
class histogram assigned by a CNN classifier trained here on MNIST (its test
accuracy is reported) and the FID-Inception FID against 1,000 MNIST test
images (with FID(train, test) as the floor of this sample size).

    KGEN_DATA_DIR=../shared/data python -m benchmarks.gan_mnist --epochs 5
"""

import time

import keras
import numpy as np

import kgen
from benchmarks.common import benchmark_parser
from benchmarks.common import mnist_classifier
from benchmarks.common import print_table
from benchmarks.common import row_pointers
from benchmarks.common import write_json

SHAPE = (28, 28, 1)


def build(name, latent_dim):
    """`kgen.presets`' `dcgan_mnist_untrained` or `wgan_gp_mnist_untrained`
    (`name`: `dcgan`, `wgan_gp`), compiled."""
    return kgen.presets.build_architecture(
        f"{name}_mnist_untrained", seed=0, latent_dim=latent_dim
    )


def main():
    parser = benchmark_parser(epochs=5, latent_dim=64)
    parser.add_argument("--models", nargs="+", default=["dcgan", "wgan_gp"])
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    (x_unit, y_train), (test_unit, y_test) = kgen.datasets.load("mnist")
    (x_train, _), _ = kgen.datasets.load("mnist", value_range=(-1, 1))
    classifier, accuracy = mnist_classifier(x_unit, y_train, test_unit, y_test)

    fid = kgen.metrics.FrechetInceptionDistance(value_range=(-1, 1))
    fid.set_reference(test_unit[:1000] * 2 - 1)
    fid.update_state(generated_images=x_train[:1000])
    fid_floor = fid.result()

    rows = []
    for name in args.models:
        keras.utils.set_random_seed(0)
        model = build(name, args.latent_dim)
        start = time.time()
        model.fit(x_train, batch_size=64, epochs=args.epochs, verbose=0)
        seconds = time.time() - start
        samples = keras.ops.convert_to_numpy(model.sample(1000, seed=1))
        labels = classifier.predict((samples + 1) / 2, verbose=0).argmax(1)
        fractions = np.bincount(labels, minlength=10) / len(labels)
        fid.reset_state()
        fid.update_state(generated_images=samples)
        rows.append(
            {
                "model": name,
                "fid": fid.result(),
                "min_class": float(fractions.min()),
                "max_class": float(fractions.max()),
                "classes_hit": int((fractions > 0).sum()),
                "train_seconds": seconds,
                "class_fractions": [round(f, 3) for f in fractions.tolist()],
            }
        )
        kgen.utils.save_image_grid(
            samples[:64],
            f"benchmarks/results/gan_mnist_{name}.png",
            value_range=(-1, 1),
        )
    print_table(rows, list(rows[0]))
    print(
        f"classifier test accuracy {accuracy:.4f}; FID(train 1k, test 1k) "
        f"= {fid_floor:.2f}"
    )
    write_json(
        f"gan_mnist_{keras.backend.backend()}",
        {
            "epochs": args.epochs,
            "classifier_test_accuracy": accuracy,
            "fid_train_vs_test_1000": fid_floor,
            "rows": rows,
        },
        headline={
            "title": f"GANs on MNIST after {args.epochs} CPU epochs: FID and "
            "class coverage",
            "values": {
                **row_pointers(rows, "model", {"FID": "fid"}),
                "floor FID": "/fid_train_vs_test_1000",
            },
        },
    )


if __name__ == "__main__":
    main()
