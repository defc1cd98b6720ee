"""Pix2Pix and CycleGAN on image pairs derived from the embedded digits.

Pix2Pix (edges -> digit) against the same U-Net trained with L1 only, on
the held-out test pairs: the L1 error, the accuracy of the digits
classifier recipe on the translations (do they show the right digit?) and
the domain FID on its features (do they look like digits?). CycleGAN
(digit <-> inverted digit, trained unpaired): the held-out cycle
reconstruction error `|G_ba(G_ab(a)) - a|` in [0, 1] pixel units.

    python -m benchmarks.gan_image_translation
"""

import time

import keras
import numpy as np

import kgen
from benchmarks.common import benchmark_parser
from benchmarks.common import print_table
from benchmarks.common import write_json


def adam():
    return keras.optimizers.Adam(2e-4, beta_1=0.5)


def translation_scores(images, labels, classifier, reference):
    """Classifier accuracy and domain FID of [-1, 1] digit images."""
    unit = (np.asarray(images) + 1.0) / 2.0
    predictions = classifier.predict(unit, verbose=0).argmax(axis=1)
    fid = kgen.metrics.FrechetInceptionDistance(
        feature_extractor=kgen.networks.classifier_features(classifier)
    )
    fid.set_reference(reference)
    fid.update_state(generated_images=unit)
    return float((predictions == labels).mean()), fid.result()


def main():
    parser = benchmark_parser(epochs=60)
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    (source, target), (source_test, target_test) = kgen.datasets.load_paired(
        "edges"
    )
    _, (_, labels_test) = kgen.datasets.load("digits")
    (x_train, _), _ = kgen.datasets.load("digits")
    classifier = kgen.presets.load_preset("digits_classifier")
    rows = []

    # === Pix2Pix against the L1-only U-Net ===
    for name, l1_only in (("pix2pix", False), ("l1_only_unet", True)):
        keras.utils.set_random_seed(0)
        generator = kgen.networks.unet_generator((8, 8, 1), filters=32)
        start = time.time()
        if l1_only:
            generator.compile(optimizer=adam(), loss="mean_absolute_error")
            generator.fit(
                source, target, batch_size=64, epochs=args.epochs, verbose=0
            )
        else:
            model = kgen.models.Pix2Pix(
                generator,
                kgen.networks.patchgan_discriminator(
                    (8, 8, 1), (8, 8, 1), filters=32, num_layers=1
                ),
                l1_weight=100.0,
            )
            model.compile(g_optimizer=adam(), d_optimizer=adam())
            model.fit(
                source, target, batch_size=64, epochs=args.epochs, verbose=0
            )
        translations = generator.predict(source_test, verbose=0)
        accuracy, fid = translation_scores(
            translations, labels_test, classifier, x_train
        )
        rows.append(
            {
                "model": name,
                "test_l1": float(np.abs(translations - target_test).mean() / 2),
                "classifier_accuracy": accuracy,
                "domain_fid": fid,
                "train_seconds": time.time() - start,
            }
        )

    # === CycleGAN: digits <-> inverted digits, unpaired ===
    (a, b), (a_test, _) = kgen.datasets.load_paired("inverted")
    a, b = kgen.datasets.unpaired(a, b)
    keras.utils.set_random_seed(0)
    cycle = kgen.models.CycleGAN(
        kgen.networks.unet_generator((8, 8, 1), filters=16, name="g_ab"),
        kgen.networks.unet_generator((8, 8, 1), filters=16, name="g_ba"),
        kgen.networks.patchgan_discriminator((8, 8, 1), filters=16, name="d_a"),
        kgen.networks.patchgan_discriminator((8, 8, 1), filters=16, name="d_b"),
    )
    cycle.compile(adam(), adam(), adam(), adam())
    start = time.time()
    cycle.fit(a, b, batch_size=64, epochs=args.epochs, verbose=0)
    forward = cycle.translate(a_test)
    back = keras.ops.convert_to_numpy(
        cycle.translate(forward, direction="b_to_a")
    )
    cycle_error = float(np.abs(back - a_test).mean() / 2)
    inversion_error = float(
        np.abs(keras.ops.convert_to_numpy(forward) - (-a_test)).mean() / 2
    )
    print_table(rows, list(rows[0]))
    print(
        f"cyclegan: held-out cycle L1 {cycle_error:.4f}, L1 to the true "
        f"inversion {inversion_error:.4f} (pixels in [0, 1]); "
        f"{time.time() - start:.0f} s"
    )
    write_json(
        f"gan_image_translation_{keras.backend.backend()}",
        {
            "epochs": args.epochs,
            "pix2pix_vs_l1_only": rows,
            "cyclegan_cycle_l1": cycle_error,
            "cyclegan_inversion_l1": inversion_error,
        },
        headline={
            "title": "Pix2Pix against an L1-only U-Net (edges to digits), "
            "and CycleGAN (digits to inverted digits), on the embedded "
            "digits",
            "values": {
                "Pix2Pix accuracy": "/pix2pix_vs_l1_only/0/classifier_accuracy",
                "L1-only accuracy": "/pix2pix_vs_l1_only/1/classifier_accuracy",
                "Pix2Pix domain FID": "/pix2pix_vs_l1_only/0/domain_fid",
                "L1-only domain FID": "/pix2pix_vs_l1_only/1/domain_fid",
                "CycleGAN cycle L1": "/cyclegan_cycle_l1",
            },
            "peer": "the same U-Net trained with L1 only",
        },
    )


if __name__ == "__main__":
    main()
