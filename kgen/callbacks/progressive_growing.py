import keras

from kgen.utils.recorded_config import RecordedConfig


@keras.saving.register_keras_serializable(package="kgen")
class ProgressiveGrowing(RecordedConfig, keras.callbacks.Callback):
    """Grows a `ProgressiveGAN` on a schedule of epochs.

    Each stage lasts `epochs_per_stage` epochs; in a stage's first
    `fade_in_epochs` epochs its new resolution fades in (alpha rising
    linearly from `1 / (fade_in_epochs + 1)` to 1). The schedule is applied
    at the start of each epoch, when every backend's trainer reads the
    model's variables (JAX keeps them in its own state within an epoch).
    Logs `stage` and `alpha`.

    Args:
        epochs_per_stage: int.
        fade_in_epochs: int. At most `epochs_per_stage`.
    """

    def __init__(self, epochs_per_stage, fade_in_epochs=None):
        super().__init__()
        fade_in_epochs = (
            max(epochs_per_stage // 2, 1)
            if fade_in_epochs is None
            else fade_in_epochs
        )
        if epochs_per_stage < 1 or not 0 <= fade_in_epochs <= epochs_per_stage:
            raise ValueError(
                "Need epochs_per_stage >= 1 and 0 <= fade_in_epochs <= "
                f"epochs_per_stage; received {epochs_per_stage}, "
                f"{fade_in_epochs}."
            )
        self.epochs_per_stage = epochs_per_stage
        self.fade_in_epochs = fade_in_epochs

    def schedule(self, epoch, num_stages):
        """`(stage, alpha)` for a 0-based epoch."""
        stage = min(epoch // self.epochs_per_stage, num_stages)
        into_stage = epoch - stage * self.epochs_per_stage
        if stage == 0 or into_stage >= self.fade_in_epochs:
            return stage, 1.0
        return stage, (into_stage + 1) / (self.fade_in_epochs + 1)

    def on_epoch_begin(self, epoch, logs=None):
        self.stage, self.alpha = self.schedule(epoch, self.model.num_stages)
        self.model.set_growth(self.stage, self.alpha)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["stage"] = self.stage
            logs["alpha"] = self.alpha
