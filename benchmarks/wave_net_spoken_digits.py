"""WaveNet on espeak-ng's spoken digits: held-out NLL per sample, and WAVs.

Synthesises the digits "zero" to "nine" with espeak-ng (2 voices x 3
speeds x 3 pitches = 180 clips of 0.75 s at 8 kHz, deterministic; the
Debian program or the `espeakng-loader` wheel), holds out one pitch (60
clips), mu-law encodes to 256 levels and trains a digit-conditional
`kgen.models.WaveNet` for a wall-clock budget. Reports the held-out NLL
in nats (and bits) per sample before training and after each epoch, and
writes one generated clip per requested digit as a WAV next to the JSON.

    taskset -c 0 python -m benchmarks.wave_net_spoken_digits --minutes 15
"""

import math
import os
import time

import keras

import kgen
from benchmarks.common import RESULTS
from benchmarks.common import add_flags
from benchmarks.common import benchmark_parser
from benchmarks.common import print_table
from benchmarks.common import step_budget
from benchmarks.common import write_json

SAMPLE_RATE = kgen.datasets.SPOKEN_DIGITS_SAMPLE_RATE
HELD_OUT_PITCH = kgen.datasets.SPOKEN_DIGITS_HELD_OUT_PITCH


class HeldOutNLL(keras.callbacks.Callback):
    """Held-out nats per sample after every epoch."""

    def __init__(self, audio, labels):
        super().__init__()
        self.audio, self.labels = audio, labels
        self.rows = []

    def on_epoch_end(self, epoch, logs=None):
        nats = kgen.metrics.nats_per_sample(self.model, self.audio, self.labels)
        self.rows.append(
            {
                "epoch": epoch + 1,
                "seconds": time.time() - self.start,
                "train_nats_per_sample": float(logs["loss"]),
                "test_nats_per_sample": nats,
            }
        )
        print(f"epoch {epoch + 1}: held-out {nats:.4f} nats/sample")

    def on_train_begin(self, logs=None):
        self.start = time.time()


def main():
    parser = benchmark_parser(minutes=15.0, epochs=200, batch_size=8)
    add_flags(
        parser, residual_channels=32, skip_channels=64, stacks=1, digits="3,7"
    )
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    (audio, y_train), (test_audio, y_test) = (
        kgen.datasets.load_spoken_digits_split()
    )
    x_train = kgen.utils.mu_law_encode(audio).astype("int32")
    x_test = kgen.utils.mu_law_encode(test_audio).astype("int32")

    dilations = tuple(2**i for i in range(9)) * args.stacks
    model = kgen.models.WaveNet(
        num_levels=256,
        dilations=dilations,
        residual_channels=args.residual_channels,
        skip_channels=args.skip_channels,
        num_classes=10,
        seed=0,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    initial = kgen.metrics.nats_per_sample(model, x_test, y_test)
    tracker = HeldOutNLL(x_test, y_test)
    start = time.time()
    model.fit(
        x_train,
        y_train,
        batch_size=args.batch_size,
        epochs=args.epochs,
        callbacks=[step_budget(60 * args.minutes), tracker],
        verbose=0,
    )
    train_seconds = time.time() - start

    digits = [int(d) for d in args.digits.split(",")]
    length = audio.shape[1]
    model.sample(len(digits), length=8, labels=digits, seed=0)  # compile
    start = time.time()
    generated = keras.ops.convert_to_numpy(
        model.sample(len(digits), length=length, labels=digits, seed=0)
    )
    sample_seconds = time.time() - start
    waves = kgen.utils.mu_law_decode(generated)
    backend = keras.backend.backend()
    paths = []
    for digit, wave in zip(digits, waves):
        path = os.path.join(
            RESULTS, f"wave_net_spoken_digits_{digit}_{backend}.wav"
        )
        kgen.utils.save_wav(path, wave, SAMPLE_RATE)
        paths.append(os.path.basename(path))

    rows = [
        {
            "epoch": 0,
            "seconds": 0.0,
            "train_nats_per_sample": None,
            "test_nats_per_sample": initial,
        }
    ] + tracker.rows
    for row in rows:
        row["test_bits_per_sample"] = row["test_nats_per_sample"] / math.log(2)
    print_table(
        rows,
        [
            "epoch",
            "seconds",
            "train_nats_per_sample",
            "test_nats_per_sample",
            "test_bits_per_sample",
        ],
    )
    print(
        f"sampled {len(digits)} x {length} steps in {sample_seconds:.1f} s; "
        f"wrote {', '.join(paths)}"
    )
    write_json(
        f"wave_net_spoken_digits_{backend}",
        {
            "clips": {"train": len(x_train), "test": len(x_test)},
            "held_out_pitch": HELD_OUT_PITCH,
            "sample_rate": SAMPLE_RATE,
            "receptive_field": model.receptive_field,
            "parameters": model.count_params(),
            "budget_minutes": args.minutes,
            "train_seconds": train_seconds,
            "epochs": rows,
            "generated": {
                "digits": digits,
                "steps": length,
                "seconds": sample_seconds,
                "files": paths,
            },
        },
        headline={
            "title": "Digit-conditional WaveNet on espeak-ng's spoken "
            "digits: held-out NLL per sample after "
            f"{args.minutes:g} CPU minutes",
            "values": {
                "held-out NLL at init (nats)": "/epochs/0/test_nats_per_sample",
                f"after {rows[-1]['epoch']} epochs": (
                    f"/epochs/{len(rows) - 1}/test_nats_per_sample"
                ),
                "sampling (s)": "/generated/seconds",
            },
            "peer": "the uniform 8-bit distribution (5.545 nats a sample)",
        },
    )


if __name__ == "__main__":
    main()
