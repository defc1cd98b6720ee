"""The `kgen` command line, run in-process through `kgen.cli.main`."""

import importlib.util
import json
import os
import re
import zipfile

import keras
import numpy as np
import pytest
from PIL import Image

import kgen
from kgen import cli
from kgen.presets.architectures import architecture
from kgen.presets.architectures import list_architectures
from tests.conftest import BACKEND
from tests.models import contract_cases
from tests.models.diffusion.test_flow_matching import (
    small_model as flow_matching_model,
)
from tests.presets.test_sample_defaults import wave_net_preset


@pytest.fixture(scope="module")
def trained_vae(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("cli") / "vae")
    code = cli.main(
        [
            "train",
            "vae",
            "--epochs",
            "2",
            "--out",
            out,
            "--quiet",
            "--grid-every",
            "1",
        ]
    )
    assert code == 0
    return out


def test_train_writes_model_grid_and_saved_model(trained_vae, capsys):
    files = set(os.listdir(trained_vae))
    assert {"model.keras", "samples.png", "grids"} <= files
    assert sorted(os.listdir(os.path.join(trained_vae, "grids"))) == [
        "samples_epoch_0001.png",
        "samples_epoch_0002.png",
    ]
    if BACKEND != "torch":
        version = os.path.join(trained_vae, "saved_model", "1")
        assert os.path.isfile(os.path.join(version, "saved_model.pb"))
    assert not [
        n
        for n in os.listdir(os.path.dirname(trained_vae))
        if n.startswith(".kgen-train-")
    ]


def test_the_final_grid_is_the_saved_model_s_draw(trained_vae, tmp_path):
    def pixels(path):
        return np.asarray(Image.open(path))

    samples = pixels(os.path.join(trained_vae, "samples.png"))
    last_grid = os.path.join(trained_vae, "grids", "samples_epoch_0002.png")
    np.testing.assert_array_equal(samples, pixels(last_grid))
    # The model beside it draws the same grid (the callback's 64 samples,
    # --seed 0): the copy is the final weights' picture.
    model = keras.saving.load_model(os.path.join(trained_vae, "model.keras"))
    drawn = kgen.utils.save_image_grid(
        model.sample(64, seed=0), str(tmp_path / "drawn.png")
    )
    np.testing.assert_array_equal(samples, pixels(drawn))


def test_train_writes_tensorboard_logs(trained_vae):
    from tensorboard.backend.event_processing import event_accumulator

    events = event_accumulator.EventAccumulator(
        os.path.join(trained_vae, "logs", "train"),
        size_guidance={event_accumulator.TENSORS: 0},
    )
    events.Reload()
    tags = events.Tags()["tensors"]
    for tag in ("epoch_loss", "epoch_kl_loss", "epoch_reconstruction_loss"):
        assert [e.step for e in events.Tensors(tag)] == [0, 1], tags
    assert "epoch_learning_rate" in tags and "epoch_steps_per_second" in tags
    assert "epoch_examples_per_second" in tags
    # The grid of each epoch (--grid-every 1), as an image.
    assert [e.step for e in events.Tensors("samples")] == [0, 1]


def test_sample_writes_a_grid(trained_vae, tmp_path):
    grid = os.path.join(tmp_path, "grid.png")
    model = os.path.join(trained_vae, "model.keras")
    assert cli.main(["sample", model, "-n", "16", "--out", grid]) == 0
    assert np.asarray(Image.open(grid)).shape == (4 * 32 + 3, 4 * 32 + 3)


@pytest.mark.skipif(BACKEND == "torch", reason="export: TF and JAX only")
def test_export_command(trained_vae, tmp_path):
    base = os.path.join(tmp_path, "served")
    model = os.path.join(trained_vae, "model.keras")
    assert cli.main(["export", model, base, "--version", "7"]) == 0
    assert os.listdir(base) == ["7"]
    assert cli.main(["export", model, base, "--version", "7"]) == 2


@pytest.mark.parametrize(
    "data, message",
    [
        (np.full((40, 8, 8, 1), np.nan, "float32"), "non-finite"),
        (np.zeros((40, 64), "float32"), "(n, height, width[, channels])"),
        (np.full((40, 8, 8, 1), 7.0, "float32"), r"[0.0, 1.0]"),
    ],
)
def test_bad_data_fails_cleanly_and_writes_nothing(
    data, message, tmp_path, capsys
):
    data_file = os.path.join(tmp_path, "bad.npy")
    np.save(data_file, data)
    out = os.path.join(tmp_path, "run")
    code = cli.main(
        ["train", "dcgan", "--data", data_file, "--epochs", "1", "--out", out]
    )
    assert code == 2
    assert message in capsys.readouterr().err
    assert not os.path.exists(out)
    assert os.listdir(tmp_path) == ["bad.npy"]


# Presets that train on images alone (from a `--data` file); those sized
# for MNIST (the shipped presets' architectures) train here under -m large,
# and so do the digits architectures that take CI 40-55 s each (their
# classes fit, sample and export in tests/models/test_contract.py; the
# command's own path is the same for every preset). CI's digits
# architectures export under TensorFlow; the large ones train under torch,
# which writes no SavedModel: their classes export in the contract harness
# and their trained presets in tests/test_saved_models.py, and the sweep's
# worker time under TensorFlow went to tracing and export.
# A text architecture (`trained_by` a recipe) is not `kgen train`'s.
SLOW_TO_TRAIN = ("ddpm", "flow_matching", "pixel_cnn")
IMAGE_ARCHITECTURES = [
    pytest.param(
        name,
        marks=pytest.mark.tensorflow_only
        if architecture(name)["data"]["dataset"] == "digits"
        and name not in SLOW_TO_TRAIN
        else (pytest.mark.large, pytest.mark.torch_only),
    )
    for name in list_architectures()
    if not architecture(name).get("captioned")
    and "trained_by" not in architecture(name)
]


@pytest.mark.parametrize("preset", IMAGE_ARCHITECTURES)
def test_every_architecture_preset_trains_samples_and_exports(
    preset, digits, tmp_path, capsys
):
    data_file = os.path.join(tmp_path, "digits.npy")
    np.save(data_file, digits[0][:40])
    out = os.path.join(tmp_path, preset)
    # The 8x8 digits train every architecture, at their size.
    arguments = ["train", preset, "--data", data_file, "--image-size", "8"]
    arguments += ["--out", out]
    code = cli.main(arguments + ["--epochs", "1", "--quiet", "--seed", "3"])
    assert code == 0
    written = {"model.keras", "samples.png", "grids"}
    if BACKEND != "torch":  # torch's `kgen train` exports nothing
        written.add("saved_model")
    assert written <= set(os.listdir(out))
    assert np.asarray(Image.open(os.path.join(out, "samples.png"))).ndim == 2
    model = keras.saving.load_model(os.path.join(out, "model.keras"))
    assert type(model).__name__ == architecture(preset)["class_name"]
    # A class-conditional architecture trains on unlabelled images without
    # its classes, and says so.
    conditional = architecture(preset)["arguments"].get("num_classes")
    assert ("holds no labels" in capsys.readouterr().out) == bool(conditional)
    if conditional:
        assert model.num_classes is None


# 40 s of training under TensorFlow: a U-Net fits on the digits' labels
# (under torch, where the sweep above trains its U-Nets).
@pytest.mark.large
@pytest.mark.torch_only
def test_a_class_conditional_architecture_trains_on_its_labels(tmp_path):
    out = os.path.join(tmp_path, "ddpm")
    arguments = ["train", "ddpm_mnist_small_untrained", "--dataset", "digits"]
    arguments += ["--epochs", "1", "--quiet", "--out", out]
    assert cli.main(arguments) == 0
    model = keras.saving.load_model(os.path.join(out, "model.keras"))
    assert model.num_classes == 10


@pytest.mark.tensorflow_only
def test_text_to_image_refuses_images_without_captions(
    digits, tmp_path, capsys
):
    data_file = os.path.join(tmp_path, "digits.npy")
    np.save(data_file, digits[0][:40])
    arguments = ["train", "text_to_image", "--epochs", "1", "--quiet"]
    out = os.path.join(tmp_path, "out")
    assert cli.main(arguments + ["--data", data_file, "--out", out]) == 2
    assert "trains on captioned images" in capsys.readouterr().err
    assert not os.path.exists(out)


# A minute and a half of training: the model, its fit on captions and its
# string signature are proven in tests/models/diffusion/test_text_to_image.py.
@pytest.mark.large
def test_text_to_image_trains_on_captions_and_serves_prompts(
    digits, tmp_path, capsys
):
    import tensorflow as tf

    out = os.path.join(tmp_path, "t2i")
    arguments = ["train", "text_to_image", "--epochs", "1", "--quiet"]
    assert cli.main(arguments + ["--dataset", "digits", "--out", out]) == 0
    assert "digits (captioned)" in capsys.readouterr().out
    model = keras.saving.load_model(os.path.join(out, "model.keras"))
    assert isinstance(model, kgen.models.TextToImage)
    served = tf.saved_model.load(os.path.join(out, "saved_model", "1"))
    images = served.signatures["generate_text"](
        noise=tf.zeros((2, 8, 8, 1)), prompts=tf.constant(["a 7", "two"])
    )
    assert next(iter(images.values())).shape == (2, 8, 8, 1)
    data_file = os.path.join(tmp_path, "digits.npy")
    np.save(data_file, digits[0][:40])
    other = os.path.join(tmp_path, "other")
    assert cli.main(arguments + ["--data", data_file, "--out", other]) == 2
    assert "trains on captioned images" in capsys.readouterr().err


def test_latent_dim_only_where_the_preset_has_one(capsys):
    arguments = ["train", "rbm", "--latent-dim", "4", "--out", "unused"]
    assert cli.main(arguments) == 2
    assert "--latent-dim does not apply" in capsys.readouterr().err
    assert cli.main(["train", "nope", "--out", "unused"]) == 2
    assert "'dcgan'" in capsys.readouterr().err
    assert not os.path.exists("unused")


def test_refuses_to_overwrite_a_previous_run(trained_vae, capsys):
    code = cli.main(["train", "vae", "--epochs", "1", "--out", trained_vae])
    assert code == 2
    assert "--overwrite" in capsys.readouterr().err


def test_sample_takes_a_preset_name(tmp_path, capsys):
    grid = os.path.join(tmp_path, "grid.png")
    assert cli.main(["sample", "dcgan_digits", "-n", "4", "--out", grid]) == 0
    assert np.asarray(Image.open(grid)).shape == (2 * 32 + 1, 2 * 32 + 1)


def test_generate_draws_the_given_classes(tmp_path, capsys):
    model = contract_cases.CASES["GAN[conditional]"]().model
    path = str(tmp_path / "model.keras")
    model.save(path)
    grid = str(tmp_path / "grid.png")
    arguments = ["generate", path, "-n", "4", "--out", grid, "--seed", "3"]
    assert cli.main(arguments + ["--labels", "1", "2"]) == 0
    expected = kgen.utils.save_image_grid(
        model.sample(4, seed=3, labels=[1, 2, 1, 2]),
        str(tmp_path / "expected.png"),
    )
    np.testing.assert_array_equal(
        np.asarray(Image.open(grid)), np.asarray(Image.open(expected))
    )
    assert cli.main(arguments + ["--labels", "10"]) == 2
    assert "`--labels` must lie in [0, 3)" in capsys.readouterr().err
    # A column per label: 4 samples of 3 classes are 2 rows of 3 columns
    # (a square grid is 2 by 2).
    assert cli.main(arguments + ["--labels", "0", "1", "2"]) == 0
    assert Image.open(grid).size[0] > Image.open(grid).size[1]


@pytest.mark.tensorflow_only
def test_generate_draws_every_image_for_the_prompt(tmp_path, capsys):
    model = contract_cases.CASES["TextToImage"]().model
    path = str(tmp_path / "model.keras")
    model.save(path)
    grid = str(tmp_path / "grid.png")
    arguments = ["generate", path, "-n", "4", "--out", grid, "--seed", "3"]
    guided = ["--guidance-scale", "2"]
    assert (
        cli.main(arguments[:2] + ["a thick two"] + arguments[2:] + guided) == 0
    )
    expected = kgen.utils.save_image_grid(
        model.sample(4, seed=3, prompts="a thick two", guidance_scale=2.0),
        str(tmp_path / "expected.png"),
        value_range=(-1, 1),
    )
    np.testing.assert_array_equal(
        np.asarray(Image.open(grid)), np.asarray(Image.open(expected))
    )
    assert cli.main(arguments + ["--prompt", "a zebra"]) == 2
    assert "`prompts` holds 1 words outside" in capsys.readouterr().err
    assert (
        cli.main(arguments[:2] + ["two"] + arguments[2:] + ["--prompt", "two"])
        == 2
    )
    assert "Give the prompt once" in capsys.readouterr().err


def test_generate_refuses_labels_for_an_unconditional_model(tmp_path, capsys):
    grid = os.path.join(tmp_path, "grid.png")
    arguments = ["generate", "dcgan_digits", "--labels", "3", "--out", grid]
    assert cli.main(arguments) == 2
    assert "`--labels` needs a class-conditional model" in (
        capsys.readouterr().err
    )
    assert not os.path.exists(grid)


# === generate: text, 2-D points, audio, every shipped preset ===


def character_gpt_preset(directory, alphabet, sequence_length):
    """A one-layer `GPT` over the characters of `alphabet`, saved with its
    `CharacterTokenizer` as a preset folder."""
    model = kgen.models.GPT(
        len(alphabet), sequence_length, num_layers=1, num_heads=2, hidden_dim=8
    )
    tokenizer = kgen.tokenizers.CharacterTokenizer(alphabet)
    kgen.presets.save_to_preset(model, directory, tokenizer=tokenizer)


def test_generate_writes_the_text_of_a_model_with_a_tokenizer(tmp_path, capsys):
    directory = str(tmp_path / "gpt")
    character_gpt_preset(directory, "abcde", 8)
    out = str(tmp_path / "text.txt")
    arguments = ["generate", directory, "-n", "2", "--length", "6"]
    assert cli.main(arguments + ["--out", out]) == 0
    with open(out, encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert lines[0::2] == ["--- sample 0", "--- sample 1"]
    assert all(len(t) == 6 and set(t) <= set("abcde") for t in lines[1::2])
    assert cli.main(arguments + ["--prompt", "dab", "--out", out]) == 0
    with open(out, encoding="utf-8") as f:
        texts = f.read().splitlines()[1::2]
    assert [t[:3] for t in texts] == ["dab", "dab"]
    assert all(len(t) == 6 for t in texts)
    capsys.readouterr()
    assert cli.main(arguments + ["--out", str(tmp_path / "text.png")]) == 2
    assert "`--out` must be a .txt (or .npy) path" in capsys.readouterr().err
    assert cli.main(arguments + ["--prompt", "abcdea", "--out", out]) == 2
    assert "`--prompt` must hold 1 to 5 characters" in capsys.readouterr().err
    assert cli.main(arguments + ["--prompt", "abz", "--out", out]) == 2
    assert "`--prompt` holds 1 characters outside" in capsys.readouterr().err


def tiny_sequence_preset(directory, tokenizer, representation, **options):
    """A one-layer `GPT` over `tokenizer`'s sequences, saved as a preset
    folder whose card names its `representation`. Returns the model."""
    model = kgen.models.GPT(
        tokenizer.vocabulary_size,
        tokenizer.sequence_length,
        num_layers=1,
        num_heads=2,
        hidden_dim=8,
        start_id=tokenizer.bos_id,
        **options,
    )
    name = os.path.basename(directory)
    card = {"name": name, "data": {"representation": representation}}
    kgen.presets.save_to_preset(model, directory, card, tokenizer=tokenizer)
    return model


def assert_one_row_a_line(path, tokenizer, rows):
    """The text file `path` holds each of `rows` detokenized, a line each."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    expected = tokenizer.detokenize(keras.ops.convert_to_numpy(rows))
    assert lines == expected + [""]


@pytest.mark.tensorflow_only
def test_generate_writes_one_smiles_per_line_and_evaluate_scores_them(
    tmp_path, capsys
):
    tokenizer = kgen.tokenizers.SmilesTokenizer.from_smiles(
        ["CCO", "c1ccccc1Cl", "CC(=O)N"], sequence_length=10
    )
    directory = str(tmp_path / "molecules")
    model = tiny_sequence_preset(directory, tokenizer, "SMILES")
    out = str(tmp_path / "molecules.smi")
    assert cli.main(["generate", directory, "-n", "5", "--out", out]) == 0
    # Five lines, each the detokenized row (invalid molecules kept).
    rows = model.sample(5, seed=keras.random.SeedGenerator(0))
    assert_one_row_a_line(out, tokenizer, rows)
    pytest.importorskip("rdkit", reason="MOSES' metrics need RDKit")
    try:
        kgen.datasets.moses_data_file("train.csv.gz")
    except FileNotFoundError as error:
        pytest.skip(str(error))
    capsys.readouterr()
    evaluate = ["evaluate", directory, "--metric", "moses", "-n", "20"]
    assert cli.main(evaluate) == 0
    printed = capsys.readouterr().out
    assert "validity: " in printed and "novelty: " in printed
    assert (
        cli.main(evaluate[:2] + ["--metric", "fid", "--metric", "moses"]) == 2
    )
    assert "takes no other metric" in capsys.readouterr().err
    assert cli.main(["evaluate", "dcgan_digits", "--metric", "moses"]) == 2
    assert "needs a model of molecules" in capsys.readouterr().err


@pytest.mark.tensorflow_only
def test_generate_writes_one_peptide_per_line_and_evaluate_scores_them(
    tmp_path, capsys
):
    tokenizer = kgen.tokenizers.AminoAcidTokenizer(
        list(kgen.tokenizers.AMINO_ACIDS), 12
    )
    directory = str(tmp_path / "peptides")
    model = tiny_sequence_preset(
        directory, tokenizer, "amino acids", num_classes=2
    )
    out = str(tmp_path / "peptides.txt")
    generate = ["generate", directory, "-n", "4", "--labels", "1"]
    assert cli.main(generate + ["--out", out]) == 0
    rows = model.sample(4, seed=keras.random.SeedGenerator(0), labels=1)
    assert_one_row_a_line(out, tokenizer, rows)
    try:
        kgen.datasets.load_peptides()
    except FileNotFoundError as error:
        pytest.skip(str(error))
    capsys.readouterr()
    evaluate = ["evaluate", directory, "--metric", "peptides", "-n", "20"]
    assert cli.main(evaluate) == 0
    printed = capsys.readouterr().out
    assert "antimicrobial_fraction: " in printed and "novelty: " in printed
    assert cli.main(evaluate[:2] + ["--metric", "moses"]) == 2
    assert "needs a model of molecules" in capsys.readouterr().err


@pytest.mark.tensorflow_only
def test_watermarked_text_is_detected_with_its_key_only(tmp_path, capsys):
    directory = str(tmp_path / "gpt")
    character_gpt_preset(directory, "abcdefgh", 64)
    marked, plain = str(tmp_path / "marked.txt"), str(tmp_path / "plain.txt")
    arguments = ["generate", directory, "-n", "3", "--length", "64"]
    watermark = ["--watermark-key", "42", "--watermark-delta", "4"]
    assert cli.main(arguments + watermark + ["--out", marked]) == 0
    assert cli.main(arguments + ["--out", plain]) == 0
    capsys.readouterr()
    detect = ["watermark", "detect", directory]
    assert cli.main(detect + [marked, "--key", "42"]) == 0
    assert "3 of 3 samples watermarked" in capsys.readouterr().out
    assert cli.main(detect + [plain, "--key", "42"]) == 0
    assert "0 of 3 samples watermarked" in capsys.readouterr().out
    assert cli.main(detect + [marked, "--key", "43"]) == 0
    assert "0 of 3 samples watermarked" in capsys.readouterr().out
    grid = str(tmp_path / "grid.png")
    assert (
        cli.main(["generate", "dcgan_digits"] + watermark + ["--out", grid])
        == 2
    )
    assert "`--watermark-key` needs a token model" in capsys.readouterr().err


@pytest.fixture(scope="module")
def flow_preset(tmp_path_factory):
    """`(preset directory, .keras file)` of one class-conditional 8x8
    flow-matching model, written once for the tests that read it: writing
    a preset draws its reference samples, the slow part."""
    folder = tmp_path_factory.mktemp("flow_preset")
    model = flow_matching_model(num_classes=10)
    directory, keras_file = str(folder / "flow"), str(folder / "flow.keras")
    kgen.presets.save_to_preset(
        model, directory, metadata={"sample_arguments": {"num_steps": 3}}
    )
    model.save(keras_file)
    return directory, keras_file


@pytest.mark.tensorflow_only
@pytest.mark.xdist_group("flow_preset")
def test_watermarked_images_are_detected_with_their_key_only(
    flow_preset, tmp_path, capsys
):
    directory, _ = flow_preset
    marked, plain = str(tmp_path / "marked.npy"), str(tmp_path / "plain.npy")
    arguments = ["generate", directory, "-n", "3", "--num-steps", "5"]
    watermark = ["--watermark-key", "7", "--watermark-radius", "3"]
    watermark += ["--watermark-inner-radius", "1"]
    assert cli.main(arguments + watermark + ["--out", marked]) == 0
    assert cli.main(arguments + ["--out", plain]) == 0
    capsys.readouterr()
    detect = ["watermark", "detect", directory]
    options = ["--radius", "3", "--inner-radius", "1", "--num-steps", "5"]

    def z_scores(path, key):
        assert cli.main(detect + [path, "--key", key] + options) == 0
        out = capsys.readouterr().out
        assert "of 3 samples watermarked" in out
        return [float(z) for z in re.findall(r"z (-?[\d.]+)", out)]

    # An untrained 8x8 flow: the key comes back, weaker than on MNIST.
    # (Another key's z-scores: tests/watermarks.)
    assert min(z_scores(marked, "7")) > max(z_scores(plain, "7"))
    out = str(tmp_path / "grid.png")
    steps = ["--num-steps", "5", "--out", out]
    assert cli.main(["generate", "dcgan_digits"] + steps) == 2
    assert "`--num-steps` needs a model sampled in steps" in (
        capsys.readouterr().err
    )


@pytest.mark.tensorflow_only
@pytest.mark.xdist_group("flow_preset")
def test_every_command_reads_model_the_same_three_ways(
    flow_preset, tmp_path, capsys
):
    """Issue 44, case 5: a `.keras` file is a MODEL for `watermark
    detect` as for `generate` (it was read as a preset name)."""
    directory, keras_file = flow_preset
    marked = str(tmp_path / "marked.npy")
    assert (
        cli.main(
            ["generate", keras_file, "-n", "2", "--num-steps", "3"]
            + ["--watermark-key", "7", "--watermark-radius", "3"]
            + ["--watermark-inner-radius", "1", "--out", marked]
        )
        == 0
    )
    capsys.readouterr()
    outputs = []
    options = ["--radius", "3", "--inner-radius", "1", "--num-steps", "3"]
    for path in (keras_file, directory):
        detect = ["watermark", "detect", path, marked, "--key", "7"]
        assert cli.main(detect + options) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] and "of 2 samples watermarked" in outputs[0]
    assert cli.main(["watermark", "detect", keras_file, marked]) == 2
    assert "`--key` is needed" in capsys.readouterr().err
    not_a_model = str(tmp_path / "vectors.keras")
    keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]).save(
        not_a_model
    )
    for command in (["export", not_a_model, str(tmp_path / "x")],):
        assert cli.main(command) == 2
        assert "not a kgen generative model" in capsys.readouterr().err
    detect = ["watermark", "detect", not_a_model, marked, "--key", "7"]
    assert cli.main(detect) == 2
    assert "or a trained watermark" in capsys.readouterr().err


def test_generate_draws_2d_points_as_a_scatter_plot(tmp_path, capsys):
    model = contract_cases.CASES["NeuralSplineFlow"]().model
    directory = str(tmp_path / "flow")
    kgen.presets.save_to_preset(model, directory)
    out = str(tmp_path / "points.png")
    assert cli.main(["generate", directory, "-n", "200", "--out", out]) == 0
    picture = np.asarray(Image.open(out))
    assert picture.shape == (512, 512) and picture.dtype == np.uint8
    assert 0 < (picture < 255).sum() <= 200  # a pixel per point at most
    assert cli.main(["generate", directory, "--prompt", "a", "--out", out]) == 2
    assert "`--prompt` needs a text model" in capsys.readouterr().err


def test_generate_writes_the_clips_of_a_video_model_as_a_gif(tmp_path):
    denoiser = kgen.networks.video_unet_denoiser(
        (3, 8, 8, 1), widths=(4,), num_heads=2, timestep_dtype="float32"
    )
    directory = str(tmp_path / "video")
    kgen.presets.save_to_preset(
        kgen.models.FlowMatching(denoiser, seed=0),
        directory,
        {"sample_arguments": {"num_steps": 2}},
    )
    out = str(tmp_path / "clips.gif")
    assert cli.main(["generate", directory, "-n", "4", "--out", out]) == 0
    with Image.open(out) as gif:
        assert gif.n_frames == 3
        assert gif.size == (2 * 32 + 1, 2 * 32 + 1)  # 2x2 clips, 4x scale
    assert cli.main(["generate", directory, "--out", "clips.png"]) == 2


def test_generate_writes_molecules_in_3d_as_sdf_xyz_and_a_picture(
    tmp_path, capsys
):
    pytest.importorskip("rdkit")
    model = kgen.models.EquivariantDiffusion(
        kgen.networks.egnn(6, hidden_dim=4, num_layers=1, max_atoms=5),
        atom_counts=[0, 0, 1, 1, 1, 1],
        seed=0,
    )
    directory = str(tmp_path / "molecules")
    kgen.presets.save_to_preset(
        model, directory, {"sample_arguments": {"num_steps": 3}}
    )
    sdf, xyz, png = (str(tmp_path / f"mols.{e}") for e in ("sdf", "xyz", "png"))
    for out in (sdf, xyz, png):
        arguments = ["generate", directory, "-n", "5", "--out", out]
        assert cli.main(arguments) == 0
    assert len(kgen.utils.read_sdf(sdf)) == 5
    read, _ = kgen.utils.read_xyz(xyz)
    assert len(read) == 5
    assert all(set(elements) <= set("HCNOF") for elements, _ in read)
    with Image.open(png) as picture:
        assert picture.size == (4 * 220, 2 * 220)
    arguments = ["generate", directory, "--out", str(tmp_path / "mols.txt")]
    assert cli.main(arguments) == 2
    if importlib.util.find_spec("qm9pack") is None:
        return  # novelty is against QM9's training molecules
    arguments = ["evaluate", directory, "--metric", "molecules_3d", "-n", "4"]
    assert cli.main(arguments) == 0
    printed = capsys.readouterr().out
    for name in ("atom_stability", "molecule_stability", "validity"):
        assert f"{name}: " in printed


def test_generate_joins_audio_clips_into_one_wav(tmp_path):
    directory = str(tmp_path / "wave_net")
    wave_net_preset(directory)
    out = str(tmp_path / "clips.wav")
    assert cli.main(["generate", directory, "-n", "3", "--out", out]) == 0
    audio, rate = kgen.utils.load_wav(out)
    assert rate == 800
    assert audio.shape == (3 * (6 + 200),)  # each clip, then 0.25 s silence
    assert np.all(audio[6:206] == 0) and np.abs(audio).max() <= 1


def test_generate_writes_a_gan_clips_and_evaluate_scores_them(tmp_path):
    # A WaveGAN's samples are audio in [-1, 1], not mu-law levels.
    directory = str(tmp_path / "wave_gan")
    kgen.presets.save_to_preset(
        contract_cases.CASES["WaveGAN"]().model,
        directory,
        {"data": {"sample_rate": 8000}},
    )
    out = str(tmp_path / "clips.wav")
    assert cli.main(["generate", directory, "-n", "2", "--out", out]) == 0
    audio, rate = kgen.utils.load_wav(out)
    assert rate == 8000 and audio.shape == (2 * (1024 + 2000),)
    assert np.abs(audio[:1024]).max() > 0 and np.all(audio[1024:3024] == 0)
    classifier = str(tmp_path / "classifier")
    kgen.presets.save_to_preset(
        kgen.networks.audio_classifier(1024, 3), classifier
    )
    arguments = ["evaluate", directory, "--metric", "is", "-n", "20"]
    code = cli.main(arguments + ["--classifier", classifier])
    assert code == 0


def test_generate_writes_a_music_model_as_midi(tmp_path, capsys):
    music21 = pytest.importorskip("music21")
    network = kgen.networks.masked_token_transformer(
        (8, 4), 4, width=8, num_layers=1, num_heads=2
    )
    directory = str(tmp_path / "chorales")
    kgen.presets.save_to_preset(
        kgen.models.MaskedDiffusion(network, seed=0),
        directory,
        {
            "data": {
                "lowest_pitch": 60,
                "voices": ["Soprano", "Alto", "Tenor", "Bass"],
            },
            "sample_arguments": {"num_steps": 2},
        },
    )
    out = str(tmp_path / "chorale.mid")
    assert cli.main(["generate", directory, "-n", "2", "--out", out]) == 0
    score = music21.converter.parse(out)
    assert [part.partName for part in score.parts] == [
        "Soprano",
        "Alto",
        "Tenor",
        "Bass",
    ]
    pitches = [
        n.pitch.midi for part in score.parts for n in part.flatten().notes
    ]
    # Tokens 1-3 are pitches 60-62; token 0 is a rest.
    assert pitches and set(pitches) <= {60, 61, 62}
    assert cli.main(["generate", directory, "--out", "chorale.png"]) == 2
    assert ".mid" in capsys.readouterr().err


def test_generate_takes_the_sample_range_from_the_card(tmp_path):
    # A GAN built from any generator does not know its output range; the
    # dcgan_mnist card says [-1, 1].
    model = kgen.presets.load_preset("dcgan_mnist")
    assert model.data_range is None
    grid = str(tmp_path / "grid.png")
    assert cli.main(["generate", "dcgan_mnist", "-n", "4", "--out", grid]) == 0
    expected = kgen.utils.save_image_grid(
        model.sample(4, seed=0), str(tmp_path / "e.png"), value_range=(-1, 1)
    )
    np.testing.assert_array_equal(
        np.asarray(Image.open(grid)), np.asarray(Image.open(expected))
    )


# Presets whose `generate` takes the image path of the cheaper image
# presets here, at 10-30 s of compiled sampling each; tests/presets draws
# their samples on every backend, and `-m release` generates them here too.
SLOW_IMAGE_PRESETS = (
    "consistency_mnist",
    "ddpm_mnist",
    "flow_matching_emoji",
    "rbm_mnist",
    "text_to_image_digits",
    "text_to_image_emoji",
    "vqvae_pixel_cnn_mnist",
    # The GIF path is the tiny video model's above.
    "video_diffusion_moving_mnist",
)
# Token presets whose kind of output the tests above write from tiny
# models of the same kind (text, SMILES, peptides) at 10-15 s less each;
# tests/presets draws their samples on every backend.
TOKEN_PRESETS = (
    "gpt_moses",
    "gpt_peptides",
    "gpt_shakespeare",
    "sequence_vae_moses",
)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.release)
        if name in SLOW_IMAGE_PRESETS + TOKEN_PRESETS
        else name
        for name in kgen.presets.list_presets()
    ],
)
def test_generate_works_for_every_shipped_preset(name, tmp_path):
    if name == "pixel_cnn_mnist":
        # 784 sequential passes (a minute and a half) on the image path
        # that every other image preset takes; tests/presets checks its
        # samples on each backend.
        pytest.skip("pixel_cnn_mnist samples pixel by pixel")
    model = kgen.presets.load_preset(name)
    if not isinstance(model, kgen.models.GenerativeModel):
        pytest.skip(f"{name} is not a generative model")
    card = kgen.presets.preset_metadata(name)
    kind = cli.sample_kind(model, card, name)
    out = str(tmp_path / f"out{cli.SAMPLE_FILES.get(kind, ('.png',))[0]}")
    arguments = ["generate", name, "-n", "4", "--out", out]
    # Drawn as the preset's reference is, where its card says the defaults
    # take minutes (a WaveNet's clips, the video's DDIM-50: 63 s here).
    for argument, value in card.get("reference_arguments", {}).items():
        arguments += ["--" + argument.replace("_", "-"), str(value)]
    assert cli.main(arguments) == 0
    assert os.path.getsize(out) > 0
    if kind == "image":
        assert np.asarray(Image.open(out)).ndim in (2, 3)


def test_an_unknown_model_is_one_line_error(capsys):
    assert cli.main(["sample", "nope", "--out", "unused.png"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'dcgan_digits'" in err
    assert cli.main(["sample", "missing.keras", "--out", "unused.png"]) == 2
    assert "No model file at missing.keras" in capsys.readouterr().err
    assert not os.path.exists("unused.png")


def test_train_names_the_recipe_of_a_text_architecture(tmp_path, capsys):
    out = str(tmp_path / "gpt")
    assert cli.main(["train", "gpt_shakespeare_untrained", "--out", out]) == 2
    err = capsys.readouterr().err
    assert "recipes/gpt_shakespeare.py trains it" in err
    assert not os.path.exists(out)


def test_evaluate_with_domain_features(capsys):
    code = cli.main(
        [
            "evaluate",
            "dcgan_digits",
            "--metric",
            "fid",
            "--metric",
            "is",
            "--features",
            "digits_classifier",
            "-n",
            "200",
        ]
    )
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    fid = float(lines[0].split()[1])
    assert lines[0].startswith("fid: ") and "domain features" in lines[0]
    assert 0.0 < fid < 100.0
    score = float(lines[1].split()[1])
    assert lines[1].startswith("is: ") and 1.0 <= score <= 10.0


@pytest.mark.parametrize("damage", ["text", "truncated", "altered"])
def test_a_damaged_model_file_is_one_line_error(tmp_path, capsys, damage):
    import kgen

    good = str(tmp_path / "good.keras")
    kgen.presets.load_preset("vae_digits").save(good)
    data = bytearray(open(good, "rb").read())
    bad = str(tmp_path / "bad.keras")
    if damage == "text":
        data = bytearray(b"not a model\n")
    elif damage == "truncated":
        data = data[: len(data) // 2]
    else:
        with zipfile.ZipFile(good) as archive:
            member = archive.getinfo("model.weights.h5")
        data[member.header_offset + 200] ^= 0xFF
    open(bad, "wb").write(bytes(data))
    assert cli.main(["sample", bad, "--out", str(tmp_path / "g.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and bad in err
    with pytest.raises(kgen.utils.UnreadableFileError, match="bad.keras"):
        kgen.models.load_model(bad)


def assert_same_models(run, other_run):
    """The `model.keras` files that two `train` runs wrote to the folders
    `run` and `other_run` hold the same weights, to the bit."""

    def weights(folder):
        model = keras.saving.load_model(os.path.join(folder, "model.keras"))
        return [keras.ops.convert_to_numpy(v) for v in model.weights]

    actual, expected = weights(run), weights(other_run)
    assert len(actual) == len(expected)
    for value, expected_value in zip(actual, expected):
        np.testing.assert_array_equal(value, expected_value)


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("source", ["dataset", "npy", "shards"])
def test_killed_train_resumes_to_the_same_model(source, tmp_path, monkeypatch):
    import kgen

    arguments = ["train", "vae", "--epochs", "2", "--quiet"]
    arguments += ["--checkpoint-every", "5", "--grid-every", "5"]
    # Arrays in memory, images read a batch at a time, streamed shards:
    # each resumes at the step its checkpoint records.
    (images, _), _ = kgen.datasets.load("digits")
    if source == "npy":
        np.save(tmp_path / "digits.npy", images)
        arguments += ["--data", str(tmp_path / "digits.npy")]
    elif source == "shards":
        pytest.importorskip("grain")
        kgen.datasets.pack_shards(images, tmp_path / "shards", num_shards=3)
        arguments += ["--data", str(tmp_path / "shards")]
    plain = str(tmp_path / "plain")
    assert cli.main(arguments + ["--out", plain]) == 0

    saving = kgen.callbacks.BackupAndRestore.on_train_batch_end
    steps = []

    def killed_after_step_30(callback, batch, logs=None):
        saving(callback, batch, logs)
        steps.append(batch)
        if len(steps) == 30:  # inside the second epoch
            raise KeyboardInterrupt

    monkeypatch.setattr(
        kgen.callbacks.BackupAndRestore,
        "on_train_batch_end",
        killed_after_step_30,
    )
    out = str(tmp_path / "run")
    with pytest.raises(KeyboardInterrupt):
        cli.main(arguments + ["--out", out])
    monkeypatch.undo()
    assert not os.path.exists(out) and os.path.isdir(out + ".checkpoint")

    assert cli.main(arguments + ["--out", out]) == 2  # not without --resume
    assert cli.main(arguments + ["--out", out, "--resume"]) == 0
    assert not os.path.exists(out + ".checkpoint")
    assert_same_models(out, plain)


@pytest.mark.tensorflow_only
def test_resume_refuses_other_arguments_and_a_missing_checkpoint(
    tmp_path, capsys
):
    out = str(tmp_path / "run")
    arguments = ["train", "vae", "--epochs", "1", "--out", out]
    assert cli.main(arguments + ["--resume"]) == 2
    assert "no checkpoint at" in capsys.readouterr().err
    os.makedirs(out + ".checkpoint")
    with open(os.path.join(out + ".checkpoint", "arguments.json"), "w") as f:
        f.write('{"preset": "vae", "seed": 1}')
    assert cli.main(arguments + ["--resume"]) == 2
    assert "--seed was 1, now 0" in capsys.readouterr().err
    assert cli.main(arguments) == 2
    assert "pass --resume to continue" in capsys.readouterr().err


@pytest.mark.tensorflow_only
def test_non_finite_loss_exits_with_the_step_and_keeps_the_checkpoint(
    digits, tmp_path, capsys
):
    data_file = str(tmp_path / "digits.npy")
    np.save(data_file, digits[0][:40])
    out = str(tmp_path / "run")
    code = cli.main(
        ["train", "vae", "--data", data_file, "--epochs", "3", "--quiet"]
        + ["--learning-rate", "1e12", "--out", out]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "non-finite value at step" in err and "--resume" in err
    assert not os.path.exists(out)
    import h5py

    import kgen

    backup = kgen.callbacks.BackupAndRestore(out + ".checkpoint")
    assert backup.latest_state()["epoch"] >= 1  # checked against its sha256
    newest = sorted(
        name
        for name in os.listdir(out + ".checkpoint")
        if name.startswith("checkpoint-")
    )[-1]
    weights = os.path.join(out + ".checkpoint", newest, "model.weights.h5")
    values = []
    with h5py.File(weights) as file:
        file.visititems(
            lambda _, item: (
                values.append(np.asarray(item))
                if isinstance(item, h5py.Dataset)
                else None
            )
        )
    assert values and all(
        np.isfinite(v).all() for v in values if v.dtype.kind == "f"
    )


@pytest.mark.tensorflow_only
def test_train_skips_non_finite_steps_up_to_its_limit(digits, tmp_path, capsys):
    data_file = str(tmp_path / "digits.npy")
    np.save(data_file, digits[0][:40])
    arguments = ["train", "vae", "--data", data_file, "--quiet"]
    arguments += ["--out", str(tmp_path / "run")]
    assert cli.main(arguments + ["--max-skipped-steps", "-1"]) == 2
    err = capsys.readouterr().err
    assert "`--max-skipped-steps` must be an int >= 0; received -1" in err
    # At this rate every step after the first diverges: two are undone,
    # the third stops the run (one batch per epoch).
    arguments += ["--learning-rate", "1e12", "--max-skipped-steps", "2"]
    assert cli.main(arguments) == 2
    err = capsys.readouterr().err
    assert "at step 4 of this fit" in err and "after 2 skipped step" in err


@pytest.mark.tensorflow_only
def test_train_reads_a_folder_of_images(digits, tmp_path, capsys):
    folder = tmp_path / "images" / "any"
    folder.mkdir(parents=True)
    for index, image in enumerate(digits[0][:24]):
        Image.fromarray((image[..., 0] * 255).astype("uint8")).save(
            folder / f"{index}.png"
        )
    out = str(tmp_path / "run")
    code = cli.main(
        ["train", "vae", "--data", str(tmp_path / "images"), "--epochs", "1"]
        + ["--quiet", "--out", out]
    )
    assert code == 0
    assert "(22 examples" in capsys.readouterr().out  # 2 held out
    assert os.path.isfile(os.path.join(out, "model.keras"))


@pytest.mark.tensorflow_only
def test_audit_privacy_prints_and_writes_both_attacks(tmp_path, capsys):
    report = str(tmp_path / "privacy.json")
    arguments = ["audit", "privacy", "vae_digits", "-n", "40"]
    arguments += ["--num-members", "30", "--json", report]
    assert cli.main(arguments) == 0
    out = capsys.readouterr().out
    assert "40 samples against digits (1500 train, 297 held-out)" in out
    assert re.search(r"nearest sample \(black box\): AUROC 0\.\d{3}", out)
    assert re.search(r"elbo \(white box\): AUROC 0\.\d{3}", out)
    with open(report) as f:
        written = json.load(f)
    assert written["num_members"] == 30 and written["data"] == "digits"
    assert written["likelihood_attack"]["statistic"] == "elbo"


def test_audit_privacy_names_a_missing_or_unknown_dataset(trained_vae, capsys):
    model = os.path.join(trained_vae, "model.keras")
    assert cli.main(["audit", "privacy", model]) == 2
    assert "`--data` is needed" in capsys.readouterr().err
    assert cli.main(["audit", "privacy", model, "--data", "nope"]) == 2
    assert "Unknown dataset 'nope'" in capsys.readouterr().err


@pytest.mark.tensorflow_only
def test_watermark_embed_and_detect_a_bit_key(digits, tmp_path, capsys):
    watermark = kgen.watermarks.BitWatermark(
        kgen.networks.watermark_encoder((8, 8, 1), 8, filters=8),
        kgen.networks.watermark_extractor((8, 8, 1), 8, filters=8),
        seed=0,
    )
    path = str(tmp_path / "bits.keras")
    watermark.save(path)
    images, marked = str(tmp_path / "x.npy"), str(tmp_path / "m.npy")
    np.save(images, digits[0][:3])
    command = ["watermark", "embed", path, images, "--key", "5"]
    assert cli.main(command + ["--out", marked]) == 0
    expected = keras.ops.convert_to_numpy(
        watermark.embed(digits[0][:3], kgen.watermarks.key_bits(5, 8))
    )
    np.testing.assert_allclose(np.load(marked), expected, atol=1e-6)
    capsys.readouterr()
    assert cli.main(["watermark", "detect", path, marked, "--key", "5"]) == 0
    out = capsys.readouterr().out
    # An untrained extractor: the verdicts are chance, the report is not.
    assert re.search(r"sample 2: \d of 8 bits match, p \d\.\d\de[+-]\d\d", out)
    assert "of 3 samples watermarked" in out
    assert cli.main(["watermark", "detect", path, marked]) == 2
    assert "`--key` is needed" in capsys.readouterr().err
    assert cli.main(["watermark", "embed", "dcgan_digits", images]) == 2
    assert "`embed` needs a trained" in capsys.readouterr().err


def _checkpoint_files(folder):
    """Every file of a checkpoint folder with its sha256."""
    from kgen.utils.file_digest import sha256

    return {
        os.path.relpath(os.path.join(root, name), folder): sha256(
            os.path.join(root, name)
        )
        for root, _, names in os.walk(folder)
        for name in names
    }


@pytest.mark.tensorflow_only
def test_a_run_killed_while_writing_its_outputs_resumes_to_them(
    tmp_path, monkeypatch, capsys
):
    """Issue 44, cases 1 and 2: a kill after the last checkpoint (here,
    while the outputs are written) keeps the checkpoint; `--resume` has
    nothing left to train and writes the outputs from it; asking for fewer
    epochs is refused and changes nothing."""
    arguments = ["train", "vae", "--epochs", "2", "--quiet"]
    plain = str(tmp_path / "plain")
    assert cli.main(arguments + ["--out", plain]) == 0
    capsys.readouterr()

    writing = cli.train._write_outputs

    def killed_while_writing(model, folder, *unused):
        model.save(os.path.join(folder, "model.keras"))
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.train, "_write_outputs", killed_while_writing)
    out = str(tmp_path / "run")
    with pytest.raises(KeyboardInterrupt):
        cli.main(arguments + ["--out", out])
    monkeypatch.setattr(cli.train, "_write_outputs", writing)
    checkpoint = out + ".checkpoint"
    assert not os.path.exists(out) and os.path.isdir(checkpoint)
    files = _checkpoint_files(checkpoint)

    fewer = ["train", "vae", "--epochs", "1", "--quiet", "--resume"]
    assert cli.main(fewer + ["--out", out]) == 2
    err = capsys.readouterr().err
    assert "--epochs 1 is fewer than" in err and "(2 epochs)" in err
    assert _checkpoint_files(checkpoint) == files

    assert cli.main(arguments + ["--out", out, "--resume"]) == 0
    assert "has trained all 2 epochs" in capsys.readouterr().out
    assert not os.path.exists(checkpoint)
    for name in ("model.keras", "samples.png", "saved_model/1"):
        assert os.path.exists(os.path.join(out, name)), name
    assert_same_models(out, plain)
    # Drawn here (no epoch trained in this process), the last epoch's grid
    # copied there: the same picture.
    np.testing.assert_array_equal(
        np.asarray(Image.open(os.path.join(out, "samples.png"))),
        np.asarray(Image.open(os.path.join(plain, "samples.png"))),
    )


@pytest.mark.tensorflow_only
def test_resume_compares_resolved_arguments_and_the_data(
    digits, tmp_path, monkeypatch, capsys
):
    """Issue 44, case 9: a default spelled out, or the same --data by
    another path, is the same run; data replaced since the run began is
    refused, and the checkpoint kept."""
    import kgen

    monkeypatch.chdir(tmp_path)
    np.save("digits.npy", digits[0][:40])
    arguments = ["train", "vae", "--epochs", "2", "--quiet"]
    saving = kgen.callbacks.BackupAndRestore.on_epoch_end

    def killed_after_epoch_one(*run):
        def stopped(callback, epoch, logs=None):
            saving(callback, epoch, logs)
            raise KeyboardInterrupt

        monkeypatch.setattr(
            kgen.callbacks.BackupAndRestore, "on_epoch_end", stopped
        )
        with pytest.raises(KeyboardInterrupt):
            cli.main(arguments + list(run))
        monkeypatch.setattr(
            kgen.callbacks.BackupAndRestore, "on_epoch_end", saving
        )

    # The vae preset's dataset, batch size and learning rate, spelled out.
    killed_after_epoch_one("--out", "a")
    spelled = ["--dataset", "digits", "--batch-size", "64"]
    spelled += ["--learning-rate", "0.001"]
    assert cli.main(arguments + ["--out", "a", "--resume"] + spelled) == 0
    assert os.path.exists("a/model.keras")

    killed_after_epoch_one("--out", "b", "--data", "digits.npy")
    absolute = str(tmp_path / "digits.npy")
    assert (
        cli.main(arguments + ["--out", "b", "--resume", "--data", absolute])
        == 0
    )
    assert os.path.exists("b/model.keras")

    killed_after_epoch_one("--out", "c", "--data", "digits.npy")
    np.save("digits.npy", digits[0][40:80])
    resumed = arguments + ["--out", "c", "--resume", "--data", "digits.npy"]
    capsys.readouterr()
    assert cli.main(resumed) == 2
    assert "the data in --data changed" in capsys.readouterr().err
    assert os.path.isdir("c.checkpoint")


def test_a_command_out_of_memory_exits_2_with_one_line(monkeypatch, capsys):
    def exhausted(args):
        raise MemoryError()

    monkeypatch.setitem(kgen.cli.COMMANDS, "presets", exhausted)
    assert kgen.cli.main(["presets"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("kgen presets: error: out of memory")
    assert len(error.splitlines()) == 1
