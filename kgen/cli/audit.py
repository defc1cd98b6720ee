"""`kgen audit privacy`: memorization and membership inference."""

import json
import os

from kgen.cli.common import MODEL
from kgen.cli.common import MODEL_HELP
from kgen.cli.common import open_model
from kgen.cli.common import preset_card
from kgen.cli.common import value_range_of
from kgen.cli.common import writing_atomically

# The white-box statistics that take `num_steps`, and their defaults.
DEFAULT_NUM_STEPS = {"elbo": 10, "log_prob": 16}


def add_parser(commands):
    """Adds `kgen audit` and its options to `commands`."""
    audit = commands.add_parser(
        "audit",
        help="audit a model: `privacy` (do samples copy training "
        "examples; can membership be inferred)",
    )
    audit.add_argument("aspect", choices=["privacy"])
    audit.add_argument("model_path", metavar=MODEL, help=MODEL_HELP)
    audit.add_argument(
        "--data",
        help="the dataset MODEL was trained on (digits, mnist, "
        "fashion_mnist): its train split holds the members, its test "
        "split the held-out examples (default: the preset card's dataset)",
    )
    audit.add_argument("-n", "--num-samples", type=int, default=1000)
    audit.add_argument(
        "--num-members",
        type=int,
        default=1000,
        help="training and as many held-out examples attacked",
    )
    audit.add_argument(
        "--num-steps",
        type=int,
        help="steps of the white-box statistic: diffusion models, steps "
        "drawn per example to estimate the variational bound (default "
        f"{DEFAULT_NUM_STEPS['elbo']}); flow-matching models, ODE "
        "steps of the exact log-likelihood (default "
        f"{DEFAULT_NUM_STEPS['log_prob']})",
    )
    audit.add_argument("--seed", type=int, default=0)
    audit.add_argument("--json", help="also write the report to this file")


def audit(args):
    """`kgen audit privacy MODEL`: distance to closest record and
    membership inference (`kgen.privacy.privacy_audit`)."""
    import numpy as np

    import kgen
    from kgen.models import contract
    from kgen.utils.argument_validation import validate_int
    from kgen.utils.regular_file import check_writable_target

    if args.json is not None:
        # Before the audit's minutes, not after them.
        check_writable_target(os.path.abspath(args.json))
    model = open_model(args.model_path)
    card = preset_card(args.model_path)
    data = args.data or card.get("data", {}).get("dataset")
    if data is None:
        raise ValueError(
            f"`--data` is needed: MODEL {args.model_path} has no model "
            "card naming its training set (one of "
            f"{kgen.datasets.available()})."
        )
    value_range = value_range_of(model, card)
    (x_train, y_train), (x_test, y_test) = kgen.datasets.load(
        data, value_range=value_range
    )
    if x_train[0].size != int(np.prod(model.data_shape)):
        raise ValueError(
            f"`--data` {data} holds {x_train.shape[1:]} images; MODEL "
            f"{args.model_path} models {tuple(model.data_shape)} examples: "
            "give the dataset it was trained on."
        )
    options = {}
    statistic = kgen.privacy.likelihood_statistic(model)
    if statistic in DEFAULT_NUM_STEPS and "num_steps" in contract.options(
        model, statistic
    ):
        num_steps = args.num_steps
        if num_steps is None:
            num_steps = DEFAULT_NUM_STEPS[statistic]
        options["num_steps"] = validate_int(num_steps, "--num-steps")
    report = kgen.privacy.privacy_audit(
        model,
        x_train,
        x_test,
        train_labels=y_train,
        holdout_labels=y_test,
        num_samples=validate_int(args.num_samples, "-n", minimum=2),
        num_members=validate_int(args.num_members, "--num-members"),
        seed=validate_int(args.seed, "--seed", minimum=0),
        value_range=value_range,
        sample_arguments=card.get("sample_arguments", {}),
        likelihood_options=options,
    )
    memorization = report["memorization"]
    print(
        f"kgen audit privacy {args.model_path}: {report['num_samples']} "
        f"samples against {data} ({len(x_train)} train, {len(x_test)} "
        "held-out); Euclidean distances between images scaled to [0, 1]"
    )
    print(
        f"distance to closest training record: median "
        f"{memorization['dcr_median']:.3f}, held-out real images "
        f"{memorization['holdout_dcr_median']:.3f} (ratio "
        f"{memorization['dcr_ratio']:.3f})"
    )
    print(
        "near copies (closer to a training record than "
        f"{1 - memorization['expected_near_copy_fraction']:.0%} of "
        f"held-out images are): {memorization['near_copies']} "
        f"({memorization['near_copy_fraction']:.1%}; "
        f"{memorization['expected_near_copy_fraction']:.1%} by chance)"
    )
    print(
        "samples closer to a training record than to a held-out one: "
        f"{memorization['closer_to_train_fraction']:.1%} (50% by chance)"
    )
    print(
        f"membership inference, {report['num_members']} training vs "
        f"{report['num_members']} held-out images (AUROC 0.5 by chance):"
    )
    attacks = [
        ("nearest sample (black box)", report["nearest_neighbor_attack"])
    ]
    if report["likelihood_attack"] is not None:
        attack = report["likelihood_attack"]
        attacks.append((f"{attack['statistic']} (white box)", attack))
    for name, attack in attacks:
        print(
            f"  {name}: AUROC {attack['auroc']:.3f}, TPR "
            f"{attack['tpr_at_fpr']:.1%} at {attack['fpr']:.0%} FPR, "
            f"advantage {attack['advantage']:.3f}"
        )
    if args.json:
        with writing_atomically(args.json, "--json") as temporary:
            with open(temporary, "w") as f:
                json.dump(
                    dict(report, model=args.model_path, data=data),
                    f,
                    indent=2,
                )
        print(f"kgen: report: {os.path.abspath(args.json)}")
    return 0
