import keras

from kgen.callbacks.every_n_epochs import EveryNEpochs


@keras.saving.register_keras_serializable(package="kgen")
class MetricCallback(EveryNEpochs):
    """Scores `model.sample()` with a sample metric every N epochs.

    At the end of every `every_n_epochs`-th epoch (and the last), the metric
    is reset, fed `num_samples` samples drawn with a fixed `seed`, and its
    result is added to the epoch's logs, so `History`, `TensorBoard` and
    `CSVLogger` record it beside the losses (list this callback before
    them). A dict result (precision/recall) logs one entry per key,
    `<name>_<key>`.

    Give the metric its real side first, once: `metric.set_reference(x)`
    (FID, KID, precision/recall); an Inception Score needs none.

    Args:
        metric: a kgen sample metric, e.g. `FrechetInceptionDistance`, with
            `value_range` matching the model's samples.
        every_n_epochs: int.
        num_samples: int.
        seed: int. Seed of `sample()`.
        batch_size: int. Samples drawn per `sample()` call.

    Example:

    ```python
    fid = kgen.metrics.FrechetInceptionDistance(
        feature_extractor=digits_features, value_range=(-1, 1)
    )
    fid.set_reference(x_test)
    model.fit(x_train, epochs=50, callbacks=[
        kgen.callbacks.MetricCallback(fid, every_n_epochs=10)
    ])
    ```
    """

    def __init__(
        self, metric, every_n_epochs=1, num_samples=1000, seed=0, batch_size=500
    ):
        super().__init__(every_n_epochs)
        self.metric = metric
        self.num_samples = num_samples
        self.seed = seed
        self.batch_size = batch_size

    def on_scheduled_epoch_end(self, epoch, logs):
        values = self.evaluate()
        if logs is not None:
            logs.update(values)

    def evaluate(self):
        """Scores fresh samples; returns `{log name: value}`."""
        self.metric.reset_state()
        for start in range(0, self.num_samples, self.batch_size):
            count = min(self.batch_size, self.num_samples - start)
            samples = self.model.sample(count, seed=self.seed + start)
            self.metric.update_state(generated_images=samples)
        result = self.metric.result()
        if isinstance(result, dict):
            return {
                f"{self.metric.name}_{key}": float(value)
                for key, value in result.items()
            }
        return {self.metric.name: float(result)}
