"""Masked discrete diffusion (MDLM) on MOSES SMILES beside the
`gpt_moses` preset.

`kgen.models.MaskedDiffusion` on a bidirectional Transformer of
`gpt_moses`' size (4 layers, 4 heads, 128 wide) over the preset's own
atom-level SMILES tokenizer: rows `[BOS] tokens [EOS] [PAD]...` of 56
ids, the diffusion hiding and revealing every position, padding
included, so that a sample's length is drawn too. It trains on the
GPT's data (the same shuffled MOSES subset, seed 0) with the GPT
architecture's optimizer (AdamW warming up to 1e-3, cosine to 1e-4 at
`--steps`), batch 128, for `--steps` steps or `--train-minutes`. It then
reports, beside the shipped GPT:

- MOSES' validity, uniqueness, novelty (against all of MOSES' training
  set) and internal diversity of `--num-samples` samples (MDLM:
  `--sample-steps` reverse steps at temperature 1; the GPT at
  temperature 1 and at its card's 0.7);
- on `--num-test` MOSES test molecules, nats per molecule: MDLM's
  negative ELBO of the whole padded row (`--num-draws` masking draws),
  an upper bound, and the GPT's exact `-log p` of the molecule through
  its `[EOS]`, marginal over its three QED classes
  (`-log sum_y p(x | y) / 3`).

    KGEN_DATA_DIR=../shared/data KERAS_BACKEND=jax python -m \
        benchmarks.mdlm_moses --train-minutes 30

Needs RDKit (`pip install 'kgen[chem]'`) and MOSES' data (`pip install
--no-deps molsets==0.3.1`). `--dry-run` trains a tiny MDLM for 8 steps
on 512 molecules and scores 16 (CI).
"""

import keras
import numpy as np
from keras import ops

import kgen
from benchmarks.common import add_results_argument
from benchmarks.common import benchmark_parser
from benchmarks.common import compile_like_architecture
from benchmarks.common import negative_elbo_per_token
from benchmarks.common import print_table
from benchmarks.common import steps_and_final_loss
from benchmarks.common import train_or_load
from benchmarks.common import write_json
from benchmarks.sequence_vae_moses import held_out_molecules
from benchmarks.sequence_vae_moses import sample_metrics

PRESET = "gpt_moses"
ARCHITECTURE = "gpt_moses_untrained"
BATCH_SIZE = 128


def build(vocabulary_size, sequence_length, args):
    """The MDLM at the GPT architecture's size, with its optimizer (its
    cosine decay ending at `args.steps`)."""
    entry = kgen.presets.ARCHITECTURES[ARCHITECTURE]
    arguments = entry["arguments"]
    if args.dry_run:
        arguments = {"hidden_dim": 16, "num_layers": 1, "num_heads": 2}
    network = kgen.networks.masked_token_transformer(
        (sequence_length,),
        vocabulary_size,
        width=arguments["hidden_dim"],
        num_layers=arguments["num_layers"],
        num_heads=arguments["num_heads"],
    )
    model = kgen.models.MaskedDiffusion(network, seed=0)
    return compile_like_architecture(model, ARCHITECTURE, args.steps)


def gpt_nats_per_molecule(gpt, rows, eos_id, num_classes):
    """The GPT's exact `-log p(x)` of each row's molecule, from the token
    after `[BOS]` through `[EOS]`, marginal over its classes drawn
    uniformly (as `sample(n)` draws them)."""
    through_eos = np.cumsum(rows[:, 1:] == eos_id, axis=1) - (
        rows[:, 1:] == eos_id
    )
    predicted = through_eos == 0
    targets = rows[:, 1:, None]
    per_class = []
    for label in range(num_classes):
        labels = np.full(len(rows), label, "int32")
        logits = gpt.predict_on_batch({"tokens": rows, "labels": labels})
        logits = logits[:, :-1].astype("float64")
        peak = logits.max(axis=-1, keepdims=True)
        log_softmax = logits - peak
        log_softmax -= np.log(np.exp(log_softmax).sum(-1, keepdims=True))
        chosen = np.take_along_axis(log_softmax, targets, axis=-1)[..., 0]
        per_class.append((chosen * predicted).sum(axis=-1))
    log_joint = np.stack(per_class) - np.log(num_classes)
    peak = log_joint.max(axis=0)
    return -(peak + np.log(np.exp(log_joint - peak).sum(axis=0)))


def main(argv=None):
    parser = benchmark_parser(
        dry_run=False,
        num_molecules=320_000,
        steps=4000,
        train_minutes=None,
        num_samples=1000,
        sample_steps=56,
        num_test=1000,
        num_draws=16,
        weights=None,
    )
    add_results_argument(parser, "mdlm_moses", outputs="JSON")
    args = parser.parse_args(argv)
    if args.dry_run:
        args.num_molecules, args.steps = 512, 8
        args.num_samples, args.num_test, args.num_draws = 16, 16, 2
        args.sample_steps = 4

    tokenizer = kgen.presets.load_tokenizer(PRESET)
    train = kgen.datasets.load_molecules("moses", "train")
    order = np.random.default_rng(0).permutation(len(train))
    rows = tokenizer(train[order[: args.num_molecules]])
    test_rows = tokenizer(held_out_molecules(tokenizer, args.num_test))

    # 1. MDLM on the GPT's data and optimizer.
    keras.utils.set_random_seed(0)
    model = build(tokenizer.vocabulary_size, tokenizer.sequence_length, args)
    history, train_seconds = train_or_load(
        model, rows, args=args, batch_size=BATCH_SIZE
    )
    steps, final_loss = steps_and_final_loss(model, history)
    bound = negative_elbo_per_token(model, test_rows, args.num_draws)
    mdlm_smiles = tokenizer.detokenize(
        ops.convert_to_numpy(
            model.sample(args.num_samples, num_steps=args.sample_steps, seed=1)
        )
    )

    # 2. The shipped GPT on the same molecules.
    gpt = kgen.presets.load_preset(PRESET)
    gpt_nats = gpt_nats_per_molecule(
        gpt, test_rows, tokenizer.eos_id, gpt.num_classes
    )
    table = [
        {
            "model": "MaskedDiffusion",
            "decoding": f"{args.sample_steps} reverse steps, temperature 1",
            "nats_per_molecule": float(bound.mean())
            * tokenizer.sequence_length,
            "kind": "negative ELBO of the padded row (upper bound)",
            **sample_metrics(mdlm_smiles, train),
        }
    ]
    examples = {"MaskedDiffusion": mdlm_smiles[:8]}
    for temperature in (1.0, 0.7):
        sampler = kgen.samplers.RandomSampler(temperature=temperature)
        smiles = tokenizer.detokenize(
            ops.convert_to_numpy(
                gpt.sample(args.num_samples, seed=1, sampler=sampler)
            )
        )
        examples[f"GPT, temperature {temperature:g}"] = smiles[:8]
        table.append(
            {
                "model": f"GPT ({PRESET} preset)",
                "decoding": f"token by token, temperature {temperature:g}",
                "nats_per_molecule": float(gpt_nats.mean()),
                "kind": "exact -log p through [EOS], marginal over classes",
                **sample_metrics(smiles, train),
            }
        )
    print_table(table, list(table[0]))
    results = {
        "training": {
            "num_molecules": len(rows),
            "steps": steps,
            "train_seconds": train_seconds,
            "batch_size": BATCH_SIZE,
            "final_loss_nats_per_token": final_loss,
            "parameters": model.count_params(),
            "backend": keras.backend.backend(),
            "device": kgen.backend.device_name(),
        },
        "gpt_training_steps": kgen.presets.preset_metadata(PRESET)["training"][
            "steps"
        ],
        "num_test": len(test_rows),
        "num_draws": args.num_draws,
        "num_samples": args.num_samples,
        "rows": table,
        "examples": examples,
    }
    write_json(
        args.results,
        results,
        headline={
            "title": ("Dry run: " if args.dry_run else "")
            + "Masked discrete diffusion (MDLM) on MOSES SMILES beside the "
            "gpt_moses preset",
            "values": {
                "MDLM validity": "/rows/0/validity",
                "MDLM novelty": "/rows/0/novelty",
                "MDLM bound (nats/molecule)": "/rows/0/nats_per_molecule",
                "GPT validity (T=1)": "/rows/1/validity",
                "GPT nats/molecule": "/rows/1/nats_per_molecule",
            },
            "peer": "the gpt_moses preset (4,000 steps of 128) on the same "
            "test molecules and sample count",
        },
    )
    return results


if __name__ == "__main__":
    main()
