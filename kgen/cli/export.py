"""`kgen export`: exports a model as a SavedModel (TF Serving layout), or
every shipped generative preset as TF Serving's tree (`--all`)."""

import os

from kgen.cli.common import MODEL
from kgen.cli.common import MODEL_HELP
from kgen.cli.common import open_model


def add_parser(commands):
    """Adds `kgen export` and its options to `commands`."""
    export = commands.add_parser(
        "export",
        help="export a SavedModel, or every preset as TF Serving's tree",
    )
    export.add_argument("model_path", metavar=MODEL, nargs="?", help=MODEL_HELP)
    export.add_argument("path", nargs="?", help="TF Serving model base path")
    export.add_argument("--version", type=int, default=1)
    export.add_argument("--overwrite", action="store_true")
    export.add_argument(
        "--all",
        metavar="FOLDER",
        dest="serving_tree",
        help="write every shipped generative preset under FOLDER/<name>/1/ "
        "and FOLDER/models.config, TF Serving's config listing them",
    )
    export.add_argument(
        "--presets",
        nargs="+",
        metavar="NAME",
        help="with --all: only these presets (the config lists every "
        "preset exported under FOLDER)",
    )


def export(args):
    import kgen
    from kgen.utils.argument_validation import validate_int

    if args.serving_tree is not None:
        if args.model_path is not None:
            raise ValueError(
                "`--all FOLDER` exports the shipped presets and takes no "
                f"MODEL; received {args.model_path!r}."
            )
        kgen.presets.export_serving_tree(
            args.serving_tree,
            args.presets,
            log=lambda line: print(f"kgen: {line}", flush=True),
        )
        return 0
    if args.presets is not None:
        raise ValueError("`--presets` selects presets for `--all FOLDER`.")
    if args.model_path is None or args.path is None:
        raise ValueError(
            "`kgen export` takes MODEL and a base PATH, or `--all FOLDER`."
        )
    validate_int(args.version, "--version")
    model = open_model(args.model_path)
    path = kgen.export.export_saved_model(
        model, args.path, version=args.version, overwrite=args.overwrite
    )
    print(f"kgen: SavedModel: {os.path.abspath(path)}")
    return 0
