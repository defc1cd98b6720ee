"""`kgen export`: exports a model as a SavedModel (TF Serving layout)."""

import os

from kgen.cli.common import MODEL
from kgen.cli.common import MODEL_HELP
from kgen.cli.common import open_model


def add_parser(commands):
    """Adds `kgen export` and its options to `commands`."""
    export = commands.add_parser("export", help="export a SavedModel")
    export.add_argument("model_path", metavar=MODEL, help=MODEL_HELP)
    export.add_argument("path", help="TF Serving model base path")
    export.add_argument("--version", type=int, default=1)
    export.add_argument("--overwrite", action="store_true")


def export(args):
    import kgen
    from kgen.utils.argument_validation import validate_int

    validate_int(args.version, "--version")
    model = open_model(args.model_path)
    path = kgen.export.export_saved_model(
        model, args.path, version=args.version, overwrite=args.overwrite
    )
    print(f"kgen: SavedModel: {os.path.abspath(path)}")
    return 0
