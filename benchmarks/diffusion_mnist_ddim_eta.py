"""DDIM's eta on MNIST: how much per-step noise closes the gap to DDPM.

Loads the denoiser weights that `benchmarks.diffusion_mnist --model
W.weights.h5` saved, and scores DDIM at `--num-steps` steps for each eta
in `--etas` with the main benchmark's protocol: `--num-samples` samples
(balanced labels, seed 1, no guidance, stored as 8-bit pixels) against
the first 1,000 MNIST test images by FID and KID. eta 0 is the
deterministic sampler (the probability-flow ODE) and reproduces the main
benchmark's DDIM row; eta 1 injects the DDPM posterior's noise at every
step. One more row keeps eta 0 but leaves eps unclipped after x_0 is
clipped, as diffusers' DDIM does by default.

    KGEN_DATA_DIR=../shared/data python -m benchmarks.diffusion_mnist_ddim_eta \
        --model W.weights.h5 --widths 16,32,32 --ddpm-fid 19.29
"""

import time

import keras
import numpy as np

import kgen
from benchmarks.common import benchmark_parser
from benchmarks.common import environment
from benchmarks.common import from_uint8
from benchmarks.common import print_table
from benchmarks.common import row_pointers
from benchmarks.common import to_uint8
from benchmarks.common import write_json
from benchmarks.diffusion_mnist import build
from kgen.models.diffusion import diffusion_sampling


def ddim_settings(etas):
    """(name, DDIMScheduler arguments) per row; the model's own DDIM
    re-derives eps from the clipped x_0."""
    settings = [
        (f"eta={eta:g}", {"eta": eta, "use_clipped_model_output": True})
        for eta in etas
    ]
    settings.append(
        (
            "eta=0, eps unclipped",
            {"eta": 0.0, "use_clipped_model_output": False},
        )
    )
    return settings


def main():
    parser = benchmark_parser(
        widths=(32, 64, 64),  # must be those of the run that trained --model
        num_samples=500,
        num_steps=50,
    )
    parser.add_argument(
        "--model",
        required=True,
        help="the .weights.h5 of a `benchmarks.diffusion_mnist` run",
    )
    parser.add_argument(
        "--etas",
        type=lambda text: tuple(float(e) for e in text.split(",")),
        default=(0.0, 0.25, 0.5, 1.0),
    )
    parser.add_argument(
        "--ddpm-fid",
        type=float,
        help="the main benchmark's DDPM-1000 FID for the same weights, "
        "to report each row as a ratio of it",
    )
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    model = build(args.widths)
    model.denoiser.load_weights(args.model)
    _, (test_unit, _) = kgen.datasets.load("mnist")
    test = test_unit * 2 - 1
    labels = np.arange(args.num_samples) % 10
    fid = kgen.metrics.FrechetInceptionDistance(value_range=(-1, 1))
    kid = kgen.metrics.KernelInceptionDistance(
        value_range=(-1, 1), subset_size=100
    )
    fid.set_reference(test[:1000])
    kid.set_reference(test[:1000])
    ddim = diffusion_sampling.get_scheduler(model, "ddim").get_config()

    rows = []
    for name, arguments in ddim_settings(args.etas):
        sampler = kgen.schedulers.DDIMScheduler.from_config(
            dict(ddim, **arguments)
        )
        # A first, small call warms up, as in the main benchmark.
        model.sample(
            2, args.num_steps, scheduler=sampler, labels=labels[:2], seed=0
        )
        start = time.time()
        samples = keras.ops.convert_to_numpy(
            model.sample(
                args.num_samples,
                args.num_steps,
                scheduler=sampler,
                labels=labels,
                seed=1,
            )
        )
        seconds = time.time() - start
        images = from_uint8(to_uint8(samples))
        for metric in (fid, kid):
            metric.reset_state()
            metric.update_state(generated_images=images)
        row = {
            "setting": name,
            "fid": float(fid.result()),
            "kid": float(kid.result()),
            "seconds": seconds,
        }
        if args.ddpm_fid:
            row["fid / ddpm-1000"] = row["fid"] / args.ddpm_fid
        rows.append(row)
        print(row, flush=True)
    print_table(rows, list(rows[0]))
    write_json(
        f"diffusion_mnist_ddim_eta_{keras.backend.backend()}",
        {
            "model": args.model,
            "num_samples": args.num_samples,
            "num_steps": args.num_steps,
            "ddpm_1000_fid": args.ddpm_fid,
            "rows": rows,
            "environment": environment(),
        },
        headline={
            "title": f"DDIM-{args.num_steps}'s eta on MNIST: how much "
            "per-step noise closes the gap to DDPM-1000",
            "values": {
                **row_pointers(rows, "setting", {"FID": "fid"}),
                **(
                    {"DDPM-1000 FID": "/ddpm_1000_fid"} if args.ddpm_fid else {}
                ),
            },
            "peer": "DDPM-1000 on the same weights",
        },
    )


if __name__ == "__main__":
    main()
