"""`sample` of the presets that draw in a loop of network calls (pixel by
pixel, token by token, chain step by chain step), compiled once per
model and options, against the same loop run from Python, on the backend
in use:

    python -m benchmarks.loop_sampling [--num-samples 16] [--dry-run]

The peer is the loop as `sample` ran it before it went through
`kgen.backend.inference_program`: `ops.fori_loop` called eagerly, which
on TensorFlow steps a `tf.while_loop` op by op from Python and on JAX
traces and compiles the loop again at every call. Both run in this
process, one after the other, each timed at its first call (where the
compiled side traces and compiles) and after it, read back to the host
(JAX returns before it computes). On torch both are the same eager loop,
so the script refuses it. Writes results/loop_sampling_<backend>.json
(not with `--dry-run`, which times one small preset at two samples).
"""

import time

import numpy as np

from benchmarks.common import benchmark_parser
from benchmarks.common import print_table
from benchmarks.common import row_pointers
from benchmarks.common import write_json

PRESETS = (
    "pixel_cnn_mnist",
    "vqvae_pixel_cnn_mnist",
    "vqvae_mask_git_mnist",
    "masked_diffusion_chorales",
    "gpt_shakespeare",
    "rbm_mnist",
    "jem_digits",
)


def eager_program(owner, key, function, *args):
    """`backend.inference_program` as the loops ran before: the function
    called on the spot, nothing compiled or kept."""
    return function(owner, *args)


def seconds_per_call(model, num_samples, repeats):
    """The first call's seconds (the compiled side traces and compiles
    there) and the mean of `repeats` calls after it."""
    import keras

    def call(seed):
        began = time.perf_counter()
        keras.ops.convert_to_numpy(model.sample(num_samples, seed=seed))
        return time.perf_counter() - began

    first = call(0)
    later = [call(seed) for seed in range(1, repeats + 1)]
    return first, sum(later) / repeats


def measure(preset, num_samples, repeats):
    import kgen
    from kgen import backend

    model = kgen.models.GenerativeModel.from_preset(preset)
    compiled_program = backend.inference_program
    compiled_first, compiled = seconds_per_call(model, num_samples, repeats)
    backend.inference_program = eager_program
    try:
        eager_first, eager = seconds_per_call(model, num_samples, repeats)
    finally:
        backend.inference_program = compiled_program
    return {
        "preset": preset,
        "num_samples": num_samples,
        "compiled_first_seconds": round(compiled_first, 3),
        "eager_first_seconds": round(eager_first, 3),
        "compiled_seconds": round(compiled, 3),
        "eager_seconds": round(eager, 3),
        "speedup": round(eager / compiled, 2),
    }


def main():
    parser = benchmark_parser(
        description=__doc__.split("\n")[0],
        num_samples=16,
        repeats=1,
        dry_run=False,
    )
    args = parser.parse_args()
    import keras

    name = keras.backend.backend()
    if name == "torch":
        parser.error("on torch both sides are the same eager loop")
    if args.dry_run:
        rows = [measure("gpt_shakespeare", 2, 1)]
    else:
        rows = [
            measure(preset, args.num_samples, args.repeats)
            for preset in PRESETS
        ]
    print_table(rows, list(rows[0]))
    if args.dry_run:
        return
    speedups = [row["speedup"] for row in rows]
    write_json(
        f"loop_sampling_{name}",
        {"backend": name, "rows": rows},
        headline={
            "title": f"Loop samplers compiled once, {name} "
            f"(sample({args.num_samples}) seconds, speed-up over eager)",
            "values": row_pointers(rows, "preset", "speedup"),
            "peer": "the same loop called eagerly (ops.fori_loop)",
            "notes": f"speed-ups {min(speedups)}x to {max(speedups)}x; "
            f"geometric mean {np.exp(np.mean(np.log(speedups))):.2f}x",
        },
    )


if __name__ == "__main__":
    main()
