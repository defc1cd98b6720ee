"""The `kgen` command line: train, sample and export generative models.

kgen train dcgan --dataset digits --epochs 100 --out runs/dcgan
kgen data pack images/ shards/ --shards 16      # then kgen train --data shards/
kgen finetune ddpm_mnist --dataset fashion_mnist --out runs/lora  # LoRA
kgen sample runs/dcgan/model.keras -n 64 --out grid.png
kgen sample dcgan_digits -n 64 --out grid.png   # a shipped preset
kgen generate PRESET -n 100 --labels 0 1 2 3 4 5 6 7 8 9 --out grid.png
kgen generate PRESET "a thick slanted seven" -n 16 --out grid.png
kgen export runs/dcgan/model.keras exported/dcgan
kgen generate gpt_shakespeare --watermark-key 42 --out text.txt
kgen watermark detect gpt_shakespeare text.txt --key 42
kgen generate flow_matching_mnist --num-steps 50 --watermark-key 7 \
    --out marked.npy
kgen watermark detect flow_matching_mnist marked.npy --key 7 --num-steps 50
kgen presets                                    # the shipped presets
kgen presets vae_digits                         # one preset's model card
"""

import argparse
import sys

from kgen.cli import audit
from kgen.cli import data
from kgen.cli import evaluate
from kgen.cli import export
from kgen.cli import fetch_fid_inception
from kgen.cli import finetune
from kgen.cli import generate
from kgen.cli import presets
from kgen.cli import train
from kgen.cli import watermark

# The sample kinds and their files, which the tests read as
# `kgen.cli.<name>`.
from kgen.cli.generate import SAMPLE_FILES  # noqa: F401
from kgen.cli.generate import sample_kind  # noqa: F401
from kgen.cli.terminal import printable


def build_parser():
    parser = argparse.ArgumentParser(
        prog="kgen", description="Deep generative models for Keras 3."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    # The order of `kgen --help`.
    for command in (
        train,
        finetune,
        data,
        generate,
        evaluate,
        export,
        watermark,
        audit,
        presets,
        fetch_fid_inception,
    ):
        command.add_parser(commands)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (ValueError, OSError, RecursionError, MemoryError) as error:
        if isinstance(error, RecursionError):
            # A structure nested deeper than Python reads (a JSON file).
            error = ValueError("input nested too deep to read")
        if isinstance(error, MemoryError):
            error = ValueError(
                f"out of memory ({error or 'MemoryError'}); ask for fewer "
                "samples or a smaller model"
            )
        message = printable(" ".join(str(error).split("\n")))
        print(f"kgen {args.command}: error: {message}", file=sys.stderr)
        return 2


COMMANDS = {
    "train": train.train,
    "finetune": finetune.finetune,
    "data": data.pack,
    "sample": generate.sample,
    "generate": generate.sample,
    "evaluate": evaluate.evaluate,
    "export": export.export,
    "presets": presets.presets,
    "watermark": watermark.watermark,
    "audit": audit.audit,
    "fetch-fid-inception": fetch_fid_inception.fetch_fid_inception,
}
