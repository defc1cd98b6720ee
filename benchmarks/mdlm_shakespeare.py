"""Masked discrete diffusion (MDLM) on tiny Shakespeare beside the
character GPT, at the GPT preset's budget.

`kgen.models.MaskedDiffusion` on a bidirectional Transformer of the
`gpt_shakespeare` preset's size (4 layers, 4 heads, 128 wide, 64
characters) trains as that preset did (nanoGPT's CPU run): `--steps`
(2,000) batches of 12 random 64-character windows of the first 90% of
the text, with the preset architecture's own optimizer (AdamW warming up
to 1e-3 over 100 steps, cosine to 1e-4). It then reports, on the same
240 random validation windows (nanoGPT's estimate: 20 batches of 12,
seed 2):

- MDLM's negative ELBO in nats per character (`--num-draws` masking
  draws each), an upper bound on its cross-entropy, and `exp` of it, a
  bound on its perplexity;
- the shipped `gpt_shakespeare` preset's exact next-character
  cross-entropy (nats per character) on the windows' last 64
  characters, the quantity nanoGPT reports as its validation loss;

and four samples of each (MDLM: `--sample-steps` reverse steps; GPT: 64
characters from a random first character).

    KGEN_DATA_DIR=../shared/data KERAS_BACKEND=jax python -m \
        benchmarks.mdlm_shakespeare

`--dry-run` trains for 20 steps and evaluates 24 windows (CI).
"""

import os
import time

import keras
import numpy as np

import kgen
from benchmarks.common import add_results_argument
from benchmarks.common import benchmark_parser
from benchmarks.common import compile_like_architecture
from benchmarks.common import negative_elbo_per_token
from benchmarks.common import print_table
from benchmarks.common import write_json

SEQUENCE_LENGTH = 64
BATCH_SIZE = 12
ARCHITECTURE = "gpt_shakespeare_untrained"


def build(vocabulary_size, steps):
    """The MDLM at the GPT architecture's size, with its optimizer
    (its cosine decay ending at `steps`)."""
    entry = kgen.presets.ARCHITECTURES[ARCHITECTURE]
    arguments = entry["arguments"]
    network = kgen.networks.masked_token_transformer(
        (SEQUENCE_LENGTH,),
        vocabulary_size,
        width=arguments["hidden_dim"],
        num_layers=arguments["num_layers"],
        num_heads=arguments["num_heads"],
    )
    model = kgen.models.MaskedDiffusion(network, seed=0)
    return compile_like_architecture(model, ARCHITECTURE, steps)


def main(argv=None):
    parser = benchmark_parser(
        steps=2000, num_draws=16, sample_steps=64, dry_run=False
    )
    add_results_argument(parser, "mdlm_shakespeare", outputs="JSON")
    args = parser.parse_args(argv)
    num_windows = 240
    if args.dry_run:
        args.steps, args.num_draws, args.sample_steps = 20, 2, 4
        num_windows = 24
    keras.utils.set_random_seed(0)
    path = os.path.join(
        os.environ.get("KGEN_DATA_DIR", ""), "tinyshakespeare.txt"
    )
    train_text, validation_text = kgen.datasets.load_text(
        path if os.path.exists(path) else "pydoc_topics"
    )
    tokenizer = kgen.tokenizers.CharacterTokenizer.from_text(
        train_text + validation_text
    )
    windows = kgen.datasets.random_windows(
        tokenizer(train_text), SEQUENCE_LENGTH, args.steps * BATCH_SIZE, seed=0
    )
    validation = kgen.datasets.random_windows(
        tokenizer(validation_text), SEQUENCE_LENGTH + 1, num_windows, seed=2
    )

    # 1. MDLM at the GPT's budget.
    model = build(tokenizer.vocabulary_size, args.steps)
    start = time.time()
    history = model.fit(
        windows, batch_size=BATCH_SIZE, epochs=1, shuffle=False, verbose=2
    )
    train_seconds = time.time() - start
    bound = negative_elbo_per_token(model, validation[:, 1:], args.num_draws)
    mdlm_samples = keras.ops.convert_to_numpy(
        model.sample(4, num_steps=args.sample_steps, seed=1)
    )
    rows = [
        {
            "model": "MaskedDiffusion",
            "parameters": model.count_params(),
            "validation_nats_per_char": float(bound.mean()),
            "kind": "negative ELBO (upper bound)",
            "perplexity": float(np.exp(bound.mean())),
            "train_seconds": train_seconds,
        }
    ]

    # 2. The shipped GPT on the same windows (exact cross-entropy).
    gpt_row, gpt_samples = None, None
    if not args.dry_run:
        gpt = kgen.presets.load_preset("gpt_shakespeare")
        gpt_tokenizer = kgen.presets.load_tokenizer("gpt_shakespeare")
        if gpt_tokenizer.get_config() != tokenizer.get_config():
            raise ValueError("the GPT preset's characters differ from ours")
        gpt.compile(loss="sparse_categorical_crossentropy")
        cross_entropy = gpt.evaluate(
            validation[:, :-1], validation[:, 1:], batch_size=240, verbose=0
        )
        cross_entropy = float(np.ravel(cross_entropy)[0])
        gpt_row = {
            "model": "GPT (gpt_shakespeare preset)",
            "parameters": gpt.count_params(),
            "validation_nats_per_char": cross_entropy,
            "kind": "cross-entropy (exact)",
            "perplexity": float(np.exp(cross_entropy)),
            "train_seconds": None,
        }
        rows.append(gpt_row)
        gpt_samples = keras.ops.convert_to_numpy(gpt.sample(4, seed=1))
    print_table(rows, list(rows[0]))
    texts = {
        "mdlm": [tokenizer.detokenize(ids) for ids in mdlm_samples],
        "gpt": None
        if gpt_samples is None
        else [tokenizer.detokenize(ids) for ids in gpt_samples],
    }
    for name, samples in texts.items():
        for text in samples or ():
            print(f"{name}: {text!r}")
    results = {
        "steps": args.steps,
        "batch_size": BATCH_SIZE,
        "sequence_length": SEQUENCE_LENGTH,
        "validation_windows": num_windows,
        "num_draws": args.num_draws,
        "sample_steps": args.sample_steps,
        "final_train_loss": float(history.history["loss"][-1]),
        "device": kgen.backend.device_name(),
        "backend": keras.backend.backend(),
        "rows": rows,
        "samples": texts,
    }
    write_json(
        args.results,
        results,
        headline={
            "title": ("Dry run: " if args.dry_run else "")
            + "Masked discrete diffusion (MDLM) on tiny Shakespeare at the "
            "gpt_shakespeare preset's budget",
            "values": {
                "MDLM bound (nats/char)": "/rows/0/validation_nats_per_char",
                "MDLM perplexity bound": "/rows/0/perplexity",
                **(
                    {
                        "GPT cross-entropy (nats/char)": (
                            "/rows/1/validation_nats_per_char"
                        ),
                        "GPT perplexity": "/rows/1/perplexity",
                    }
                    if gpt_row
                    else {}
                ),
            },
            "peer": "the gpt_shakespeare preset's exact cross-entropy on "
            "the same windows",
        },
    )
    return results


if __name__ == "__main__":
    main()
