"""TF Serving's tree of the shipped presets, as `kgen export --all`
writes it: `models.config` is read with TF Serving's own proto, and every
listed SavedModel is loaded by plain TensorFlow (kgen and Keras
unimportable, as TF Serving sees it) and must reproduce its preset's
reference outputs for the reference noise, or, for an endpoint that draws
from a seed input, serve the same samples as the preset's own endpoint.
"""

import functools
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import kgen
from kgen import cli
from kgen.presets import registry
from kgen.utils.sample_arrays import as_one_array
from tests.conftest import optimized_xla_flags

# The batch of the inputs of an endpoint without reference noise.
BATCH = 3

pytestmark = [
    # Loading SavedModels is TensorFlow's, whatever backend wrote them.
    pytest.mark.tensorflow_only,
    pytest.mark.xdist_group("saved_models"),
]


# The presets CI exports and serves, one for each kind of sampler and of
# output (a GAN, a VAE, a diffusion model's loop, an ODE's, audio); each
# takes about 20 s of CI's worker time, and the others (`release`) take the
# same export path with other weights.
SERVED_IN_CI = (
    "dcgan_digits",
    "ddpm_mnist",
    "flow_matching_mnist",
    "vae_digits",
    "wavegan_spoken_digits",
)


def is_slow(name):
    """Endpoints that draw from a seed input have no reference noise: the
    preset's own endpoint is compiled and run beside them, which takes
    minutes for the PixelCNN samplers; they run with `-m release`, before
    a release (each class's endpoints are served in CI by the contract
    harness, tests/models/test_contract.py), and CI exports and serves the
    presets whose outputs are a function of their noise."""
    reference = kgen.presets.preset_metadata(name).get("reference", {})
    return "noise" not in reference


def exported_names():
    """The generative presets that export endpoints (all but the WaveNet,
    whose sampler is windowed Python)."""
    return [
        name
        for name in kgen.presets.serving_tree.generative_presets()
        if name != "wave_net_spoken_digits"
    ]


def tier(name):
    """`"ci"` for `SERVED_IN_CI`, else `"slow"` or `"fast"` (`is_slow`)."""
    if name in SERVED_IN_CI:
        return "ci"
    return "slow" if is_slow(name) else "fast"


def alike(name):
    """The exported presets of `name`'s `tier`: what is exported and
    served with it, in one `kgen export --all` and one plain TensorFlow
    process (each process start costs 8 s)."""
    return [n for n in exported_names() if tier(n) == tier(name)]


@pytest.fixture(scope="module")
def serving_tree(tmp_path_factory):
    """`name -> the tree's folder`, exported on first request with the
    presets `alike` it."""
    folder = tmp_path_factory.mktemp("saved_models")

    def tree(name):
        if not (folder / name / "1" / "saved_model.pb").is_file():
            status = cli.main(
                ["export", "--all", str(folder), "--presets", *alike(name)]
            )
            assert status == 0
        return folder

    return tree


def listed_models(folder):
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    config = model_server_config_pb2.ModelServerConfig()
    text_format.Parse((folder / "models.config").read_text(), config)
    return config.model_config_list.config


def test_export_all_writes_a_tree_tf_serving_reads(serving_tree, capsys):
    served = [name for name in exported_names() if tier(name) == "ci"]
    assert served == sorted(SERVED_IN_CI)  # each still a served preset
    folder = serving_tree(served[0])
    configs = listed_models(folder)
    assert [config.name for config in configs] == served
    for config in configs:
        assert config.base_path == f"/models/{config.name}"
        assert config.model_platform == "tensorflow"
    folders = sorted(p.name for p in folder.iterdir() if p.is_dir())
    assert folders == served  # nothing unlisted
    # The WaveNet exports nothing: skipped, and said so.
    cli.main(
        ["export", "--all", str(folder), "--presets", "wave_net_spoken_digits"]
    )
    assert "skipped wave_net_spoken_digits" in capsys.readouterr().out
    assert [config.name for config in listed_models(folder)] == served


def test_export_all_refuses_what_is_not_a_generative_preset(tmp_path):
    with pytest.raises(ValueError, match="digits_classifier"):
        kgen.presets.export_serving_tree(tmp_path, ["digits_classifier"])
    assert cli.main(["export", "--all", str(tmp_path), "x.keras"]) == 2


SERVE = textwrap.dedent(
    """
    import json
    import sys
    sys.modules["kgen"] = None
    sys.modules["keras"] = None
    import numpy as np
    import tensorflow as tf

    for path, endpoint, inputs_file, outputs_file in json.loads(sys.argv[1]):
        with np.load(inputs_file) as arrays:
            inputs = [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
        served = tf.saved_model.load(path)
        outputs = getattr(served, endpoint)(*[tf.constant(x) for x in inputs])
        if isinstance(outputs, dict):
            # A molecule's arrays as one (kgen.utils.sample_arrays'
            # layout, without kgen): sorted keys, each example flat.
            outputs = [outputs[key].numpy() for key in sorted(outputs)]
            outputs = np.concatenate(
                [a.reshape(len(a), -1).astype("float32") for a in outputs],
                axis=1,
            )
        else:
            outputs = outputs.numpy()
        np.save(outputs_file, outputs)
    """
)


def serve(jobs, tree, folder, optimized=False):
    """`{name: outputs}` of each SavedModel of `tree` for its inputs, in
    one plain TensorFlow process (`jobs`: `{name: (endpoint, inputs)}`);
    `optimized`: XLA at its usual optimisation, not the suite's."""
    arguments = []
    for name, (endpoint, inputs) in jobs.items():
        inputs_file = folder / f"{name}_inputs.npz"
        np.savez(inputs_file, *inputs)
        arguments.append(
            [str(tree / name / "1"), endpoint, str(inputs_file)]
            + [str(folder / f"{name}_outputs.npy")]
        )
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if optimized:
        environment["XLA_FLAGS"] = optimized_xla_flags()
    environment.pop("PYTHONPATH", None)
    subprocess.run(
        [sys.executable, "-c", SERVE, json.dumps(arguments)],
        check=True,
        cwd=folder,
        env=environment,
    )
    return {name: np.load(folder / f"{name}_outputs.npy") for name in jobs}


@functools.cache
def endpoint_case(name):
    """`(endpoint, inputs, expected outputs)` for the preset `name`."""
    import tensorflow as tf

    directory = registry.resolve(name)
    reference = registry.read_metadata(directory)["reference"]
    if "noise" in reference:
        noise = reference["noise"]
        with np.load(os.path.join(directory, noise["inputs"])) as arrays:
            inputs = [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
        expected = np.load(os.path.join(directory, noise["outputs"]))
        return noise["endpoint"], inputs, expected
    # A seed input, or a text model's `generate`: the preset's own
    # endpoint, compiled as export compiles it (a Langevin chain amplifies
    # the last-bit differences of another compilation).
    model = kgen.presets.load_preset(name)
    endpoints = model.serving_endpoints()
    # What draws: noise or codes and a seed in, samples out.
    endpoint = next(
        e for e in ("sample", "generate", "decode") if e in endpoints
    )
    function, specs = endpoints[endpoint]
    inputs = [
        np.array([3, 1], dtype=spec.dtype)
        if tuple(spec.shape) == (2,)
        else np.zeros((BATCH,) + tuple(spec.shape[1:]), dtype=spec.dtype)
        for spec in specs
    ]
    compiled = tf.function(function, jit_compile=True, autograph=False)
    return endpoint, inputs, as_one_array(compiled(*inputs))


@pytest.fixture(scope="module")
def served_outputs(serving_tree, tmp_path_factory):
    """Serves the models a test asks for, with the presets `alike` it."""
    outputs = {}

    def served(name):
        if name not in outputs:
            tree = serving_tree(name)
            jobs = {n: endpoint_case(n)[:2] for n in alike(name)}
            folder = tmp_path_factory.mktemp("served")
            # Outputs held against stored references are served with XLA
            # optimised as where the references were drawn: the samplers
            # run hundreds of steps of full-size networks, where the
            # suite's flags cost more than they save (the 16 presets in
            # 92 s, against 142 s). A slow preset's endpoint compiled here
            # is the reference, and is served compiled alike.
            reference_noise = not is_slow(name)
            outputs.update(serve(jobs, tree, folder, reference_noise))
        return outputs[name]

    return served


@pytest.mark.parametrize(
    "name",
    [
        name
        if tier(name) == "ci"
        else pytest.param(name, marks=pytest.mark.release)
        for name in exported_names()
    ],
)
def test_a_served_model_reproduces_its_preset(name, served_outputs):
    _, _, expected = endpoint_case(name)
    actual = served_outputs(name)
    assert actual.shape == expected.shape
    difference = float(np.max(np.abs(actual - expected)))
    assert difference <= 1e-4, json.dumps({"name": name, "diff": difference})
