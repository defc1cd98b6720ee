"""FID on MNIST with the genuine FID-Inception weights, offline.

Reports FID(MNIST train[:n], MNIST test[:n]) (two samples of one
distribution: small but not zero, a bias of finite n) and FID(MNIST
train[:n], uniform noise), and checks that streaming the test images in
batches of 100 gives the one-shot FID. Reads `$KGEN_DATA_DIR/mnist.npz` and
`$KGEN_DATA_DIR/fid_inception_2015-12-05.pt`.

    KGEN_DATA_DIR=../shared/data python -m benchmarks.fid_mnist -n 1000
"""

import argparse
import time

import numpy as np

import kgen
from benchmarks.common import print_table
from benchmarks.common import write_json


def main():
    import keras

    parser = argparse.ArgumentParser()
    parser.add_argument("-n", "--num-images", type=int, default=1000)
    args = parser.parse_args()
    n = args.num_images

    (x_train, _), (x_test, _) = kgen.datasets.load("mnist")
    real, test = x_train[:n], x_test[:n]
    noise = np.random.default_rng(0).uniform(size=real.shape).astype("float32")

    start = time.time()
    fid = kgen.metrics.FrechetInceptionDistance(batch_size=50)
    fid.set_reference(real)
    fid.update_state(generated_images=test)
    fid_test = fid.result()
    fid.reset_state()
    fid.update_state(generated_images=noise)
    fid_noise = fid.result()
    seconds = time.time() - start

    streaming = kgen.metrics.FrechetInceptionDistance(batch_size=32)
    streaming._reference = fid._reference  # same real features
    for begin in range(0, n, 100):
        streaming.update_state(generated_images=test[begin : begin + 100])
    fid_streaming = streaming.result()

    rows = [
        {"pair": f"MNIST train[:{n}] vs test[:{n}]", "fid": fid_test},
        {"pair": f"MNIST train[:{n}] vs uniform noise", "fid": fid_noise},
        {"pair": "test, streamed in batches of 100", "fid": fid_streaming},
    ]
    print_table(rows, ["pair", "fid"])
    relative = abs(fid_streaming - fid_test) / fid_test
    print(
        f"streaming vs one-shot relative difference {relative:.2e}; "
        f"{3 * n} images in {seconds:.0f} s ({3 * n / seconds:.1f} img/s, "
        f"{keras.backend.backend()})"
    )
    write_json(
        f"fid_mnist_{keras.backend.backend()}",
        {
            "num_images": n,
            "fid_train_vs_test": fid_test,
            "fid_train_vs_uniform_noise": fid_noise,
            "fid_test_streamed": fid_streaming,
            "streaming_relative_difference": relative,
            "seconds": seconds,
        },
        headline={
            "title": "FID on MNIST with the genuine FID-Inception weights: "
            f"the floor at {n:,} images, noise, and streamed against "
            "one-shot",
            "values": {
                f"train {n} vs test {n}": "/fid_train_vs_test",
                f"train {n} vs uniform noise": "/fid_train_vs_uniform_noise",
                "streamed vs one-shot (relative)": (
                    "/streaming_relative_difference"
                ),
            },
        },
    )


if __name__ == "__main__":
    main()
