"""VQ-VAE on MNIST: reconstruction error, perplexity, codebook usage.

Trains `kgen.models.VQVAE` (EMA codebook of 128 codes on a 7x7 grid) on the
MNIST train split in [0, 1], with and without dead-code restarts, and
reports the test reconstruction MSE, the perplexity and the fraction of
codes used on the test split. keras-io's VQ-VAE example reports a
reconstruction loss of about 0.044 after 30 epochs (its data are centred
and scaled differently; compare trends, not digits).

    KGEN_DATA_DIR=../shared/data python -m benchmarks.vqvae_mnist --epochs 3
"""

import time

import keras
import numpy as np

import kgen
from benchmarks.common import benchmark_parser
from benchmarks.common import print_table
from benchmarks.common import write_json


def main():
    parser = benchmark_parser(epochs=3)
    parser.add_argument("--codes", type=int, default=128)
    args = parser.parse_args()

    (x_train, _), (x_test, _) = kgen.datasets.load("mnist")
    rows = []
    for restart in (0.0, 1.0):
        keras.utils.set_random_seed(0)
        model = kgen.models.VQVAE(
            kgen.networks.vqvae_encoder((28, 28, 1), 16, 32),
            kgen.networks.vqvae_decoder((28, 28, 1), 16, 32),
            kgen.layers.VectorQuantizer(
                args.codes,
                16,
                use_ema=True,
                dead_code_threshold=restart,
                seed=0,
            ),
        )
        model.compile(optimizer=keras.optimizers.Adam(2e-3))
        start = time.time()
        model.fit(x_train, batch_size=128, epochs=args.epochs, verbose=0)
        seconds = time.time() - start
        indices = keras.ops.convert_to_numpy(model.encode(x_test))
        reconstruction = keras.ops.convert_to_numpy(model.decode(indices))
        counts = np.bincount(indices.ravel(), minlength=args.codes)
        usage = counts / counts.sum()
        nonzero = usage[usage > 0]
        rows.append(
            {
                "dead_code_restart": bool(restart),
                "test_mse": float(np.mean((reconstruction - x_test) ** 2)),
                "perplexity": float(np.exp(-(nonzero * np.log(nonzero)).sum())),
                "codes_used": int((counts > 0).sum()),
                "train_seconds": seconds,
            }
        )
    print_table(rows, list(rows[0]))
    write_json(
        f"vqvae_mnist_{keras.backend.backend()}",
        {"epochs": args.epochs, "num_codes": args.codes, "rows": rows},
        headline={
            "title": f"VQ-VAE ({args.codes} EMA codes) on MNIST with and "
            "without dead-code restarts",
            "values": {
                label + (", restarts" if row["dead_code_restart"] else ""): (
                    f"/rows/{i}/{key}"
                )
                for i, row in enumerate(rows)
                for label, key in (
                    ("codes used", "codes_used"),
                    ("perplexity", "perplexity"),
                    ("test MSE", "test_mse"),
                )
            },
            "peer": "the same VQ-VAE without dead-code restarts",
        },
    )


if __name__ == "__main__":
    main()
