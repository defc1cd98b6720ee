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
    from kgen.presets import lora_adapter

    if args.name is None:
        if args.json or args.check:
            raise ValueError("--json and --check need a preset NAME.")
        _print_preset_table()
        return 0
    directory = kgen.presets.loading.preset_directory(args.name)
    if lora_adapter.is_lora_adapter(directory):
        return _show_adapter(args, directory)
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


def _show_adapter(args, directory):
    """A LoRA adapter's config and card, its weights' sha256 checked;
    with `--check`, loaded onto its base (whose sha256 it checks)."""
    import kgen
    from kgen.presets import lora_adapter

    config, _ = lora_adapter.read_lora_adapter(directory)
    if args.json:
        print(json.dumps(config, indent=2, sort_keys=True))
    else:
        say(
            f"{os.path.basename(directory)}: LoRA adapter on "
            f"{config['base']} ({config['model_class']}), rank "
            f"{config['rank']}, {config['num_parameters']:,} parameters "
            f"on {len(config['layers'])} layers"
        )
        card = config.get("card") or {}
        if card.get("description"):
            say(f"  {card['description']}")
        if isinstance(card.get("metrics"), dict):
            say("metrics:")
            _print_tree(card["metrics"], indent=2)
        say(f"base weights sha256: {config['base_sha256']}")
        say(
            "verified: the adapter's weights against their sha256 "
            "(integrity, not authenticity: nothing is signed)"
        )
    if args.check:
        kgen.presets.load_preset(directory)
        print("check: loads on its base, whose weights' sha256 matches")
    return 0


def _print_preset_table():
    import kgen
    from kgen.presets import lora_adapter
    from kgen.presets import registry

    rows = [("name", "class", "parameters", "MB", "trained", "metrics")]
    for name, directory in kgen.presets.shipped_presets().items():
        card = kgen.presets.preset_metadata(name)
        size = _folder_bytes(directory)
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
    for name, directory in registry.shipped_lora_adapters().items():
        config, _ = lora_adapter.read_lora_adapter(directory)
        metrics = (config.get("card") or {}).get("metrics") or {}
        after = metrics.get("after") or {}
        rows.append(
            (
                name,
                f"LoRA on {config['base']}",
                f"{config['num_parameters']:,}",
                f"{_folder_bytes(directory) / 1e6:.1f}",
                "yes",
                ", ".join(f"{k} {_format_value(v)}" for k, v in after.items()),
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


def _folder_bytes(directory):
    return sum(
        os.path.getsize(os.path.join(directory, f))
        for f in os.listdir(directory)
    )


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
