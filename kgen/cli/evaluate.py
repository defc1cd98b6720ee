"""`kgen evaluate`: scores a model's samples (FID, KID, IS,
precision/recall; MOSES' table for a molecule model)."""

from kgen.cli.common import MODEL
from kgen.cli.common import MODEL_HELP
from kgen.cli.common import open_model
from kgen.cli.common import preset_card
from kgen.cli.common import value_range_of
from kgen.metrics import SAMPLE_METRICS as METRICS

# Metrics of a molecule model's sequences rather than of images, with the
# sample kind each needs and a preset of that kind: `moses` is MOSES'
# table of a SMILES model (`kgen.metrics.molecules.moses_metrics`),
# `peptides` the table of a peptide model
# (`kgen.metrics.peptides.peptide_metrics`), `molecules_3d` EDM's
# measures of a model of molecules in 3-D
# (`kgen.metrics.molecules_3d_metrics`, novelty against QM9's training
# molecules).
MOLECULE_METRICS = {
    "moses": ("molecules", "gpt_moses"),
    "peptides": ("peptides", "gpt_peptides"),
    "molecules_3d": ("molecules_3d", "edm_qm9"),
}


def add_parser(commands):
    """Adds `kgen evaluate` and its options to `commands`."""
    evaluate = commands.add_parser(
        "evaluate",
        help="score samples: FID, KID, IS, precision/recall; MOSES' "
        "metrics of a molecule model",
    )
    evaluate.add_argument("model_path", metavar=MODEL, help=MODEL_HELP)
    evaluate.add_argument(
        "--metric",
        choices=sorted(METRICS) + sorted(MOLECULE_METRICS),
        action="append",
        dest="metrics",
        help="repeatable; default fid. moses (alone): MOSES' table of -n "
        "molecules (MOSES scores 30,000). peptides (alone): validity, "
        "uniqueness, novelty, descriptor distances to the held-out "
        "peptides and the fraction an AMP classifier calls antimicrobial. "
        "molecules_3d (alone): atom and molecule stability, validity, "
        "uniqueness and novelty of molecules in 3-D",
    )
    evaluate.add_argument(
        "--reference", default="digits", help="dataset of real images"
    )
    evaluate.add_argument("--split", choices=("train", "test"), default="train")
    evaluate.add_argument("-n", "--num-samples", type=int, default=1000)
    evaluate.add_argument(
        "--features",
        default="inception",
        help="inception (FID-Inception pool3) or a classifier preset "
        "such as digits_classifier (a domain metric)",
    )
    evaluate.add_argument(
        "--classifier",
        default="digits_classifier",
        help="classifier preset (name or directory) for is",
    )
    evaluate.add_argument("--seed", type=int, default=0)


def evaluate(args):
    model = open_model(args.model_path)
    for name, result, detail in scores(model, args):
        if isinstance(result, dict):
            result = ", ".join(f"{k} {v:.4f}" for k, v in result.items())
        else:
            result = f"{result:.4f}"
        print(f"{name}: {result}  ({detail})")
    return 0


def scores(model, args):
    """The metrics `kgen evaluate` prints, for a model already loaded.

    Recipes call it with the parsed command line they record next to the
    numbers, so a model card's metric and its command agree.

    Args:
        model: a `kgen.models.GenerativeModel`.
        args: `argparse.Namespace` of `kgen evaluate`, e.g.
            `build_parser().parse_args(shlex.split(command)[1:])`.

    Returns:
        list of `(metric name, float or dict of floats, description)`.
    """
    import kgen
    from kgen.utils.argument_validation import validate_int

    names = list(dict.fromkeys(args.metrics or ["fid"]))
    validate_int(args.num_samples, "-n", minimum=2)
    if set(names) & set(MOLECULE_METRICS):
        return _molecule_scores(model, args, names)
    value_range = value_range_of(model, preset_card(args.model_path))
    reference = None
    # The Inception Score needs no real examples (an audio model's has no
    # image dataset to load).
    if set(names) != {"is"}:
        (x_train, _), (x_test, _) = kgen.datasets.load(
            args.reference, value_range=value_range
        )
        reference = (x_train if args.split == "train" else x_test)[
            : args.num_samples
        ]
    features = None
    if args.features != "inception":
        features = kgen.networks.classifier_features(
            kgen.presets.load_preset(args.features)
        )
    classifier = None
    if "is" in names:
        classifier = kgen.presets.load_preset(args.classifier)
    results = kgen.metrics.score_model(
        model,
        reference,
        names,
        num_samples=args.num_samples,
        seed=args.seed,
        feature_extractor=features,
        classifier=classifier,
        value_range=value_range,
    )
    label = (
        "FID-Inception pool3"
        if features is None
        else f"domain features: {args.features}"
    )
    details = {
        name: f"classifier {args.classifier} (a domain IS)"
        if name == "is"
        else f"{label}; {args.num_samples} samples vs {args.reference} "
        f"{args.split} {len(reference)}"
        for name in names
    }
    return [(name, results[name], details[name]) for name in names]


def _molecule_scores(model, args, names):
    """The table of `--metric moses` or `peptides`, of `-n` sequences
    drawn as `kgen generate` draws them."""
    import kgen
    from kgen.cli.common import preset_tokenizer
    from kgen.cli.generate import SAMPLE_CHUNK
    from kgen.cli.generate import sample_kind

    metric = next(name for name in names if name in MOLECULE_METRICS)
    needed_kind, example = MOLECULE_METRICS[metric]
    if len(names) > 1:
        raise ValueError(
            f"`--metric {metric}` scores {needed_kind} and takes no other "
            f"metric; received {names}."
        )
    kind = sample_kind(model, preset_card(args.model_path), args.model_path)
    if kind != needed_kind:
        raise ValueError(
            f"`--metric {metric}` needs a model of {needed_kind} (a preset "
            f"such as {example}); MODEL {args.model_path} draws {kind} "
            "samples."
        )
    # At the model's own `sample_defaults` (a molecule GPT's temperature),
    # as `kgen generate` draws.
    rows = kgen.models.sample_in_chunks(
        model,
        args.num_samples,
        seed=args.seed,
        chunk_size=SAMPLE_CHUNK,
        max_bytes=2**31,
    )
    if kind == "molecules_3d":
        sequences = None
    else:
        sequences = preset_tokenizer(args.model_path).detokenize(
            rows.astype("int32")
        )
    detail = f"{args.num_samples} samples, seed {args.seed}"
    if metric == "molecules_3d":
        return _molecules_3d_table(model, rows, args, detail)
    if metric == "peptides":
        return _peptide_table(sequences, detail)
    return _moses_table(sequences, detail)


def _molecules_3d_table(model, samples, args, detail):
    """EDM's measures of molecules in 3-D
    (`kgen.metrics.molecules_3d_metrics`), novelty against QM9's
    training molecules."""
    import kgen
    from kgen.cli.molecule_files import model_elements

    elements = model_elements(model, preset_card(args.model_path), args)
    molecules = kgen.metrics.molecules_from_arrays(
        samples["atom_types"],
        samples["positions"],
        samples["atom_mask"],
        elements,
    )
    training = kgen.datasets.load_qm9("train")["smiles"]
    table = kgen.metrics.molecules_3d_metrics(molecules, training)
    details = {
        "novelty": f"{detail}, against QM9's {len(training):,} training "
        "molecules",
        "validity": f"{detail}; bonds by RDKit's rdDetermineBonds",
    }
    return [
        (name, value, details.get(name, f"{detail}; kgen's bond lengths"))
        for name, value in table.items()
    ]


def _peptide_table(sequences, detail):
    """`kgen.metrics.peptides.peptide_metrics` of `sequences` against
    `load_peptides`' splits: novelty against `"train"`, descriptors
    against `"test"`, and an AMP classifier fitted on `"train"`."""
    import kgen
    from kgen.metrics import peptides

    training, labels = kgen.datasets.load_peptides("train")
    held_out, _ = kgen.datasets.load_peptides("test")
    classifier = peptides.amp_classifier(training, labels)
    table = peptides.peptide_metrics(sequences, training, held_out, classifier)
    details = {
        "novelty": f"{detail}, against the {len(training):,} training peptides",
        "antimicrobial_fraction": f"{detail}; a random forest fitted on the "
        "training peptides",
    }
    for name in peptides.DESCRIPTORS:
        details[f"descriptor_w1_{name}"] = (
            f"{detail}, against the {len(held_out)} held-out peptides"
        )
    return [
        (name, value, details.get(name, detail))
        for name, value in table.items()
    ]


def _moses_table(smiles, detail):
    """MOSES' table of `smiles` (`kgen.metrics.molecules.moses_metrics`)."""
    import kgen

    training = kgen.datasets.load_molecules("moses", "train")
    statistics = kgen.datasets.load_moses_statistics("test")
    detail = f"{detail}; MOSES' definition"
    try:
        kgen.metrics.chemnet_weights_file()
    except FileNotFoundError as error:
        # The rest of the table needs no ChemNet; say why FCD is missing.
        print(f"kgen: no fcd_test: {error}")
        del statistics["fcd_mean"], statistics["fcd_covariance"]
    table = kgen.metrics.molecules.moses_metrics(
        smiles,
        training,
        statistics,
        kgen.datasets.moses_filter_smarts(),
    )
    details = {
        "novelty": f"{detail}, against its {len(training):,} training SMILES",
        "fcd_test": f"{detail}, against MOSES' stored test statistics",
    }
    return [
        (name, value, details.get(name, detail))
        for name, value in table.items()
    ]
