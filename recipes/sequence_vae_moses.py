"""A SMILES VAE on MOSES with a drug-likeness head -> `sequence_vae_moses`.

    KERAS_BACKEND=jax python -m benchmarks.sequence_vae_moses \
        --num-layers 4 --decoder-init gpt_moses --learning-rate 3e-4 \
        --temperature 0.7 --train-minutes 65 --weights V.weights.h5 \
        --results sequence_vae_moses_warm
    KERAS_BACKEND=jax python -m benchmarks.sequence_vae_moses \
        --num-layers 4 --learning-rate 3e-4 --temperature 0.7 \
        --beta 0.5 --beta-warmup-steps 6000 --init V.weights.h5 \
        --train-minutes 50 --weights V2.weights.h5 \
        --results sequence_vae_moses_beta
    python recipes/sequence_vae_moses.py --weights V2.weights.h5 \
        --training benchmarks/results/sequence_vae_moses_warm.json \
        benchmarks/results/sequence_vae_moses_beta.json
    python recipes/update_presets.py sequence_vae_moses  # JAX, torch

MOSES' VAE role (Gomez-Bombarelli et al. 2018; Polykovskiy et al. 2020):
`kgen.models.SequenceVAE`, a Transformer encoder to a 64-dimensional
code and a GPT decoder reading the code at every position, over
`gpt_moses`' atom-level SMILES tokenizer, with a head predicting each
molecule's standardised QED from its code. The benchmark trains it in
two chunks, its decoder started from `gpt_moses`' weights
(`--decoder-init`): 3,000 steps at MOSES' KL weight 0.05, whose codes
carried 52 nats and left most of N(0, I) undecodable (valid prior
samples 0.36 at temperature 0.7), then 3,500 with the weight ramped to
0.5, which brought the KL to 13 nats and the validity to 0.83. It
measures reconstruction and latent optimisation; this script loads those
weights, picks the sampling temperature as `gpt_moses` does, measures
MOSES' table on 30,000 samples as `kgen evaluate` draws them, and writes
its preset in preset_packages/sequences/ with the tokenizer. Needs RDKit
and MOSES' data (`pip install --no-deps molsets==0.3.1`).
"""

import os
import time

import model_card  # recipes/model_card.py, beside this script
import numpy as np
import recipe_steps  # recipes/recipe_steps.py, beside this script

model_card.use_repository_packages()
import kgen  # noqa: E402

parser = recipe_steps.recipe_parser(__doc__)
recipe_steps.add_benchmark_results_arguments(
    parser,
    "the benchmark's results JSON of each training chunk, in order (the "
    "last one's settings, steps, reconstruction and latent optimisation; "
    "the wall time of all of them)",
)
parser.add_argument(
    "--qed-cache",
    default="/tmp/kgen_sequence_vae_moses/qed_160000.npy",
    help="the benchmark's QED of its training molecules (the head's "
    "standardisation)",
)
parser.add_argument(
    "--out", help="write the preset here instead of its preset package"
)
args = parser.parse_args()

# === Config ===
name = "sequence_vae_moses"
num_evaluation_samples = 30_000  # MOSES' recommendation
temperatures = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3)
validity_target = 0.92  # gpt_moses' rule
command = (
    "python -m benchmarks.sequence_vae_moses --num-layers 4 "
    "--decoder-init gpt_moses --learning-rate 3e-4 --temperature 0.7 "
    "--train-minutes 65 --weights V.weights.h5 --results "
    "sequence_vae_moses_warm && python -m benchmarks.sequence_vae_moses "
    "--num-layers 4 --learning-rate 3e-4 --temperature 0.7 --beta 0.5 "
    "--beta-warmup-steps 6000 --init V.weights.h5 --train-minutes 50 "
    "--weights V2.weights.h5 --results sequence_vae_moses_beta && python "
    "-m benchmarks.sequence_vae_moses --num-layers 4 --learning-rate 1.5e-4 "
    "--temperature 0.7 --beta 0.5 --beta-warmup-steps 6000 --init "
    "V2.weights.h5 --train-minutes 55 --weights V3.weights.h5 --results "
    "sequence_vae_moses_fine && python recipes/sequence_vae_moses.py "
    "--weights V3.weights.h5 --training "
    "benchmarks/results/sequence_vae_moses_warm.json "
    "benchmarks/results/sequence_vae_moses_beta.json "
    "benchmarks/results/sequence_vae_moses_fine.json"
)
evaluation = f"kgen evaluate {name} --metric moses -n 30000"
preset = model_card.preset_folder(name)
if args.smoke:  # minutes end to end, written to /tmp
    num_evaluation_samples, temperatures = 256, (1.0, 0.7)
    preset = model_card.SMOKE / name
if args.out:
    preset = args.out

# The step counter travels with the weights, so the last chunk's `steps`
# is the total; the wall time is each chunk's own.
chunks, train_seconds = recipe_steps.read_training_chunks(args.training)
record = chunks[-1]
training = record["training"]
decoder_init = chunks[0]["training"].get("decoder_init")
tokenizer = kgen.presets.load_tokenizer("gpt_moses")
model = kgen.models.SequenceVAE(
    tokenizer.vocabulary_size,
    tokenizer.sequence_length,
    tokenizer.bos_id,
    latent_dim=training["latent_dim"],
    num_layers=training["num_layers"],
    num_heads=4,
    hidden_dim=training["hidden_dim"],
    encoder_layers=training["encoder_layers"],
    beta=training["beta"],
    beta_warmup_steps=training["beta_warmup_steps"],
    num_properties=1,
    seed=0,
)
model.load_weights(args.weights)
qed = np.load(args.qed_cache)
qed_mean, qed_std = float(qed.mean()), float(qed.std())


def generate(num_samples, sample_seed, temperature):
    """SMILES of `num_samples` prior draws as `kgen generate` draws them:
    256 per `sample` call from one seed generator."""
    return recipe_steps.sample_smiles(
        model, tokenizer, num_samples, sample_seed, temperature
    )


# The preset samples at the highest temperature whose validity on 1,000
# draws of their own seed (99) reaches the target, as gpt_moses does.
train_smiles = kgen.datasets.load_molecules("moses", "train")
preset_temperature, temperature_scan = recipe_steps.choose_temperature(
    name,
    lambda temperature: generate(1000, 99, temperature),
    temperatures,
    validity_target,
    train_smiles,
)

start = time.time()
samples = generate(num_evaluation_samples, 0, preset_temperature)
table = kgen.metrics.molecules.moses_metrics(
    samples,
    train_smiles,
    kgen.datasets.load_moses_statistics("test"),
    kgen.datasets.moses_filter_smarts(),
)
print(f"{name}: {table} ({time.time() - start:.0f} s)")

metrics = {
    key: model_card.metric(
        value,
        command,
        f"{model_card.MOSES_NOTES[key]}, of {num_evaluation_samples:,} "
        f"samples (seed 0, temperature {preset_temperature})",
        evaluation=evaluation,
    )
    for key, value in table.items()
}
benchmark = "python -m benchmarks.sequence_vae_moses (the training run)"
optimisation = record["latent_optimisation"]
metrics["reconstruction_accuracy"] = model_card.metric(
    record["reconstruction_accuracy"],
    benchmark,
    "the fraction of 500 MOSES test molecules whose posterior mean decodes "
    "(greedily) to the same canonical SMILES",
)
for stage in ("before", "after"):
    for key in ("validity", "mean_qed"):
        metrics[f"latent_optimisation_{key}_{stage}"] = model_card.metric(
            optimisation[stage][key],
            benchmark,
            f"{key.replace('_', ' ')} of the 500 test molecules' codes "
            f"decoded greedily, {stage} {optimisation['climb_steps']} steps "
            "of `optimize_latents` up the QED head (the test molecules' "
            f"own mean QED: {optimisation['test_molecules_qed']:.3f})",
        )

description = (
    "A SMILES VAE (Transformer encoder, 64-dimensional "
    "code, 4-layer GPT decoder reading the code at every position) on "
    "MOSES, with a head predicting drug-likeness (QED) from the code: "
    "sample(n) decodes n codes drawn from N(0, I) into [BOS]-started "
    "token rows (tokenizer.detokenize makes them SMILES; `kgen "
    f"generate {name} --out molecules.txt` writes one per line), "
    "encode(rows) gives the posterior, decode(z) the greedy molecule, "
    "and optimize_latents(z) climbs the QED head. It samples at "
    f"temperature {preset_temperature} (the card's sample_arguments); "
    "the SMILES tokenizer ships with it (kgen.presets.load_tokenizer)."
)
card = {
    "data": model_card.moses_data(
        training["num_molecules"],
        tokenizer,
        properties="QED (RDKit), standardised: predict_properties "
        f"gives (QED - {qed_mean:.4f}) / {qed_std:.4f}",
    ),
    "training": model_card.training_section(
        command,
        epochs=1,
        steps=training["steps"],
        batch_size=training["batch_size"],
        wall_time=train_seconds,
        optimizers={
            "optimizer": "Adam",
            "learning_rate": training["learning_rate"],
            "schedule": "constant",
        },
        config={
            "latent_dim": training["latent_dim"],
            "hidden_dim": training["hidden_dim"],
            "num_layers": training["num_layers"],
            "encoder_layers": training["encoder_layers"],
            "beta": training["beta"],
            "beta_warmup_steps": training["beta_warmup_steps"],
            "decoder_init": decoder_init,
            "vocabulary_size": tokenizer.vocabulary_size,
            "sequence_length": tokenizer.sequence_length,
            "start_id": tokenizer.bos_id,
            "seed": 0,
        },
        examples="molecules seen",
        backend=training["backend"],
        final_logs=training["final_logs"],
    ),
    "metrics": metrics,
    "headline_metrics": ["validity", "unique_at_10k", "novelty"],
    "paper": model_card.MOSES_PAPER,
    "sample_smiles": samples[:8],
    **model_card.temperature_choice(
        temperatures, validity_target, temperature_scan, preset_temperature
    ),
}
model_card.write(
    model, preset, name, description, card, train_seconds, tokenizer=tokenizer
)
if args.smoke:
    print(f"smoke run: {os.fspath(preset)}")
