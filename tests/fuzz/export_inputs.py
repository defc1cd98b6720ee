"""Bad inputs for `kgen.export.export_saved_model`.

Each case fails before anything is traced when kgen refuses it; the valid
model is the harness VAE, whose three endpoints export in seconds should
a case be accepted.
"""

import os

import keras

import kgen
from tests.fuzz.bad_input import BadInput
from tests.models import contract_cases


def export_inputs(workspace):
    """All bad inputs of the export area; writes its folders under
    `workspace`."""
    model = contract_cases.vae_case().model
    inputs = []
    counter = iter(range(10**6))

    def fresh_path():
        return os.path.join(workspace, f"export_{next(counter)}")

    def add(names, description, **arguments):
        arguments.setdefault("model", model)
        arguments.setdefault("path", fresh_path())
        inputs.append(
            BadInput(
                "export",
                "export_saved_model",
                names,
                description,
                lambda: kgen.export.export_saved_model(**arguments),
            )
        )

    for value in (True, -1, 0, "x", 1.5, None):
        add(("version",), f"version={value!r}", version=value)
    existing = fresh_path()
    os.makedirs(os.path.join(existing, "1"))
    add(
        ("overwrite", existing),
        "an existing version, overwrite=False",
        path=existing,
    )
    add(
        ("overwrite",),
        "overwrite='no' (a string) on an existing version",
        path=existing,
        overwrite="no",
    )
    a_file = os.path.join(workspace, "a_file.txt")
    with open(a_file, "w") as file:
        file.write("not a folder\n")
    add(("path", a_file), "path is a file", path=a_file)
    for value in (None, 3):
        add(("path",), f"path={value!r}", path=value)
    plain = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    # No "unbuilt kgen model" case: every family creates its weights in
    # its constructor, and an untrained model is a legitimate export.
    for description, value in (
        ("a plain keras.Sequential", plain),
        ("None", None),
        ("a string", "model.keras"),
    ):
        add(("model",), f"model is {description}", model=value)
    for value in ({}, "sample", {"sample": 3}):
        add(("endpoints",), f"endpoints={value!r}", endpoints=value)
    return inputs
