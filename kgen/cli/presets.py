"""`kgen presets`: lists the shipped presets, or shows one's model card."""

import json
import os

from kgen.cli.terminal import say


def add_parser(commands):
    """Adds `kgen presets` and its options to `commands`."""
    presets = commands.add_parser(
        "presets", help="list the shipped presets, or show one's model card"
    )
    presets.add_argument(
        "name", nargs="?", help="a preset name or directory: its model card"
    )
    presets.add_argument(
        "--json", action="store_true", help="the card as metadata.json"
    )
    presets.add_argument(
        "--check",
        action="store_true",
        help="also load the preset and reproduce its reference outputs",
    )


def presets(args):
    import kgen

    if args.name is None:
        if args.json or args.check:
            raise ValueError("--json and --check need a preset NAME.")
        _print_preset_table()
        return 0
    metadata = kgen.presets.verify_preset(args.name)
    if args.json:
        print(json.dumps(metadata, indent=2, sort_keys=True))
    else:
        _print_card(metadata)
    if args.check:
        import keras

        difference = kgen.presets.check_preset(args.name)
        backend = keras.backend.backend()
        if difference is None:
            say(f"check: no reference outputs for backend {backend}")
        else:
            print(
                f"check: reference outputs reproduced on {backend} "
                f"(max |difference| {difference:.3g})"
            )
    return 0


def _print_preset_table():
    import kgen

    rows = [("name", "class", "parameters", "MB", "trained", "metrics")]
    for name, directory in kgen.presets.shipped_presets().items():
        card = kgen.presets.preset_metadata(name)
        size = sum(
            os.path.getsize(os.path.join(directory, f))
            for f in os.listdir(directory)
        )
        rows.append(
            (
                name,
                card["model_class"],
                f"{card['num_parameters']:,}",
                f"{size / 1e6:.1f}",
                "yes" if card["trained"] else "no",
                ", ".join(
                    f"{metric} {_format_value(card['metrics'][metric])}"
                    for metric in _headline(card)
                ),
            )
        )
    for name in kgen.presets.list_architectures():
        model = kgen.presets.build_architecture(name)
        entry = kgen.presets.ARCHITECTURES[name]
        rows.append(
            (
                name,
                entry["class_name"],
                f"{model.count_params():,}",
                "-",
                "no",
                f"architecture for {entry['data']['dataset']}: "
                + entry.get("trained_by", f"kgen train {name}"),
            )
        )
    if len(rows) == 1:
        say("kgen: no presets are installed.")
        return
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        cells = [
            row[0].ljust(widths[0]),
            row[1].ljust(widths[1]),
            row[2].rjust(widths[2]),
            row[3].rjust(widths[3]),
            row[4].ljust(widths[4]),
            row[5],
        ]
        say("  ".join(cells).rstrip())


def _headline(card):
    names = card.get("headline_metrics") or sorted(card["metrics"])[:2]
    return [name for name in names if name in card["metrics"]]


def _format_value(metric):
    value = metric.get("value") if isinstance(metric, dict) else metric
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _print_card(card):
    trained = "trained" if card["trained"] else "untrained"
    say(
        f"{card['name']}: {card['model_class']}, "
        f"{card['num_parameters']:,} parameters, {trained}"
    )
    if card["description"]:
        say(f"  {card['description']}")
    for key in ("data", "training"):
        if card.get(key):
            say(f"{key}:")
            _print_tree(card[key], indent=2)
    if card["metrics"]:
        say("metrics:")
        for name, metric in sorted(card["metrics"].items()):
            say(f"  {name}: {_format_value(metric)}")
            if isinstance(metric, dict):
                details = {k: v for k, v in metric.items() if k != "value"}
                _print_tree(details, indent=4)
    versions = ", ".join(f"{k} {v}" for k, v in card["versions"].items())
    say(f"versions: {versions}")
    say(f"files (sha256 verified): {', '.join(sorted(card['files']))}")
    say(
        "verified: every file and this card against their sha256 "
        "(integrity: a changed or damaged preset is refused; not "
        "authenticity: nothing is signed)"
    )


def _print_tree(value, indent):
    pad = " " * indent
    for key, item in value.items():
        if isinstance(item, dict):
            say(f"{pad}{key}:")
            _print_tree(item, indent + 2)
        else:
            say(f"{pad}{key}: {item}")
