"""VAE anomaly detection on the embedded digits: 9s as the anomaly.

Trains `kgen.models.VAE` on the digits 0-8 of the train split, then ranks
the test split by `anomaly_score` (negative IWAE bound, K = 100) and
reports the AUROC of held-out 9s against held-out 0-8
(`sklearn.metrics.roc_auc_score`), and the same with the one-sample ELBO.

    python -m benchmarks.vae_anomaly_digits
"""

import time

import keras

import kgen
from benchmarks.common import benchmark_parser
from benchmarks.common import print_table
from benchmarks.common import write_json


def main():
    from sklearn.metrics import roc_auc_score

    parser = benchmark_parser(epochs=100)
    parser.add_argument("--anomaly", type=int, default=9)
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = kgen.datasets.load("digits")
    normal = x_train[y_train != args.anomaly]
    model = kgen.models.VAE(
        kgen.networks.vae_encoder((8, 8, 1), 8),
        kgen.networks.vae_decoder((8, 8, 1), 8),
        latent_dim=8,
        seed=0,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    start = time.time()
    model.fit(normal, batch_size=64, epochs=args.epochs, verbose=0)
    seconds = time.time() - start
    is_anomaly = (y_test == args.anomaly).astype(int)
    rows = []
    for name, num_samples in (("elbo", 1), ("iwae_k100", 100)):
        scores = keras.ops.convert_to_numpy(
            model.anomaly_score(
                x_test, num_importance_samples=num_samples, seed=0
            )
        )
        rows.append(
            {
                "score": name,
                "auroc": float(roc_auc_score(is_anomaly, scores)),
                "mean_score_anomalies": float(scores[is_anomaly == 1].mean()),
                "mean_score_normal": float(scores[is_anomaly == 0].mean()),
            }
        )
    print_table(rows, list(rows[0]))
    print(
        f"{int(is_anomaly.sum())} held-out {args.anomaly}s among "
        f"{len(y_test)} test digits; trained {args.epochs} epochs in "
        f"{seconds:.0f} s"
    )
    write_json(
        "vae_anomaly_digits",
        {"epochs": args.epochs, "anomaly_class": args.anomaly, "rows": rows},
        headline={
            "title": "VAE anomaly detection on the embedded digits: held-out "
            f"{args.anomaly}s against the other digits",
            "values": {
                f"AUROC, {row['score']}": f"/rows/{i}/auroc"
                for i, row in enumerate(rows)
            },
        },
    )


if __name__ == "__main__":
    main()
