"""Masked discrete diffusion over Bach's chorales: an orderless model of
four voices in the manner of Coconet, its likelihood bound and its
harmonisations.

`kgen.models.MaskedDiffusion` on `kgen.networks.masked_token_transformer`
over two-bar windows of the chorales (`kgen.datasets.load(
"bach_chorales")`: 32 sixteenths x 4 voices, the training windows in
every transposition that keeps the voices in range). A token is a
voice's pitch in one sixteenth note: `pitch - LOWEST + 1` for MIDI
pitches from `LOWEST` (C2) up, 0 a rest. Like Coconet (Huang et al.
2017, an orderless NADE) the network predicts any hidden subset of the
grid from the rest; MDLM's reverse process draws the hidden tokens.

Reports, on the test chorales' windows (no transposition):

- the negative ELBO in nats per frame (4 tokens): an upper bound on
  `-log p(window) / 32`, by `--num-draws` masking draws;
- harmonisation: alto, tenor and bass drawn by `inpaint` given Bach's
  soprano, as the fraction of tokens equal to Bach's and of frames whose
  voices keep soprano >= alto >= tenor >= bass;

and writes a few samples and harmonisations as MIDI files (music21) beside
the results. Coconet's own figures are on the JSB split at a coarser
grid, so the bound is not put beside them as a like-for-like number.

    KERAS_BACKEND=jax python -m benchmarks.chorales_mdlm --train-minutes 20

`--weights W --init V` trains on from `V`'s weights and saves to `W`.

Needs music21 (`pip install 'kgen[music]'`). `--dry-run` trains a tiny
model for 4 steps on a few chorales (CI).
"""

import os
import time

import keras
import numpy as np
from keras import ops

import kgen
from benchmarks.common import RESULTS
from benchmarks.common import add_flags
from benchmarks.common import add_results_argument
from benchmarks.common import benchmark_parser
from benchmarks.common import negative_elbo_per_token
from benchmarks.common import print_table
from benchmarks.common import steps_and_final_loss
from benchmarks.common import train_or_load
from benchmarks.common import write_json

# A1..C6: the chorales' voices span C2..A5; the margin lets the test
# chorales step outside the training ranges.
LOWEST, HIGHEST = 33, 84
NUM_LEVELS = HIGHEST - LOWEST + 2  # a rest and each pitch
LENGTH = 32
BATCH_SIZE = 64


def to_tokens(windows):
    return kgen.datasets.pitch_tokens(windows, LOWEST, HIGHEST)


def to_pitches(tokens):
    return kgen.datasets.token_pitches(tokens, LOWEST)


def main(argv=None):
    parser = benchmark_parser(
        dry_run=False,
        steps=100_000,
        train_minutes=None,
        learning_rate=5e-4,
        num_draws=16,
        sample_steps=64,
        weights=None,
        init=None,
    )
    add_flags(parser, width=128, num_layers=4, num_harmonised=256)
    parser.add_argument(
        "--cosine-decay",
        action="store_true",
        help="decay the learning rate to 0 over --steps (cosine)",
    )
    add_results_argument(parser, "chorales_mdlm", outputs="JSON and MIDI files")
    args = parser.parse_args(argv)

    start = time.time()
    if args.dry_run:
        import music21

        paths = sorted(music21.corpus.getComposer("bach"))[:10]
        scores = [
            kgen.datasets.chorale_frames(music21.corpus.parse(p)) for p in paths
        ]
        scores = [frames for frames in scores if frames is not None]
        train, test = scores[:6], scores[6:8]
        (x_train, _), (x_test, _) = (
            kgen.datasets.chorale_windows(train, augment=True),
            kgen.datasets.chorale_windows(test),
        )
        args.steps, args.width, args.num_layers = 4, 16, 1
        args.num_draws, args.sample_steps, args.num_harmonised = 2, 4, 4
    else:
        (x_train, _), (x_test, _) = kgen.datasets.load("bach_chorales")
    preparation_seconds = time.time() - start
    train_tokens, test_tokens = to_tokens(x_train), to_tokens(x_test)
    print(
        f"{len(train_tokens):,} training windows, {len(test_tokens):,} test "
        f"windows ({preparation_seconds:.0f} s)"
    )

    keras.utils.set_random_seed(0)
    network = kgen.networks.masked_token_transformer(
        (LENGTH, 4),
        NUM_LEVELS,
        width=args.width,
        num_layers=args.num_layers,
        num_heads=4 if args.width >= 64 else 2,
    )
    model = kgen.models.MaskedDiffusion(network, seed=0)
    learning_rate = args.learning_rate
    if args.cosine_decay:
        learning_rate = keras.optimizers.schedules.CosineDecay(
            args.learning_rate, decay_steps=args.steps
        )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    order = np.random.default_rng(0).permutation(len(train_tokens))
    history, train_seconds = train_or_load(
        model, train_tokens[order], args=args, batch_size=BATCH_SIZE
    )
    steps, final_loss = steps_and_final_loss(model, history)

    # 1. The bound on the test windows, nats per frame of four voices.
    bound = negative_elbo_per_token(model, test_tokens, args.num_draws)
    nats_per_frame = 4 * float(bound.mean())

    # 2. Harmonisation: ATB drawn given Bach's soprano.
    chosen = np.random.default_rng(2).permutation(len(test_tokens))
    bach = test_tokens[chosen[: args.num_harmonised]]
    keep = np.zeros((LENGTH, 4), "int32")
    keep[:, 0] = 1
    harmonised = ops.convert_to_numpy(
        model.inpaint(bach, keep, num_steps=args.sample_steps, seed=3)
    )
    lower = (slice(None), slice(None), slice(1, 4))
    samples = ops.convert_to_numpy(
        model.sample(args.num_harmonised, num_steps=args.sample_steps, seed=4)
    )
    table = [
        {
            "what": "Bach (test windows)",
            "ordered_frames": kgen.datasets.ordered_voices_fraction(
                to_pitches(bach)
            ),
        },
        {
            "what": "harmonised from Bach's soprano",
            "ordered_frames": kgen.datasets.ordered_voices_fraction(
                to_pitches(harmonised)
            ),
            "atb_tokens_as_bach": float(
                (harmonised[lower] == bach[lower]).mean()
            ),
            "soprano_kept": bool((harmonised[:, :, 0] == bach[:, :, 0]).all()),
        },
        {
            "what": f"sampled ({args.sample_steps} reverse steps)",
            "ordered_frames": kgen.datasets.ordered_voices_fraction(
                to_pitches(samples)
            ),
        },
    ]
    print(f"negative ELBO: {nats_per_frame:.3f} nats per frame (bound)")
    print_table(table, ["what", "ordered_frames", "atb_tokens_as_bach"])

    # 3. MIDI files to listen to.
    midi_dir = os.path.join(RESULTS, f"{args.results}_midi")  # or a path
    os.makedirs(midi_dir, exist_ok=True)
    files = []
    for index in range(2):
        for kind, tokens in (("sample", samples), ("harmonised", harmonised)):
            path = os.path.join(midi_dir, f"{kind}_{index}.mid")
            kgen.utils.save_midi(
                to_pitches(tokens[index]),
                path,
                kgen.datasets.bach_chorales.VOICES,
            )
            files.append(os.path.relpath(path, RESULTS))

    results = {
        "training": {
            "num_windows": len(train_tokens),
            "steps": steps,
            "train_seconds": train_seconds,
            "batch_size": BATCH_SIZE,
            "learning_rate": args.learning_rate,
            "cosine_decay": args.cosine_decay,
            "init": args.init and os.path.basename(args.init),
            "width": args.width,
            "num_layers": args.num_layers,
            "final_loss_nats_per_token": final_loss,
            "parameters": model.count_params(),
            "backend": keras.backend.backend(),
        },
        "num_test_windows": len(test_tokens),
        "negative_elbo_nats_per_frame": nats_per_frame,
        "num_draws": args.num_draws,
        "table": table,
        "midi": files,
    }
    write_json(
        args.results,
        results,
        headline={
            "title": "Masked diffusion over Bach's chorales (two-bar "
            "windows, four voices): its likelihood bound and "
            "harmonisations of Bach's sopranos",
            "values": {
                "nats per frame (bound)": "/negative_elbo_nats_per_frame",
                "ATB as Bach": "/table/1/atb_tokens_as_bach",
                "ordered frames, harmonised": "/table/1/ordered_frames",
                "ordered frames, sampled": "/table/2/ordered_frames",
            },
            "peer": "Bach's own test windows (voice order)",
        },
    )
    return results


if __name__ == "__main__":
    main()
