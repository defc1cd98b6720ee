import keras
import numpy as np
import pytest

import kgen


def flatten_extractor():
    inputs = keras.Input((8, 8, 1))
    return keras.Model(inputs, keras.layers.Flatten()(inputs))


def test_logs_the_metric_into_history(digits):
    model = kgen.models.VAE(
        kgen.networks.vae_encoder((8, 8, 1), 2, filters=4, hidden_dim=8),
        kgen.networks.vae_decoder((8, 8, 1), 2, filters=4, hidden_dim=8),
        latent_dim=2,
    )
    model.compile(optimizer="adam")
    fid = kgen.metrics.FrechetInceptionDistance(
        feature_extractor=flatten_extractor()
    )
    fid.set_reference(digits[0])
    precision_recall = kgen.metrics.PrecisionRecall(
        feature_extractor=flatten_extractor()
    )
    precision_recall.set_reference(digits[0])
    callbacks = [
        kgen.callbacks.MetricCallback(fid, every_n_epochs=2, num_samples=50),
        kgen.callbacks.MetricCallback(precision_recall, num_samples=50),
    ]
    history = model.fit(
        digits[0], epochs=2, batch_size=64, verbose=0, callbacks=callbacks
    )
    assert len(history.history["fid"]) == 1  # epoch 2 only
    assert (
        np.isfinite(history.history["fid"][0]) and history.history["fid"][0] > 0
    )
    assert len(history.history["precision_recall_recall"]) == 2
    # Same seed, same samples: the callback's value is reproducible.
    assert callbacks[0].evaluate()["fid"] == pytest.approx(
        history.history["fid"][0]
    )


def test_rejects_bad_schedule():
    with pytest.raises(ValueError, match="every_n_epochs"):
        kgen.callbacks.MetricCallback(None, every_n_epochs=0)
