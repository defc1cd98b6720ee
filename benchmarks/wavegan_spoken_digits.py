"""WaveGAN on spoken digits in 32 voices, scored by Inception Score.

A digit-conditional `kgen.models.WaveGAN` (WGAN-GP, phase shuffle,
transposed-convolution generator) on `kgen.datasets.
load_spoken_digits_many_voices`: 2,520 espeak-ng clips of "zero" to
"nine" in 28 voices, 8 kHz, 6,144 samples (0.768 s; the paper's 16,384
at 16 kHz is 2.7x the work per clip for what a CPU can train). The
`spoken_digits_classifier` preset scores the samples as the paper scores
SC09: Inception Score over 500 clips (10 at most), and the share of
clips heard as the digit asked for; real held-out clips (an accent no
model saw) give the ceiling. WAV files of a few samples go beside the
results.

    # train for a budget (resumes from --checkpoint-dir), then score
    KERAS_BACKEND=torch python -m benchmarks.wavegan_spoken_digits \\
        --minutes 60 --checkpoint-dir CKPT --weights W.weights.h5
    # score saved weights again
    python -m benchmarks.wavegan_spoken_digits --weights W.weights.h5

The table, in `results/wavegan_spoken_digits.json`, puts the samples
beside the held-out accent's real clips; the paper's SC09 numbers (IS
4.67 for WaveGAN, 9.18 for real clips) are on recorded speech, far
noisier and more varied than espeak-ng's. `--init V` trains on from
`V`'s weights (a checkpoint's `model.weights.h5` too) with fresh Adams.
`--dry-run` trains a toy model for a step on 40 clips in 2 voices, cut
to 1,024 samples, and scores it (CI).
"""

import os
import time

import keras
import numpy as np

import kgen
from benchmarks import common

AUDIO_LENGTH = kgen.datasets.spoken_digits.MANY_VOICES_AUDIO_LENGTH
SAMPLE_RATE = kgen.datasets.spoken_digits.MANY_VOICES_SAMPLE_RATE
NUM_SCORED = 500
# Donahue et al. 2019, table 1 (SC09, 16 kHz): WaveGAN with phase
# shuffle n = 2, and the real test clips.
PAPER = {"wavegan_inception_score": 4.67, "real_inception_score": 9.18}


def score(classifier, clips, digits):
    """Inception Score (10 splits, of the clips in a random order) of
    `clips` and the share the classifier hears as `digits`."""
    metric = kgen.metrics.InceptionScore(classifier, value_range=(-1, 1))
    order = np.random.default_rng(0).permutation(len(clips))
    metric.update_state(clips[order])
    heard = np.argmax(classifier.predict(clips, verbose=0), axis=-1)
    return {
        "inception_score": metric.result(),
        "inception_score_std": float(metric.split_scores().std()),
        "digit_accuracy": float((heard == digits).mean()),
    }


def evaluate(args, model, x_test, y_test):
    """The table: samples beside the held-out clips, both scored by the
    classifier preset (a toy classifier under --dry-run)."""
    if args.dry_run:
        keras.utils.set_random_seed(1)  # the same toy classifier each run
        classifier = kgen.networks.audio_classifier(x_test.shape[1], 10)
    else:
        classifier = kgen.presets.load_preset(args.classifier)
    num_scored = 20 if args.dry_run else NUM_SCORED
    digits = np.arange(num_scored) % 10
    start = time.time()
    samples = keras.ops.convert_to_numpy(
        model.sample(num_scored, seed=1, labels=digits)
    )
    sample_seconds = time.time() - start
    table = [
        {"clips": f"held-out accent ({len(x_test)} real)"}
        | score(classifier, x_test, y_test),
        {"clips": f"WaveGAN ({num_scored}, digits 0-9 in turn)"}
        | score(classifier, samples, digits),
    ]
    common.print_table(table, ["clips", "inception_score", "digit_accuracy"])
    # One WAV per row: digits 0-9 spoken by the model, then by real
    # held-out voices, a quarter second apart.
    files = []
    silence = np.zeros(SAMPLE_RATE // 4, "float32")
    real = [x_test[np.flatnonzero(y_test == d)[0], :, 0] for d in range(10)]
    for kind, clips in (("samples", samples[:10, :, 0]), ("real", real)):
        path = os.path.join(common.RESULTS, f"{args.results}_{kind}.wav")
        audio = np.concatenate([p for c in clips for p in (c, silence)])
        kgen.utils.save_wav(path, audio, SAMPLE_RATE)
        files.append(os.path.relpath(path, common.RESULTS))
    return {
        "table": table,
        "sample_seconds": sample_seconds,
        "classifier": args.classifier,
        "wav": files,
        "paper_sc09": PAPER,
    }


def load_data(args):
    """Training and held-out clips, `(n, 6144, 1)`, from `--data-cache`
    when it exists (synthesis takes minutes)."""
    if args.dry_run:
        audio, digits = kgen.datasets.load_spoken_digits(
            sample_rate=SAMPLE_RATE,
            clip_seconds=AUDIO_LENGTH / SAMPLE_RATE,
            voices=("en", "en+f2"),
            speeds=(160,),
            pitches=(25, 75),
        )
        # A toy length: five stages need at least 1,024 samples.
        train = test = (audio[:, :1024, None], digits)
        return train, test
    if args.data_cache and os.path.exists(args.data_cache):
        data = np.load(args.data_cache)
        return (
            (data["x_train"], data["y_train"]),
            (data["x_test"], data["y_test"]),
        )
    x_train, y_train = kgen.datasets.load_spoken_digits_many_voices("train")
    x_test, y_test = kgen.datasets.load_spoken_digits_many_voices("test")
    x_train, x_test = x_train[..., None], x_test[..., None]
    if args.data_cache:
        np.savez(
            args.data_cache,
            x_train=x_train,
            y_train=y_train,
            x_test=x_test,
            y_test=y_test,
        )
    return (x_train, y_train), (x_test, y_test)


def build(args, audio_length):
    model = kgen.models.WaveGAN(
        audio_length=audio_length,
        model_size=args.model_size,
        num_classes=10,
        n_critic=args.n_critic,
        seed=0,
    )

    def adam(**kwargs):
        # The paper's Adam (beta_1 0.5, beta_2 0.9).
        return keras.optimizers.Adam(
            args.learning_rate, beta_1=0.5, beta_2=0.9, **kwargs
        )

    # The paper keeps no average of the generator, and none is kept by
    # default: an EMA at 0.999, which fit writes into the generator when
    # it ends, scored IS 1.00 after 1,027 steps where the raw generator
    # scored 3.56 (0.999**1027 = 0.36 of it was still the near-silent
    # generator of the first steps). `--ema-momentum M` keeps one.
    ema = {"use_ema": True, "ema_momentum": args.ema_momentum}
    model.compile(
        g_optimizer=adam(**(ema if args.ema_momentum else {})),
        d_optimizer=adam(),
    )
    return model


def train(args, model, x_train, y_train):
    if args.init:
        model.load_weights(args.init)
    callbacks = [
        keras.callbacks.TerminateOnNaN(),
        kgen.callbacks.TrainingBudget(minutes=args.minutes, steps=args.steps),
    ]
    if args.checkpoint_dir:
        callbacks.append(
            kgen.callbacks.BackupAndRestore(
                args.checkpoint_dir,
                save_freq=args.checkpoint_every,
                delete_checkpoint=False,
            )
        )
    start = time.time()
    history = model.fit(
        x_train,
        y_train,
        batch_size=min(args.batch_size, len(x_train)),
        epochs=10**6,
        callbacks=callbacks,
        verbose=2,
        shuffle=True,
    )
    seconds = time.time() - start
    if args.weights:
        model.save_weights(args.weights)
    return {
        "backend": keras.backend.backend(),
        "steps": int(keras.ops.convert_to_numpy(model.g_optimizer.iterations)),
        "train_seconds": seconds,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "n_critic": args.n_critic,
        "model_size": args.model_size,
        "ema_momentum": args.ema_momentum,
        "init": args.init and os.path.basename(args.init),
        "final": {
            name: float(values[-1]) for name, values in history.history.items()
        },
        "parameters": {
            "generator": model.generator.count_params(),
            "discriminator": model.discriminator.count_params(),
        },
    }


def main(argv=None):
    parser = common.benchmark_parser(
        dry_run=False,
        minutes=None,
        steps=None,
        batch_size=64,
        learning_rate=1e-4,
        ema_momentum=0.0,  # none, as in the paper
        checkpoint_dir=None,
        checkpoint_every=200,
        weights=None,
        init=None,
    )
    common.add_flags(
        parser,
        model_size=16,
        n_critic=5,
        data_cache=(None, "an .npz of the clips"),
    )
    common.add_results_argument(
        parser, "wavegan_spoken_digits", outputs="JSON and WAV files"
    )
    parser.add_argument(
        "--classifier",
        default="spoken_digits_classifier",
        help="classifier preset (name or folder) of the Inception Score",
    )
    args = parser.parse_args(argv)
    if args.dry_run:
        args.model_size, args.steps, args.batch_size = 2, 1, 8

    (x_train, y_train), (x_test, y_test) = load_data(args)
    print(f"{len(x_train):,} training clips, {len(x_test):,} held out")
    keras.utils.set_random_seed(0)
    model = build(args, x_train.shape[1])
    if args.weights and os.path.exists(args.weights):
        model.load_weights(args.weights)
        training = None
    else:
        training = train(args, model, x_train, y_train)
        print(training)
    results = {"training": training} | evaluate(args, model, x_test, y_test)
    if args.dry_run:
        return results
    common.write_json(
        args.results,
        results,
        headline={
            "title": "WaveGAN on spoken digits (32 espeak-ng voices, 8 kHz, "
            "0.77 s): Inception Score of 500 digit-conditional samples by "
            "the spoken_digits_classifier preset",
            "values": {
                "IS, samples": "/table/1/inception_score",
                "digit accuracy, samples": "/table/1/digit_accuracy",
                "IS, real held-out clips": "/table/0/inception_score",
            },
            "peer": "the held-out accent's real clips; the paper's SC09 "
            "numbers (WaveGAN 4.67, real 9.18) on recorded speech",
        },
    )
    return results


if __name__ == "__main__":
    main()
