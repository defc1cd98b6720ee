"""RBM on binarised MNIST: kgen vs scikit-learn's BernoulliRBM, same budget.

Both train a 784 x H Bernoulli RBM with persistent contrastive divergence
(scikit-learn's only rule: one Gibbs sweep per step, as many chains as the
batch), plain SGD at the same learning rate, batch size and epochs on the
same images (MNIST thresholded at 0.5); scikit-learn runs twice, with
`fit` (batches in the same order every epoch) and with `partial_fit` on
shuffled batches (what Keras' `fit` does). All are then scored by kgen's
annealed-importance-sampling estimate of log Z (scikit-learn has none;
its weights are loaded into a kgen `RBM`): the test log-likelihood in
nats, the exact pseudo-log-likelihood, and the mean-field reconstruction
error, with the wall time of training.

    KGEN_DATA_DIR=../shared/data taskset -c 0 python -m benchmarks.rbm_mnist
"""

import time

import keras
import numpy as np
from keras import ops

import kgen
from benchmarks.common import add_flags
from benchmarks.common import benchmark_parser
from benchmarks.common import print_table
from benchmarks.common import row_pointers
from benchmarks.common import write_json


def binarised_mnist(num_train, num_test):
    """MNIST thresholded at 0.5 and flattened, as the `rbm_mnist` preset
    trains on it (`kgen.presets.prepare_data`)."""
    (x_train, _), (x_test, _) = kgen.datasets.load("mnist")
    prepare = kgen.presets.prepare_data
    return (
        prepare("rbm_mnist_untrained", x_train[:num_train]),
        prepare("rbm_mnist_untrained", x_test[:num_test]),
    )


def train_kgen(x_train, args, seed):
    keras.utils.set_random_seed(seed)
    rbm = kgen.presets.build_architecture(
        "rbm_mnist_untrained",
        seed=seed,
        learning_rate=args.learning_rate,
        num_hidden=args.num_hidden,
        num_persistent_chains=args.batch_size,
    )
    start = time.time()
    rbm.fit(x_train, batch_size=args.batch_size, epochs=args.epochs, verbose=0)
    return rbm, time.time() - start


def train_sklearn(x_train, args, seed, shuffle=False):
    """`fit` takes the batches in order every epoch; with `shuffle`,
    `partial_fit` on each batch of a fresh permutation (as Keras does)."""
    from sklearn.neural_network import BernoulliRBM

    model = BernoulliRBM(
        n_components=args.num_hidden,
        learning_rate=args.learning_rate,
        batch_size=args.batch_size,
        n_iter=args.epochs,
        random_state=seed,
    )
    start = time.time()
    if shuffle:
        rng = np.random.default_rng(seed)
        for _ in range(args.epochs):
            order = rng.permutation(len(x_train))
            for first in range(0, len(order), args.batch_size):
                model.partial_fit(
                    x_train[order[first : first + args.batch_size]]
                )
    else:
        model.fit(x_train)
    seconds = time.time() - start
    return kgen.models.RBM.from_sklearn(model), seconds


def score(rbm, x_train, x_test, args):
    """AIS log Z (the same seed for every model), then the test scores."""
    log_z, error = rbm.log_partition_ais(
        num_chains=args.ais_chains,
        num_betas=args.ais_betas,
        data=x_train,
        seed=0,
    )
    log_likelihood = float(
        ops.convert_to_numpy(rbm.log_prob(x_test, log_partition=log_z)).mean()
    )
    pseudo = np.concatenate(
        [
            ops.convert_to_numpy(rbm.pseudo_log_likelihood(chunk))
            for chunk in np.array_split(x_test, 20)
        ]
    )
    reconstruction = ops.convert_to_numpy(rbm.reconstruct(x_test))
    return {
        "log_z": log_z,
        "log_z_standard_error": error,
        "test_log_likelihood": log_likelihood,
        "test_pseudo_log_likelihood": float(pseudo.mean()),
        "test_reconstruction_error": float(
            ((x_test - reconstruction) ** 2).mean()
        ),
    }


def main():
    parser = benchmark_parser(
        num_train=20000,
        num_test=1000,
        epochs=10,
        batch_size=20,
        learning_rate=0.05,
        seeds="0,1,2",
    )
    add_flags(parser, num_hidden=100, ais_chains=100, ais_betas=10000)
    args = parser.parse_args()
    x_train, x_test = binarised_mnist(args.num_train, args.num_test)
    rows = []
    # Training seeds move the result by tens of nats (the persistent
    # chains' luck), so each model is trained with every seed.
    for seed in [int(s) for s in args.seeds.split(",")]:
        for name, train in (
            ("kgen RBM", train_kgen),
            ("sklearn fit", train_sklearn),
            (
                "sklearn partial_fit, shuffled",
                lambda x, a, s: train_sklearn(x, a, s, shuffle=True),
            ),
        ):
            rbm, seconds = train(x_train, args, seed)
            row = {"model": name, "seed": seed, "train_seconds": seconds}
            row.update(score(rbm, x_train, x_test, args))
            rows.append(row)
            print(row, flush=True)
    summary = []
    for name in dict.fromkeys(row["model"] for row in rows):
        values = [r["test_log_likelihood"] for r in rows if r["model"] == name]
        summary.append(
            {
                "model": name,
                "mean_test_log_likelihood": float(np.mean(values)),
                "std_over_seeds": float(np.std(values)),
                "min": float(np.min(values)),
                "max": float(np.max(values)),
            }
        )
    print_table(
        summary,
        ["model", "mean_test_log_likelihood", "std_over_seeds", "min", "max"],
    )
    print_table(
        rows,
        [
            "model",
            "seed",
            "test_log_likelihood",
            "log_z",
            "log_z_standard_error",
            "test_pseudo_log_likelihood",
            "test_reconstruction_error",
            "train_seconds",
        ],
    )
    write_json(
        f"rbm_mnist_{keras.backend.backend()}",
        {"arguments": vars(args), "summary": summary, "rows": rows},
        headline={
            "title": f"784x{args.num_hidden} RBM on binarised MNIST: kgen "
            "against scikit-learn's BernoulliRBM at the same budget, scored "
            "by kgen's AIS",
            "values": row_pointers(
                summary,
                "model",
                {"(nats)": "mean_test_log_likelihood"},
                table="summary",
            ),
            "peer": "scikit-learn's BernoulliRBM (its fit, and partial_fit "
            "on shuffled batches)",
            "notes": "Test log-likelihood, the mean over training seeds.",
        },
    )


if __name__ == "__main__":
    main()
