"""SavedModel export: TF Serving layout, XLA endpoints, plain-TF loading."""

import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import kgen
from tests.conftest import BACKEND
from tests.conftest import to_numpy

IMAGE_SHAPE = (8, 8, 1)

requires_export_backend = pytest.mark.skipif(
    BACKEND == "torch", reason="export needs the TensorFlow or JAX backend"
)

# Runs in a fresh interpreter where `kgen` (and Keras) cannot be imported:
# what TF Serving sees is the SavedModel alone.
PLAIN_TENSORFLOW_LOADER = textwrap.dedent(
    """
    import sys
    sys.modules["kgen"] = None
    sys.modules["keras"] = None
    import numpy as np
    import tensorflow as tf

    path, signature, inputs_file, outputs_file = sys.argv[1:]
    inputs = dict(np.load(inputs_file))
    function = tf.saved_model.load(path).signatures[signature]
    outputs = function(**{k: tf.constant(v) for k, v in inputs.items()})
    np.savez(outputs_file, **{k: v.numpy() for k, v in outputs.items()})
    """
)


def run_in_plain_tensorflow(version_path, signature, inputs, tmp_path):
    inputs_file = os.path.join(tmp_path, f"{signature}_inputs.npz")
    outputs_file = os.path.join(tmp_path, f"{signature}_outputs.npz")
    np.savez(inputs_file, **inputs)
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    environment.pop("PYTHONPATH", None)
    subprocess.run(
        [
            sys.executable,
            "-c",
            PLAIN_TENSORFLOW_LOADER,
            version_path,
            signature,
            inputs_file,
            outputs_file,
        ],
        check=True,
        cwd=tmp_path,
        env=environment,
    )
    return dict(np.load(outputs_file))


# The ops whose kernels call back into the Python process that traced
# them (`tf.py_function`, `tf.numpy_function`). A SavedModel loaded in a
# process that built one runs them; TF Serving, with no such process,
# cannot. They are all that a fresh interpreter without kgen adds to a
# load in this one: `tf.saved_model.load` revives graphs, never Python
# objects (and jax2tf refuses host callbacks unless told otherwise).
PYTHON_CALLBACK_OPS = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})


def python_callback_ops(version_path):
    """The `PYTHON_CALLBACK_OPS` in the SavedModel's graph and functions."""
    graph = saved_model_graph(version_path)
    nodes = list(graph.node)
    for function in graph.library.function:
        nodes.extend(function.node_def)
    return {node.op for node in nodes} & PYTHON_CALLBACK_OPS


def loaded_signature(version_path, signature):
    """`signature` of the SavedModel at `version_path`, loaded in this
    process once its graph is checked to call back into no Python (what
    a plain-TensorFlow process would prove, shown once by
    `test_gan_sample_endpoint_serves_without_kgen`; each such process
    costs a TensorFlow import, a load and a compile, 5-10 s of CI's).

    `call(inputs)` returns the signature's outputs, a dict of arrays.
    """
    import tensorflow as tf

    callbacks = python_callback_ops(version_path)
    assert not callbacks, (
        f"{version_path} calls back into Python ({sorted(callbacks)}), "
        "which TF Serving cannot"
    )
    loaded = tf.saved_model.load(version_path)

    def call(inputs):
        # Through `loaded`: a signature works only while its object lives.
        function = loaded.signatures[signature]
        outputs = function(**{k: tf.constant(v) for k, v in inputs.items()})
        return {key: value.numpy() for key, value in outputs.items()}

    return call


def serve(version_path, signature, inputs):
    """`signature`'s outputs on `inputs` (`loaded_signature`, called once)."""
    return loaded_signature(version_path, signature)(inputs)


def served_labelled_sample(model, shape, labels, tmp_path):
    """Exports `model` and serves its `sample` signature (`serve`) on
    seeded N(0, 1) noise of `shape` for `labels`, one image a label.

    Returns the export's version path, the noise and the served images.
    """
    path = kgen.export.export_saved_model(
        model, os.path.join(tmp_path, "saved_model")
    )
    labels = np.asarray(labels, "int32")
    noise = np.random.default_rng(0).normal(size=(len(labels),) + shape)
    noise = noise.astype("float32")
    served = serve(path, "sample", {"noise": noise, "labels": labels})
    (images,) = served.values()
    return path, noise, images


def trained_gan(digits_symmetric):
    model = kgen.models.DCGAN(IMAGE_SHAPE, latent_dim=6, filters=8, seed=0)
    model.compile()
    model.fit(digits_symmetric, batch_size=64, epochs=1, verbose=0)
    return model


def vae():
    return kgen.models.VAE(
        kgen.networks.vae_encoder(IMAGE_SHAPE, 3, filters=8, hidden_dim=16),
        kgen.networks.vae_decoder(IMAGE_SHAPE, 3, filters=8, hidden_dim=16),
        latent_dim=3,
    )


def saved_model_proto(version_path):
    with open(os.path.join(version_path, "saved_model.pb"), "rb") as f:
        return f.read()


def saved_model_graph(version_path):
    """The SavedModel's graph (its first and only meta graph's)."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString(saved_model_proto(version_path))
    return saved_model.meta_graphs[0].graph_def


def saved_model_library(version_path):
    """The function library of the SavedModel's graph."""
    return saved_model_graph(version_path).library


@pytest.mark.tensorflow_only
@requires_export_backend
def test_gan_sample_endpoint_serves_without_kgen(digits_symmetric, tmp_path):
    model = trained_gan(digits_symmetric)
    base = os.path.join(tmp_path, "dcgan")
    version_path = kgen.export.export_saved_model(model, base)
    assert version_path == os.path.join(base, "1")
    assert sorted(os.listdir(base)) == ["1"]  # no staging folder left
    noise = np.random.default_rng(0).normal(size=(5, 6)).astype("float32")
    outputs = run_in_plain_tensorflow(
        version_path, "sample", {"noise": noise}, tmp_path
    )
    (images,) = outputs.values()
    assert images.shape == (5,) + IMAGE_SHAPE
    np.testing.assert_allclose(
        images, to_numpy(model.generator(noise, training=False)), atol=1e-5
    )
    # The endpoint is compiled with XLA: TF marks the function
    # `_XlaMustCompile`; jax2tf stores StableHLO in an `XlaCallModule` op.
    marker = b"_XlaMustCompile" if BACKEND == "tensorflow" else b"XlaCallModule"
    assert marker in saved_model_proto(version_path)
    # What the other export tests check in place of a plain process.
    assert not python_callback_ops(version_path)


@pytest.mark.tensorflow_only
def test_a_graph_that_calls_back_into_python_is_found(tmp_path):
    import tensorflow as tf

    class Doubling(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([2], tf.float32)])
        def double(self, x):
            return {"y": tf.numpy_function(lambda a: 2 * a, [x], tf.float32)}

    module = Doubling()
    path = str(tmp_path / "python_callback")
    tf.saved_model.save(module, path, signatures={"double": module.double})
    assert python_callback_ops(path) == {"PyFunc"}
    with pytest.raises(AssertionError, match="calls back into Python"):
        serve(path, "double", {"x": np.ones(2, "float32")})


@pytest.mark.tensorflow_only
@requires_export_backend
def test_vae_exports_encode_decode_and_sample(digits, tmp_path):
    model = vae()
    version_path = kgen.export.export_saved_model(
        model, os.path.join(tmp_path, "vae"), version=3
    )
    assert os.path.basename(version_path) == "3"
    images = digits[0][:4]
    latent = np.random.default_rng(1).normal(size=(4, 3)).astype("float32")
    encoded = serve(version_path, "encode", {"images": images})
    posterior = model.encode(images)
    np.testing.assert_allclose(
        encoded["mean"], to_numpy(posterior.mean()), atol=1e-5
    )
    np.testing.assert_allclose(
        encoded["scale"], to_numpy(posterior.stddev()), rtol=1e-5, atol=1e-6
    )
    (decoded,) = serve(version_path, "decode", {"latent": latent}).values()
    np.testing.assert_allclose(
        decoded, to_numpy(model.decode(latent)), atol=1e-5
    )


# TF's own tool on one backend's archive: the contract harness serves every
# class's JAX export in plain TensorFlow already.
@pytest.mark.tensorflow_only
@requires_export_backend
@pytest.mark.skipif(
    shutil.which("saved_model_cli") is None, reason="saved_model_cli missing"
)
def test_saved_model_cli_runs_the_sample_signature(digits_symmetric, tmp_path):
    model = trained_gan(digits_symmetric)
    version_path = kgen.export.export_saved_model(
        model, os.path.join(tmp_path, "dcgan")
    )
    noise_file = os.path.join(tmp_path, "noise.npy")
    np.save(noise_file, np.zeros((3, 6), "float32"))
    outdir = os.path.join(tmp_path, "cli_outputs")
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    show = subprocess.run(
        ["saved_model_cli", "show", "--dir", version_path, "--all"],
        check=True,
        capture_output=True,
        text=True,
        env=environment,
    )
    assert "signature_def['sample']" in show.stdout
    subprocess.run(
        [
            "saved_model_cli",
            "run",
            "--dir",
            version_path,
            "--tag_set",
            "serve",
            "--signature_def",
            "sample",
            "--inputs",
            f"noise={noise_file}",
            "--outdir",
            outdir,
        ],
        check=True,
        capture_output=True,
        env=environment,
    )
    (output_file,) = os.listdir(outdir)
    assert (
        np.load(os.path.join(outdir, output_file)).shape == (3,) + IMAGE_SHAPE
    )


@requires_export_backend
def test_every_weight_is_written_once(tmp_path):
    """Keras 3.15's `ExportArchive` wrote a tracked model's weights twice
    on TensorFlow (a 17 MB model gave a 34 MB SavedModel)."""
    import tensorflow as tf

    model = vae()
    model(np.zeros((2,) + IMAGE_SHAPE, "float32"))
    path = kgen.export.export_saved_model(model, str(tmp_path / "vae"))
    stored = tf.train.load_checkpoint(
        os.path.join(path, "variables", "variables")
    )
    floats = [
        shape
        for name, shape in stored.get_variable_to_shape_map().items()
        if stored.get_variable_to_dtype_map()[name] == tf.float32
    ]
    assert sum(int(np.prod(shape)) for shape in floats) <= model.count_params()
    # Nor any gradient: on JAX, jax2tf wraps each endpoint in a custom
    # gradient that serving never calls.
    assert not saved_model_library(path).registered_gradients


@pytest.mark.tensorflow_only  # file handling, the same on every backend
def test_versions_are_never_overwritten_silently(tmp_path):
    model = vae()
    base = os.path.join(tmp_path, "vae")
    kgen.export.export_saved_model(model, base)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        kgen.export.export_saved_model(model, base)
    kgen.export.export_saved_model(model, base, overwrite=True)
    kgen.export.export_saved_model(model, base, version=2)
    assert sorted(os.listdir(base)) == ["1", "2"]


def test_bad_version_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="version"):
        kgen.export.export_saved_model(vae(), str(tmp_path), version=0)


@pytest.mark.skipif(BACKEND != "torch", reason="torch-only behaviour")
def test_torch_backend_explains_why_not_and_writes_nothing(tmp_path):
    base = os.path.join(tmp_path, "vae")
    with pytest.raises(NotImplementedError, match="KERAS_BACKEND=tensorflow"):
        kgen.export.export_saved_model(vae(), base)
    assert not os.path.exists(base)
