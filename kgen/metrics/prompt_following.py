"""Does a text-to-image model draw what its prompt asks for?

On a captioned dataset (`kgen.datasets.load_captioned`), whose captions
name a class and attributes measured on the image (`captioned.
measure_attributes`): the class is judged by a classifier trained on the
real train images, each attribute by its own measurement, on the prompted
side of the prompted class' median over the real train images.
"""

import time

import keras
import numpy as np

from kgen import backend
from kgen import datasets
from kgen.datasets import captioned
from kgen.metrics.frechet_inception_distance import FrechetInceptionDistance
from kgen.metrics.kernel_inception_distance import KernelInceptionDistance

# Prompts per `generate` call: the memory of a batch, not a result.
_CHUNK = 250


def prompt_following(images, attributes, *, judge, medians, dataset="digits"):
    """The share of `images` that follow their prompts.

    Args:
        images: `(n, height, width, channels)` in `[0, 1]`.
        attributes: the prompts' `{"labels": (n,), attribute: (n,)}`, an
            attribute `1` (named high), `0` (named low) or `-1` (not
            named), as `load_captioned` gives them.
        judge: a classifier of the real images (`predict` -> class
            probabilities).
        medians: `{attribute: (num_classes,)}`, each class' median of the
            attribute over the real train images (`attribute_medians`).
        dataset: the captioned dataset's name.

    Returns:
        `{"class_accuracy", "<attribute>_accuracy" (over the prompts that
        name it), "all_correct" (class and every named attribute)}`.
    """
    labels = np.asarray(attributes["labels"])
    predicted = np.argmax(backend.predict(judge, images, verbose=0), axis=-1)
    row = {"class_accuracy": float(np.mean(predicted == labels))}
    measured = captioned.measure_attributes(dataset, images)
    correct_all = predicted == labels
    for attribute in captioned.ATTRIBUTES[dataset]:
        named = attributes[attribute] >= 0
        high = measured[attribute] > medians[attribute][labels]
        correct = high == (attributes[attribute] == 1)
        row[f"{attribute}_accuracy"] = float(np.mean(correct[named]))
        correct_all &= correct | ~named
    row["all_correct"] = float(np.mean(correct_all))
    return row


def attribute_medians(dataset, images, labels, num_classes=10):
    """`{attribute: (num_classes,)}`: each class' median of each measured
    attribute over `images` (`[0, 1]`)."""
    measured = captioned.measure_attributes(dataset, images)
    return {
        attribute: np.array(
            [np.median(values[labels == c]) for c in range(num_classes)]
        )
        for attribute, values in measured.items()
    }


def prompt_following_scores(
    model,
    captions,
    attributes,
    *,
    judge,
    features,
    num_prompts,
    guidance_scales,
    num_steps,
    dataset="digits",
):
    """`prompt_following` and domain FID / KID of a text-to-image model
    at each guidance scale, on prompts drawn from test captions.

    Draws `num_prompts` test captions and 200 captions of the held-out
    class-attribute combinations (which no training caption holds), and
    generates one image per prompt with DDIM-`num_steps`.

    Args:
        model: a `kgen.models.TextToImage` (its `generate`), images in
            `[-1, 1]`.
        captions: the test captions, `(n,)` strings.
        attributes: their attributes, with `held_out` marking the
            held-out combinations.
        judge: a classifier of the real images, such as
            `kgen.networks.fit_image_classifier(...)`.
        features: the feature extractor of domain FID / KID, such as
            `kgen.networks.classifier_features(load_preset(
            "digits_classifier"))`.
        num_prompts: int.
        guidance_scales: floats.
        num_steps: int.
        dataset: the captioned dataset's name.

    Returns:
        `(rows, info)`: a row per guidance scale (`prompt_following`,
        `held_out_class`, `held_out_all_correct`, `fid`, `kid`,
        `generate_s`), and the judge's test accuracy and the FID / KID
        floor (as many real train images against the real test images).
    """
    (real, real_labels), (real_test, real_test_labels) = datasets.load(dataset)
    predicted = np.argmax(backend.predict(judge, real_test, verbose=0), -1)
    judge_accuracy = float(np.mean(predicted == real_test_labels))
    medians = attribute_medians(dataset, real, real_labels)
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(captions), num_prompts)
    held = np.flatnonzero(attributes["held_out"])
    held_picks = held[rng.integers(0, len(held), 200)]
    # The floor at the generated set's size: FID is biased upwards for
    # small sets, so a floor of fewer images would sit too high.
    floor = _domain_scores(real[:num_prompts], real_test, features)

    def judged(picked, scale, seed):
        images = _generate(model, captions[picked], scale, num_steps, seed)
        row = prompt_following(
            images,
            {name: values[picked] for name, values in attributes.items()},
            judge=judge,
            medians=medians,
            dataset=dataset,
        )
        return images, row

    rows = []
    for scale in guidance_scales:
        start = time.time()
        images, judged_row = judged(picks, scale, seed=0)
        row = {
            "guidance_scale": scale,
            "generate_s": round(time.time() - start, 1),
        }
        row.update(judged_row)
        _, held_row = judged(held_picks, scale, seed=10_000)
        row["held_out_class"] = held_row["class_accuracy"]
        row["held_out_all_correct"] = held_row["all_correct"]
        row.update(_domain_scores(images, real_test, features))
        rows.append(row)
    info = {"judge_test_accuracy": judge_accuracy, "floor": floor}
    return rows, info


def _generate(model, prompts, scale, num_steps, seed):
    chunks = []
    for start in range(0, len(prompts), _CHUNK):
        images = model.generate(
            list(prompts[start : start + _CHUNK]),
            num_steps=num_steps,
            guidance_scale=scale,
            seed=seed + start,
        )
        chunks.append(keras.ops.convert_to_numpy(images))
    return (np.concatenate(chunks) + 1.0) / 2.0


def _domain_scores(images, reference, features):
    scores = {}
    for name, cls in (
        ("fid", FrechetInceptionDistance),
        ("kid", KernelInceptionDistance),
    ):
        metric = cls(feature_extractor=features)
        metric.set_reference(reference)
        metric.update_state(generated_images=images)
        scores[name] = float(np.asarray(metric.result()).reshape(-1)[0])
    return scores
