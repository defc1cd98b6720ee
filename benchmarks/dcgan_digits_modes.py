"""DCGAN on the embedded digits: does it cover all ten classes?

Trains `kgen.models.DCGAN` on the digits train split, draws 1,000 samples
and labels them with a logistic-regression classifier trained on the same
train split (its accuracy on the test split is reported). The bar: every
class gets between 4% and 20% of the samples (no mode collapse).

    python benchmarks/dcgan_digits_modes.py --epochs 100
"""

import time

import numpy as np

import kgen
from benchmarks.common import benchmark_parser
from benchmarks.common import print_table
from benchmarks.common import write_json


def digits_classifier():
    from sklearn.linear_model import LogisticRegression

    (x_train, y_train), (x_test, y_test) = kgen.datasets.load("digits")
    classifier = LogisticRegression(max_iter=5000)
    classifier.fit(x_train.reshape(len(x_train), -1), y_train)
    accuracy = classifier.score(x_test.reshape(len(x_test), -1), y_test)
    return classifier, float(accuracy)


def main():
    import keras

    parser = benchmark_parser(
        epochs=100, latent_dim=32, num_samples=1000, seed=0
    )
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    (x_train, _), _ = kgen.datasets.load("digits", value_range=(-1, 1))
    model = kgen.models.DCGAN((8, 8, 1), latent_dim=args.latent_dim, seed=0)
    model.compile(
        g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    )
    start = time.time()
    history = model.fit(x_train, batch_size=64, epochs=args.epochs, verbose=0)
    train_seconds = time.time() - start

    classifier, accuracy = digits_classifier()
    samples = keras.ops.convert_to_numpy(
        model.sample(args.num_samples, seed=args.seed)
    )
    samples = (samples.reshape(len(samples), -1) + 1.0) / 2.0
    labels = classifier.predict(samples)
    confidence = classifier.predict_proba(samples).max(axis=1)
    fractions = np.bincount(labels, minlength=10) / len(labels)

    rows = [
        {
            "class": c,
            "fraction": float(f),
            "in_4_to_20_percent": 0.04 <= f <= 0.20,
        }
        for c, f in enumerate(fractions)
    ]
    print_table(rows, ["class", "fraction", "in_4_to_20_percent"])
    passed = bool(all(r["in_4_to_20_percent"] for r in rows))
    print(
        f"classifier test accuracy {accuracy:.3f}; mean confidence on "
        f"samples {confidence.mean():.3f}; train {train_seconds:.0f} s; "
        f"final d_loss {history.history['d_loss'][-1]:.3f} g_loss "
        f"{history.history['g_loss'][-1]:.3f}; bar met: {passed}"
    )
    write_json(
        "dcgan_digits_modes",
        {
            "epochs": args.epochs,
            "num_samples": args.num_samples,
            "class_fractions": fractions.tolist(),
            "min_fraction": float(fractions.min()),
            "max_fraction": float(fractions.max()),
            "classifier_test_accuracy": accuracy,
            "mean_classifier_confidence": float(confidence.mean()),
            "train_seconds": train_seconds,
            "bar_4_to_20_percent_met": passed,
        },
        headline={
            "title": "DCGAN on the embedded 8x8 digits: class coverage of "
            f"{args.num_samples:,} samples",
            "values": {
                "smallest class share": "/min_fraction",
                "largest class share": "/max_fraction",
                "classifier test accuracy": "/classifier_test_accuracy",
            },
            "notes": "Bar: every class between 4% and 20% of the samples "
            f"(no mode collapse): {'met' if passed else 'missed'}.",
        },
    )


if __name__ == "__main__":
    main()
