"""Character GPT on tiny Shakespeare, side by side with nanoGPT.

nanoGPT's README runs its character model on a CPU with 4 layers, 4
heads, 128 dims, a 64-character context, batches of 12, dropout 0,
2,000 iterations (AdamW 1e-3, warm-up 100, cosine to 1e-4, beta2 0.99,
weight decay 0.1, gradient clip 1.0) and reports a validation loss of
1.88 in "about 3 minutes". This script trains `kgen.models.GPT` with the
same configuration and optimizer (the gpt_shakespeare preset's,
`kgen.presets.ARCHITECTURES["gpt_shakespeare_untrained"]`) on the same
split (first 90% of the text for training) for a wall-clock budget,
estimating the train and validation losses every `--eval-interval`
iterations from `--eval-iters` random batches each, as nanoGPT does
(`kgen.callbacks.LossEstimates`); with `--nanogpt PATH` it first runs
nanoGPT's own `train.py` (a checkout prepared with
`data/shakespeare_char/prepare.py`) for the same budget on the same
cores, and prints both curves and the loss reached within the budget.

    KGEN_DATA_DIR=../shared/data taskset -c 1 \\
        python -m benchmarks.gpt_shakespeare --nanogpt /tmp/nanogpt
"""

import os
import re
import subprocess
import sys
import time

import keras

import kgen
from benchmarks.common import add_flags
from benchmarks.common import benchmark_parser
from benchmarks.common import print_table
from benchmarks.common import row_pointers
from benchmarks.common import step_budget
from benchmarks.common import write_json

ARCHITECTURE = "gpt_shakespeare_untrained"  # nanoGPT's CPU configuration
ENTRY = kgen.presets.ARCHITECTURES[ARCHITECTURE]
SEQUENCE_LENGTH = ENTRY["arguments"]["sequence_length"]
BATCH_SIZE = ENTRY["training"]["batch_size"]
MAX_ITERS = ENTRY["training"]["steps"]


def train_kgen(train_tokens, val_tokens, vocabulary_size, args):
    """The gpt_shakespeare preset's architecture and training
    (recipes/gpt_shakespeare.py), stopped after `args.minutes`."""
    window = SEQUENCE_LENGTH + 1
    batches = kgen.datasets.random_windows(
        train_tokens, window, MAX_ITERS * BATCH_SIZE, seed=0
    )
    eval_size = args.eval_iters * BATCH_SIZE
    splits = {
        "train": kgen.datasets.random_windows(
            train_tokens, window, eval_size, seed=1
        ),
        "val": kgen.datasets.random_windows(
            val_tokens, window, eval_size, seed=2
        ),
    }
    estimates = kgen.callbacks.LossEstimates(
        {name: (w[:, :-1], w[:, 1:]) for name, w in splits.items()},
        args.eval_interval,
        verbose=1,
    )
    model = kgen.presets.build_architecture(
        ARCHITECTURE, seed=0, vocabulary_size=vocabulary_size
    )
    model.fit(
        batches[:, :-1],
        batches[:, 1:],
        batch_size=BATCH_SIZE,
        epochs=1,
        shuffle=False,
        callbacks=[step_budget(args.minutes * 60), estimates],
        verbose=0,
    )
    return model, estimates.rows


def run_nanogpt(path, args):
    """nanoGPT's README CPU command, killed at the budget; each of its
    `step N: train loss, val loss` lines timed from its first."""
    command = [
        sys.executable,
        "-u",
        "train.py",
        "config/train_shakespeare_char.py",
        "--device=cpu",
        "--compile=False",
        f"--eval_iters={args.eval_iters}",
        f"--eval_interval={args.eval_interval}",
        "--log_interval=50",
        "--block_size=64",
        "--batch_size=12",
        "--n_layer=4",
        "--n_head=4",
        "--n_embd=128",
        "--max_iters=2000",
        "--lr_decay_iters=2000",
        "--dropout=0.0",
        "--out_dir=/tmp/kgen-nanogpt-out",
    ]
    pattern = re.compile(r"step (\d+): train loss ([\d.]+), val loss ([\d.]+)")
    rows, start = [], None
    process = subprocess.Popen(
        command,
        cwd=path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = None
    for line in process.stdout:
        match = pattern.search(line)
        if match:
            now = time.time()
            if start is None:
                start, deadline = now, now + args.minutes * 60
            rows.append(
                {
                    "step": int(match.group(1)),
                    "seconds": now - start,
                    "train_loss": float(match.group(2)),
                    "val_loss": float(match.group(3)),
                }
            )
            print("nanoGPT", rows[-1], flush=True)
        if deadline is not None and time.time() > deadline:
            process.kill()
            break
    process.wait()
    if not rows:
        raise RuntimeError(f"nanoGPT printed no evaluation: {command}")
    return rows


def within_budget(rows, seconds):
    done = [r for r in rows if r["seconds"] <= seconds]
    return done[-1]


def main():
    parser = benchmark_parser(minutes=3.0)
    parser.add_argument(
        "--data",
        default=os.path.join(
            os.environ.get("KGEN_DATA_DIR", ""), "tinyshakespeare.txt"
        ),
    )
    add_flags(
        parser,
        eval_interval=100,
        eval_iters=20,
        nanogpt=(None, "a prepared nanoGPT checkout"),
    )
    args = parser.parse_args()

    reference = run_nanogpt(args.nanogpt, args) if args.nanogpt else None
    keras.utils.set_random_seed(0)

    train, validation = kgen.datasets.load_text(args.data)
    tokenizer = kgen.tokenizers.CharacterTokenizer.from_text(train + validation)
    model, rows = train_kgen(
        tokenizer(train), tokenizer(validation), tokenizer.vocabulary_size, args
    )
    budget = args.minutes * 60
    tokens_per_iter = BATCH_SIZE * SEQUENCE_LENGTH
    summary = []
    for name, curve in (("kgen", rows), ("nanoGPT", reference)):
        if curve is None:
            continue
        last = within_budget(curve, budget)
        summary.append(
            {
                "runtime": name
                if name == "nanoGPT"
                else f"kgen/{keras.backend.backend()}",
                "iters_in_budget": last["step"],
                "seconds": last["seconds"],
                "val_loss": last["val_loss"],
                "train_loss": last["train_loss"],
                "tokens_per_s": last["step"]
                * tokens_per_iter
                / max(last["seconds"], 1e-9),
            }
        )
    print_table(summary, list(summary[0]))
    prompt = tokenizer("ROMEO:")[None]
    text = tokenizer.detokenize(
        model.generate(prompt, 58, sampler="top_k", seed=0)
    )[0]
    print(text)
    write_json(
        f"gpt_shakespeare_{keras.backend.backend()}",
        {
            "architecture": ARCHITECTURE,
            "budget_seconds": budget,
            "eval_interval": args.eval_interval,
            "eval_iters": args.eval_iters,
            "cpus_visible": len(os.sched_getaffinity(0)),
            "summary": summary,
            "kgen_curve": rows,
            "nanogpt_curve": reference,
            "sample": text,
        },
        headline={
            "title": "Character GPT on tiny Shakespeare in nanoGPT's CPU "
            "configuration"
            + (", beside nanoGPT in the same budget" if reference else ""),
            "values": row_pointers(
                summary,
                "runtime",
                {"val loss": "val_loss", "tokens/s": "tokens_per_s"},
                table="summary",
                by_metric=True,
            ),
            "peer": "nanoGPT's own train.py, same configuration and cores",
        },
    )


if __name__ == "__main__":
    main()
