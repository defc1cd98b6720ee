"""VAE on the embedded digits: held-out negative ELBO before and after.

Trains `kgen.models.VAE` (Bernoulli likelihood, conv encoder/decoder from
`kgen.networks`) for 50 epochs on the digits train split and reports the
test split's negative ELBO (nats per image, averaged over 10 posterior
draws) at initialisation and after training.

    python benchmarks/vae_digits_elbo.py --epochs 50
"""

import time

import numpy as np

import kgen
from benchmarks.common import benchmark_parser
from benchmarks.common import print_table
from benchmarks.common import write_json


def negative_elbo(model, x, num_draws=10):
    import keras

    values = [
        keras.ops.convert_to_numpy(-model.elbo(x, seed=draw)).mean()
        for draw in range(num_draws)
    ]
    return float(np.mean(values))


def main():
    import keras

    parser = benchmark_parser(epochs=50, latent_dim=8, seed=0)
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    (x_train, _), (x_test, _) = kgen.datasets.load("digits")
    shape = x_train.shape[1:]
    model = kgen.models.VAE(
        encoder=kgen.networks.vae_encoder(shape, args.latent_dim),
        decoder=kgen.networks.vae_decoder(shape, args.latent_dim),
        latent_dim=args.latent_dim,
        seed=args.seed,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    before = negative_elbo(model, x_test)
    start = time.time()
    model.fit(x_train, batch_size=64, epochs=args.epochs, verbose=0)
    train_seconds = time.time() - start
    after = negative_elbo(model, x_test)
    train_after = negative_elbo(model, x_train)

    rows = [
        {"split": "test", "when": "initialisation", "negative_elbo": before},
        {
            "split": "test",
            "when": f"{args.epochs} epochs",
            "negative_elbo": after,
        },
        {
            "split": "train",
            "when": f"{args.epochs} epochs",
            "negative_elbo": train_after,
        },
    ]
    print_table(rows, ["split", "when", "negative_elbo"])
    print(f"nats per 8x8 image; train {train_seconds:.0f} s")
    write_json(
        "vae_digits_elbo",
        {
            "epochs": args.epochs,
            "latent_dim": args.latent_dim,
            "test_negative_elbo_init": before,
            "test_negative_elbo_trained": after,
            "train_negative_elbo_trained": train_after,
            "train_seconds": train_seconds,
        },
        headline={
            "title": "VAE on the embedded 8x8 digits: held-out negative ELBO "
            "before and after training",
            "values": {
                "test at init (nats)": "/test_negative_elbo_init",
                f"test after {args.epochs} epochs": (
                    "/test_negative_elbo_trained"
                ),
                f"train after {args.epochs} epochs": (
                    "/train_negative_elbo_trained"
                ),
            },
        },
    )


if __name__ == "__main__":
    main()
