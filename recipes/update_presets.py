"""Rewrites the shipped presets (kgen's and its preset packages') in place.

    python recipes/update_presets.py              # every shipped preset
    python recipes/update_presets.py vae_digits   # only some

Each preset is loaded from its own files (sha256 verified) and saved again
with `kgen.presets.save_to_preset` on TensorFlow: config, weights, model
card, tokenizer, `samples.png` and `reference_samples.npy`
(`model.sample(4, seed=0)`);
then one subprocess per other backend (JAX, torch) adds that backend's
`reference_samples_<backend>.npy`. Weights and model cards are kept, so
this is the one command to run after any change to how `sample` turns a
seed into noise; commit the rewritten files.

The recipe scripts (`recipes/dcgan_digits.py`, ...) train the models and
write these presets in the first place. (The three first presets were
converted from the former `saved_models/` folder by this script's
`--from-saved-models` mode, commit 89e670d.)
"""

import argparse
import os
import subprocess
import sys
import time

# === Config ===
main_backend = "tensorflow"  # writes reference_samples.npy and samples.png
other_backends = ("jax", "torch")  # each adds reference_samples_<b>.npy


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="default: every preset")
    parser.add_argument(
        "--add-reference", metavar="DIR", help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.add_reference:  # a subprocess, under KERAS_BACKEND
        import kgen

        added = kgen.presets.add_backend_reference(args.add_reference)
        print(f"  {added or 'none needed: outputs do not depend on seeds'}")
        return
    os.environ["KERAS_BACKEND"] = main_backend
    import kgen

    # The folders kgen loads by name: the preset packages are installed
    # editable (preset_packages/requirements.txt), so these are the
    # checkout's own.
    shipped = kgen.presets.shipped_presets()
    for name in args.names or sorted(shipped):
        start = time.time()
        directory = shipped[name]
        model = kgen.presets.load_preset(directory)
        card = {
            key: value
            for key, value in kgen.presets.preset_metadata(directory).items()
            if key not in kgen.presets.saving.COMPUTED_KEYS
        }
        tokenizer = (
            kgen.presets.load_tokenizer(directory)
            if kgen.presets.has_tokenizer(directory)
            else None
        )
        stored = kgen.presets.preset_metadata(directory)
        kgen.presets.save_to_preset(
            model,
            directory,
            card,
            overwrite=True,
            tokenizer=tokenizer,
            weights_dtype=stored.get("weights_dtype", "float32"),
        )
        print(f"{name}: {main_backend} -> {directory}")
        for backend in other_backends:
            subprocess.run(
                [sys.executable, __file__, "--add-reference", str(directory)],
                env=dict(os.environ, KERAS_BACKEND=backend),
                check=True,
            )
            print(f"{name}: {backend} reference added")
        print(f"{name}: {time.time() - start:.1f} s")


if __name__ == "__main__":
    main()
