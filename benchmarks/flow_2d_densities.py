"""Normalizing flows on 2-D densities: test NLL against the exact entropy.

For two moons (scikit-learn, noise 0.1), 8 Gaussians and the checkerboard,
trains kgen's `RealNVP`, `MAF` and `NeuralSplineFlow` (rational-quadratic
spline couplings) and, side by side, a TFP RealNVP of the same size
(`tfp.bijectors.RealNVP` couplings whose shift/log-scale networks are the
same Keras 3 MLPs, trained by a plain `tf.GradientTape` loop with
the same optimizer, batches and epochs). Reports the test NLL in nats with
the density's exact entropy, the lowest NLL any model can reach. The
two-moons entropy is computed here by quadrature: the density is a uniform
mix over the two arcs convolved with N(0, noise^2 I).

    python -m benchmarks.flow_2d_densities --epochs 60
"""

import math
import time

import keras
import numpy as np

import kgen
from benchmarks.common import add_flags
from benchmarks.common import benchmark_parser
from benchmarks.common import print_table
from benchmarks.common import row_pointers
from benchmarks.common import write_json

NOISE = 0.1
# The rows of the headline, by the short names it gives them.
HEADLINE_MODELS = {
    "kgen RealNVP": "RealNVP",
    "TFP RealNVP": "TFP RealNVP",
    "kgen NeuralSplineFlow": "NSF",
}


def two_moons_entropy(points, noise=NOISE, num_angles=2000):
    """`-E log p(x)` on `points`, with `p` the exact two-moons density."""
    angles = (np.arange(num_angles) + 0.5) / num_angles * np.pi
    upper = np.stack([np.cos(angles), np.sin(angles)], 1)
    lower = np.stack([1 - np.cos(angles), 0.5 - np.sin(angles)], 1)
    arcs = np.concatenate([upper, lower])
    log_densities = []
    for chunk in np.array_split(points, 20):
        squared = ((chunk[:, None, :] - arcs[None]) ** 2).sum(-1)
        log_kernel = -squared / (2 * noise**2) - math.log(
            2 * math.pi * noise**2
        )
        peak = log_kernel.max(1, keepdims=True)
        log_densities.append(
            peak[:, 0] + np.log(np.exp(log_kernel - peak).mean(1))
        )
    return float(-np.concatenate(log_densities).mean())


EXACT = {
    "8gaussians": 2.832,  # 8 equal modes, well separated, std given
    "checkerboard": math.log(32.0),
}


def tfp_real_nvp(num_couplings, hidden_dim, num_layers):
    import tensorflow as tf
    import tensorflow_probability as tfp

    tfb, tfd = tfp.bijectors, tfp.distributions
    networks, couplings = [], []
    for index in range(num_couplings):
        network = keras.Sequential(
            [
                keras.layers.Dense(hidden_dim, activation="relu")
                for _ in range(num_layers)
            ]
            + [keras.layers.Dense(2, kernel_initializer="zeros")]
        )
        network.build((None, 1))
        networks.append(network)

        def shift_and_log_scale(kept, units, network=network):
            shift, raw = tf.split(network(kept), 2, axis=-1)
            return shift, tf.tanh(raw)

        couplings.append(
            tfb.RealNVP(
                num_masked=1, shift_and_log_scale_fn=shift_and_log_scale
            )
        )
        couplings.append(tfb.Permute([1, 0]))
    flow = tfd.TransformedDistribution(
        tfd.MultivariateNormalDiag(loc=[0.0, 0.0]), tfb.Chain(couplings[::-1])
    )
    variables = [v.value for n in networks for v in n.trainable_variables]
    return flow, networks, variables


def train_tfp(train, test, args):
    import tensorflow as tf

    flow, networks, _ = tfp_real_nvp(
        args.num_couplings, args.hidden_dim, args.num_layers
    )
    optimizer = keras.optimizers.Adam(args.learning_rate)
    variables = [v for n in networks for v in n.trainable_variables]
    optimizer.build(variables)

    @tf.function
    def step(batch):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(flow.log_prob(batch))
        grads = tape.gradient(loss, [v.value for v in variables])
        optimizer.apply(grads, variables)
        return loss

    rng = np.random.default_rng(0)
    for _ in range(args.epochs):
        order = rng.permutation(len(train))
        for start in range(0, len(train), args.batch_size):
            step(tf.constant(train[order[start : start + args.batch_size]]))
    nll = -float(tf.reduce_mean(flow.log_prob(test)))
    parameters = sum(int(np.prod(v.shape)) for v in variables)
    return nll, parameters


def main():
    parser = benchmark_parser(
        epochs=60, num_train=20000, batch_size=256, learning_rate=1e-3
    )
    add_flags(
        parser,
        num_couplings=8,
        hidden_dim=64,
        num_layers=2,
        spline_couplings=(
            4,
            "NeuralSplineFlow couplings (4 of 8 bins: about RealNVP's "
            "parameter count at 8 couplings)",
        ),
        spline_bins=8,
        spline_bound=(
            5.0,
            "the splines' range [-B, B]; the toy data reach about 4.5",
        ),
    )
    parser.add_argument("--no-tfp", action="store_true")
    args = parser.parse_args()

    rows = []
    for dataset in ("two_moons", "8gaussians", "checkerboard"):
        train = kgen.datasets.load_toy(dataset, args.num_train, seed=0)
        test = kgen.datasets.load_toy(dataset, 10000, seed=1)
        exact = (
            two_moons_entropy(test)
            if dataset == "two_moons"
            else EXACT[dataset]
        )
        models = {
            "kgen RealNVP": lambda: kgen.models.RealNVP(
                (2,),
                num_couplings=args.num_couplings,
                hidden_dim=args.hidden_dim,
                num_layers=args.num_layers,
                seed=0,
            ),
            "kgen MAF": lambda: kgen.models.MAF(
                (2,),
                num_flows=args.num_couplings // 2,
                hidden_dims=(args.hidden_dim,) * args.num_layers,
                seed=0,
            ),
            "kgen NeuralSplineFlow": lambda: kgen.models.NeuralSplineFlow(
                (2,),
                num_couplings=args.spline_couplings,
                num_spline_bins=args.spline_bins,
                bound=args.spline_bound,
                hidden_dim=args.hidden_dim,
                num_layers=args.num_layers,
                seed=0,
            ),
        }
        for name, build in models.items():
            keras.utils.set_random_seed(0)
            model = build()
            model.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
            start = time.time()
            model.fit(
                train, batch_size=args.batch_size, epochs=args.epochs, verbose=0
            )
            seconds = time.time() - start
            nll = -float(
                np.mean(keras.ops.convert_to_numpy(model.log_prob(test)))
            )
            rows.append(
                {
                    "dataset": dataset,
                    "model": name,
                    "parameters": int(model.count_params()),
                    "test_nll": nll,
                    "exact_entropy": exact,
                    "gap": nll - exact,
                    "train_seconds": seconds,
                }
            )
            print(rows[-1], flush=True)
        if not args.no_tfp and keras.backend.backend() == "tensorflow":
            keras.utils.set_random_seed(0)
            start = time.time()
            nll, parameters = train_tfp(train, test, args)
            rows.append(
                {
                    "dataset": dataset,
                    "model": "TFP RealNVP",
                    "parameters": parameters,
                    "test_nll": nll,
                    "exact_entropy": exact,
                    "gap": nll - exact,
                    "train_seconds": time.time() - start,
                }
            )
            print(rows[-1], flush=True)
    print_table(rows, list(rows[0]))
    write_json(
        f"flow_2d_densities_{keras.backend.backend()}",
        {
            "epochs": args.epochs,
            "num_train": args.num_train,
            "arguments": vars(args),
            "rows": rows,
        },
        headline={
            "title": "Normalizing flows on 2-D densities: test NLL of kgen's "
            "RealNVP and NeuralSplineFlow beside TFP's RealNVP, against the "
            "exact entropy",
            "values": row_pointers(
                rows,
                lambda row: f"{row['dataset']} {HEADLINE_MODELS[row['model']]}",
                "test_nll",
                keep=lambda row: row["model"] in HEADLINE_MODELS,
            ),
            "peer": "TFP RealNVP of equal size (the same MLPs, optimizer, "
            "batches and epochs)",
        },
    )


if __name__ == "__main__":
    main()
