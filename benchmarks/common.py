"""Shared bits of the benchmark scripts: tables, JSON results, and the
callbacks of a GPU job trained in resumable chunks."""

import json
import os
import platform
import time

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def environment():
    import keras

    return {
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }


def budget_callbacks(minutes, checkpoint_dir=None, save_freq="epoch"):
    """Stop on a NaN loss or after `minutes`; with `checkpoint_dir`, keep
    checkpoints every `save_freq` (steps, or "epoch") that a later chunk
    resumes from."""
    import keras

    import kgen

    callbacks = [
        keras.callbacks.TerminateOnNaN(),
        kgen.callbacks.TrainingBudget(minutes),
    ]
    if checkpoint_dir:
        callbacks.append(
            kgen.callbacks.BackupAndRestore(
                checkpoint_dir, save_freq=save_freq, delete_checkpoint=False
            )
        )
    return callbacks


def score_class_conditional_sampler(
    name, network_calls, draw, labels, distances, classifier, grid_path
):
    """One row of a class-conditional MNIST sampler table: `draw(n,
    labels, seed)` compiled on two samples, then timed on `labels` (seed
    1), stored as 8-bit pixels, scored by FID and KID (`distances`) and
    by `classifier`'s accuracy on the requested labels; the first 100
    samples written to `grid_path`."""
    import keras

    import kgen
    from benchmarks.diffusion_mnist import from_uint8
    from benchmarks.diffusion_mnist import to_uint8

    draw(2, [0, 1], 0)  # compiles
    start = time.time()
    samples = keras.ops.convert_to_numpy(draw(len(labels), labels, 1))
    seconds = time.time() - start
    samples = from_uint8(to_uint8(samples))
    fid_value, kid_value = distances(samples)
    predicted = classifier.predict((samples + 1) / 2, verbose=0)
    row = {
        "sampler": name,
        "network_calls": network_calls,
        "fid": fid_value,
        "kid": kid_value,
        "label_accuracy": float((predicted.argmax(1) == labels).mean()),
        "seconds": seconds,
    }
    print(row, flush=True)
    kgen.utils.save_image_grid(samples[:100], grid_path, value_range=(-1, 1))
    return row


def inception_distances(reference, value_range):
    """`distances(images) -> (fid, kid)` against `reference`, with the
    FID-Inception features of the reference computed once."""
    import kgen

    fid = kgen.metrics.FrechetInceptionDistance(value_range=value_range)
    kid = kgen.metrics.KernelInceptionDistance(
        value_range=value_range, subset_size=100
    )
    fid.set_reference(reference)
    kid.set_reference(reference)

    def distances(images):
        for metric in (fid, kid):
            metric.reset_state()
            metric.update_state(generated_images=images)
        return fid.result(), kid.result()

    return distances


def print_table(rows, columns):
    widths = [
        max(len(str(c)), *(len(_fmt(r.get(c))) for r in rows)) for c in columns
    ]
    print("  ".join(str(c).ljust(w) for c, w in zip(columns, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(
            "  ".join(
                _fmt(row.get(c)).ljust(w) for c, w in zip(columns, widths)
            )
        )


def write_json(name, payload):
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, f"{name}.json")
    with open(path, "w") as f:
        json.dump(dict(payload, environment=environment()), f, indent=2)
    print(f"wrote {path}")
    return path


def _fmt(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)
