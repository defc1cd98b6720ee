"""GANs on a ring of 8 Gaussians: how many modes do they recover?

Trains the non-saturating `GAN` and `WGANGP` (MLP networks from
`kgen.networks`) on FFJORD's 8-Gaussians density, then draws 5,000 samples
and counts the modes covered and the fraction of samples within 3 standard
deviations of a mode. The bar: >= 7 of 8 modes and >= 70% high-quality
samples for each model. Run once per backend:

    KERAS_BACKEND=jax python -m benchmarks.gan_8gaussians
"""

import time

import keras

import kgen
from benchmarks.common import benchmark_parser
from benchmarks.common import print_table
from benchmarks.common import row_pointers
from benchmarks.common import write_json

LATENT_DIM = 2


def build(name):
    generator = kgen.networks.mlp_generator(2, LATENT_DIM, hidden_dim=128)
    if name == "non_saturating":
        model = kgen.models.GAN(
            generator,
            kgen.networks.mlp_discriminator(2, hidden_dim=128),
            LATENT_DIM,
            seed=0,
        )
        model.compile(
            g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
            d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
        )
    else:
        model = kgen.models.WGANGP(
            generator,
            kgen.networks.mlp_discriminator(2, hidden_dim=128),
            LATENT_DIM,
            gradient_penalty_weight=0.1,
            n_critic=5,
            seed=0,
        )
        model.compile(
            g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5, beta_2=0.9),
            d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5, beta_2=0.9),
        )
    return model


def main():
    parser = benchmark_parser(epochs=30, num_train=20000, batch_size=256)
    parser.add_argument(
        "--models", nargs="+", default=["non_saturating", "wgan_gp"]
    )
    args = parser.parse_args()

    data = kgen.datasets.load_toy("8gaussians", args.num_train, seed=0)
    centers = kgen.datasets.EIGHT_GAUSSIANS_CENTERS
    std = kgen.datasets.EIGHT_GAUSSIANS_STD
    rows = []
    for name in args.models:
        keras.utils.set_random_seed(0)
        model = build(name)
        start = time.time()
        model.fit(
            data, batch_size=args.batch_size, epochs=args.epochs, verbose=0
        )
        seconds = time.time() - start
        samples = keras.ops.convert_to_numpy(model.sample(5000, seed=1))
        coverage = kgen.metrics.mode_coverage(samples, centers, std)
        rows.append(
            {
                "model": name,
                "modes_covered": coverage["modes_covered"],
                "high_quality_fraction": coverage["high_quality_fraction"],
                "min_mode_fraction": min(coverage["mode_fractions"]),
                "train_seconds": seconds,
                "bar_met": coverage["modes_covered"] >= 7
                and coverage["high_quality_fraction"] >= 0.7,
            }
        )
    print_table(rows, list(rows[0]))
    write_json(
        f"gan_8gaussians_{keras.backend.backend()}",
        {"epochs": args.epochs, "num_train": args.num_train, "rows": rows},
        headline={
            "title": "GANs on a ring of 8 Gaussians, "
            f"{keras.backend.backend()} backend: modes recovered",
            "values": row_pointers(
                rows,
                "model",
                {
                    "modes": "modes_covered",
                    "within 3 std": "high_quality_fraction",
                },
            ),
            "notes": "Bar: >= 7 of 8 modes and >= 70% of samples within 3 "
            "standard deviations of a mode, for each model.",
        },
    )


if __name__ == "__main__":
    main()
