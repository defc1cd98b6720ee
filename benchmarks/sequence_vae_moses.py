"""A SMILES VAE on MOSES with a property head, and latent-space
optimisation of drug-likeness (QED).

`kgen.models.SequenceVAE` (Gomez-Bombarelli et al. 2018; MOSES' VAE
role) over atom-level SMILES tokens (`kgen.tokenizers.SmilesTokenizer`
built on all of MOSES' training set): `--num-molecules` molecules of a
shuffled subset (seed 0), rows padded to the tokenizer's context, a
Transformer encoder and a GPT decoder of `gpt_moses`' width (128), the
KL weight warmed up from 0 to MOSES' 0.05 over `--beta-warmup-steps`,
and a head predicting each molecule's standardised QED from its code,
trained jointly. Adam `--learning-rate`, batch `--batch-size`, for
`--steps` steps or `--train-minutes`.

It then reports:

- on `--num-samples` decodings of `z ~ N(0, I)` (token by token, and
  greedy): MOSES' validity, unique@1k-style uniqueness, novelty against
  all of MOSES' training set and internal diversity;
- reconstruction: the fraction of `--num-test` MOSES test molecules
  whose posterior mean decodes (greedily) back to the same canonical
  SMILES;
- latent optimisation: the codes of `--num-test` test molecules climbed
  by `optimize_latents` (`--climb-steps` steps) and decoded; the mean
  QED (RDKit) and validity of the molecules decoded from the codes
  before and after.

    KGEN_DATA_DIR=../shared/data KERAS_BACKEND=jax python -m \
        benchmarks.sequence_vae_moses --train-minutes 30

Needs RDKit (`pip install 'kgen[chem]'`) and MOSES' data (`pip install
--no-deps molsets==0.3.1`). `--weights W --init V` trains on from `V`
and saves to `W`, so a long run goes in chunks. `--dry-run` trains a
tiny model for 8 steps on 512 molecules and scores 16 (CI).
"""

import multiprocessing
import os
import time

import keras
import numpy as np

import kgen
from benchmarks.common import add_flags
from benchmarks.common import add_results_argument
from benchmarks.common import benchmark_parser
from benchmarks.common import print_table
from benchmarks.common import train_or_load
from benchmarks.common import write_json

molecules = kgen.metrics.molecules


def qed_of(smiles):
    return molecules.properties(smiles, "qed")


def parallel_qed(smiles):
    with multiprocessing.Pool(os.cpu_count()) as pool:
        parts = np.array_split(np.asarray(smiles), 16)
        return np.concatenate(pool.map(qed_of, parts))


def prepare(args):
    """The tokenizer, the training subset's rows and QED, MOSES' training
    SMILES (for novelty) and test molecules that fit the context."""
    train = kgen.datasets.load_molecules("moses", "train")
    if args.dry_run:
        train = train[:4096]
    tokenizer = kgen.tokenizers.SmilesTokenizer.from_smiles(train)
    order = np.random.default_rng(0).permutation(len(train))
    smiles = train[order[: args.num_molecules]]
    path = os.path.join(args.cache, f"qed_{args.num_molecules}.npy")
    if os.path.exists(path):
        qed = np.load(path)
    else:
        qed = parallel_qed(smiles)
        os.makedirs(args.cache, exist_ok=True)
        np.save(path + ".partial.npy", qed)
        os.replace(path + ".partial.npy", path)
    test = held_out_molecules(tokenizer, args.num_test)
    return tokenizer, tokenizer(smiles), qed, train, test


def held_out_molecules(tokenizer, count):
    """`count` MOSES test molecules (a permutation, seed 1) that fit the
    tokenizer's context with `[BOS]` and `[EOS]`."""
    test = kgen.datasets.load_molecules("moses", "test")
    test = test[np.random.default_rng(1).permutation(len(test))]
    fits = [
        len(kgen.tokenizers.split_smiles(s)) + 2 <= tokenizer.sequence_length
        for s in test[: 2 * count]
    ]
    return test[: 2 * count][np.array(fits)][:count]


def build(args, tokenizer):
    model = kgen.models.SequenceVAE(
        tokenizer.vocabulary_size,
        tokenizer.sequence_length,
        tokenizer.bos_id,
        latent_dim=args.latent_dim,
        num_layers=args.num_layers,
        num_heads=4 if args.hidden_dim >= 64 else 2,
        hidden_dim=args.hidden_dim,
        encoder_layers=args.encoder_layers,
        beta=args.beta,
        beta_warmup_steps=args.beta_warmup_steps,
        num_properties=1,
        seed=0,
    )
    if args.decoder_init:
        warm_start_decoder(model, args.decoder_init)
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
    return model


def warm_start_decoder(model, preset):
    """Starts the VAE's decoder from a SMILES GPT preset of the same
    tokenizer and shape (`gpt_moses`): its embeddings, blocks and final
    norm. The GPT's class embedding has no place in the decoder, and the
    code's projection starts where the VAE's seed put it, so training
    first teaches the decoder to read `z`, not SMILES' grammar.
    """
    gpt = kgen.models.GPT.from_preset(preset)
    decoder = model.decoder
    pairs = [
        (gpt.token_embedding, decoder.token_embedding),
        (gpt.position_embedding, decoder.position_embedding),
        (gpt.final_norm, decoder.final_norm),
        *zip(gpt.blocks, decoder.blocks, strict=True),
    ]
    for source, target in pairs:
        target.set_weights(source.get_weights())


def sample_metrics(smiles, training):
    """MOSES' metrics of `smiles`; those of the valid ones are NaN when
    none is valid (an undertrained model), as MOSES' own code would
    fail."""
    validity = molecules.validity(smiles)
    if validity == 0:
        nan = float("nan")
        return dict(
            validity=0.0, uniqueness=nan, novelty=nan, internal_diversity=nan
        )
    return {
        "validity": validity,
        "uniqueness": molecules.uniqueness(smiles),
        "novelty": molecules.novelty(smiles, training),
        "internal_diversity": molecules.internal_diversity(smiles),
    }


def canonical(smiles):
    return molecules.canonical_smiles(smiles)


def mean_valid_qed(smiles):
    qed = qed_of(smiles)
    valid = np.isfinite(qed)
    return float(qed[valid].mean()) if valid.any() else float("nan")


def main(argv=None):
    parser = benchmark_parser(
        dry_run=False,
        num_molecules=160_000,
        steps=100_000,
        train_minutes=None,
        batch_size=64,
        learning_rate=5e-4,
        latent_dim=64,
        num_samples=1000,
        num_test=500,
        weights=None,
        init=None,
    )
    add_flags(
        parser,
        hidden_dim=128,
        num_layers=3,
        encoder_layers=2,
        beta=0.05,
        beta_warmup_steps=2000,
        decoder_init=(
            None,
            "a GPT preset of the same tokenizer to start the decoder from "
            "(e.g. gpt_moses; needs --num-layers and --hidden-dim to match)",
        ),
        temperature=(1.0, "of the token-by-token prior samples"),
        climb_steps=50,
        cache="/tmp/kgen_sequence_vae_moses",
    )
    add_results_argument(parser, "sequence_vae_moses", outputs="JSON")
    args = parser.parse_args(argv)
    if args.dry_run:
        args.num_molecules, args.steps, args.batch_size = 512, 8, 32
        args.hidden_dim, args.latent_dim, args.num_layers = 16, 4, 1
        args.encoder_layers, args.beta_warmup_steps = 1, 4
        args.num_samples, args.num_test, args.climb_steps = 16, 16, 2
        args.cache = os.path.join(args.cache, "dry_run")

    start = time.time()
    tokenizer, rows, qed, training, test = prepare(args)
    preparation_seconds = time.time() - start
    qed_mean, qed_std = float(qed.mean()), float(qed.std())
    properties = ((qed - qed_mean) / qed_std).astype("float32")[:, None]
    print(
        f"{len(rows):,} molecules, {tokenizer.vocabulary_size} token ids, "
        f"context {tokenizer.sequence_length} ({preparation_seconds:.0f} s)"
    )
    keras.utils.set_random_seed(0)
    model = build(args, tokenizer)
    # --init's weights hold the KL warm-up's step counter too, so the
    # schedule goes on where the last chunk stopped.
    history, train_seconds = train_or_load(
        model,
        rows,
        properties,
        args=args,
        batch_size=args.batch_size,
    )
    steps, final = 0, {}
    if history is not None:
        steps = int(keras.ops.convert_to_numpy(model.step))
        final = {k: float(v[-1]) for k, v in history.history.items()}

    # 1. Prior samples, token by token and greedy.
    rows_out = []
    samplers = {
        f"random, temperature {args.temperature:g}": (
            kgen.samplers.RandomSampler(temperature=args.temperature)
        ),
        "greedy": "greedy",
    }
    for name, sampler in samplers.items():
        tokens = model.sample(args.num_samples, seed=1, sampler=sampler)
        smiles = tokenizer.detokenize(keras.ops.convert_to_numpy(tokens))
        rows_out.append(
            {
                "decoding": f"prior, {name}",
                **sample_metrics(smiles, training),
            }
        )
    print_table(rows_out, list(rows_out[0]))

    # 2. Reconstruction of held-out molecules.
    test_rows = tokenizer(test)
    codes = model.encode(test_rows).mean()
    decoded = tokenizer.detokenize(
        keras.ops.convert_to_numpy(model.decode(codes))
    )
    reconstruction = float(
        np.mean(
            [
                a is not None and a == b
                for a, b in zip(canonical(decoded), canonical(test))
            ]
        )
    )

    # 3. Latent optimisation of QED from the test molecules' codes.
    climbed = model.optimize_latents(codes, num_steps=args.climb_steps)
    after = tokenizer.detokenize(
        keras.ops.convert_to_numpy(model.decode(climbed))
    )
    predicted = [
        float(
            np.mean(keras.ops.convert_to_numpy(model.predict_properties(z)))
            * qed_std
            + qed_mean
        )
        for z in (codes, climbed)
    ]
    optimisation = {
        "test_molecules_qed": mean_valid_qed(test),
        "before": {
            "validity": molecules.validity(decoded),
            "mean_qed": mean_valid_qed(decoded),
            "predicted_qed": predicted[0],
        },
        "after": {
            "validity": molecules.validity(after),
            "mean_qed": mean_valid_qed(after),
            "predicted_qed": predicted[1],
            "novelty": sample_metrics(after, training)["novelty"],
        },
        "climb_steps": args.climb_steps,
    }
    print(f"reconstruction accuracy: {reconstruction:.3f}")
    print(optimisation)
    results = {
        "training": {
            "num_molecules": len(rows),
            "steps": steps,
            "train_seconds": train_seconds,
            "batch_size": args.batch_size,
            "learning_rate": args.learning_rate,
            "beta": args.beta,
            "beta_warmup_steps": args.beta_warmup_steps,
            "latent_dim": args.latent_dim,
            "hidden_dim": args.hidden_dim,
            "num_layers": args.num_layers,
            "encoder_layers": args.encoder_layers,
            "decoder_init": args.decoder_init,
            "parameters": model.count_params(),
            "final_logs": final,
            "backend": keras.backend.backend(),
        },
        "samples": rows_out,
        "reconstruction_accuracy": reconstruction,
        "latent_optimisation": optimisation,
        "examples": {"prior": smiles[:8], "optimised": after[:8]},
    }
    write_json(
        args.results,
        results,
        headline={
            "title": "A SMILES VAE on MOSES: prior samples, reconstruction "
            "and latent optimisation of QED",
            "values": {
                "validity (sampled)": "/samples/0/validity",
                "validity (greedy)": "/samples/1/validity",
                "novelty (sampled)": "/samples/0/novelty",
                "reconstruction": "/reconstruction_accuracy",
                "QED before": "/latent_optimisation/before/mean_qed",
                "QED after": "/latent_optimisation/after/mean_qed",
            },
            "peer": "MOSES' published VAE (validity 0.977, novelty 0.695 "
            "after 100 epochs of 1.58M molecules on a GPU)",
            "notes": "Latent optimisation climbs the jointly trained QED "
            "head from the test molecules' codes and decodes greedily.",
        },
    )
    return results


if __name__ == "__main__":
    main()
