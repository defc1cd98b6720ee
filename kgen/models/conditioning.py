import dataclasses


@dataclasses.dataclass(frozen=True)
class Conditioning:
    """What a family conditions on, and where `fit` puts it.

    Each family declares one, as the class attribute `conditioning`; the
    shared data path (`kgen/models/data_path.py`) reads nothing else to
    route `fit(x, y)`, `evaluate` and `validation_data`.

    Args:
        labels: bool. The family can condition on class labels; a model's
            `num_classes` (`None`: built unconditional) then decides
            whether `fit` wants labels or refuses them.
        targets: bool. `y` is data of the family's own (a paired model's
            targets, a GPT's next tokens). A family with neither labels
            nor targets models `x` alone and refuses a `y`, which it
            would otherwise ignore. `fit` checks them as the family's
            `_validate_targets` says, one per example.
        targets_required: bool. The family trains on pairs (a source and
            its target, or an image of each domain): `fit` refuses `x`
            without as many targets `y`.
        labels_in_inputs: bool. `True`: `fit(x, labels)` becomes
            `fit({data_key: x, "labels": labels})`, for families whose
            `call` reads them; `False`: they stay Keras' targets `y`, for
            families that read `y` in their own step or loss.
        data_key: str. The examples' key in those inputs (`"images"`,
            `"audio"`, `"grids"`).

    Example:

    ```python
    class MyGAN(kgen.models.GAN):
        conditioning = Conditioning(labels=True, labels_in_inputs=False)
    ```
    """

    labels: bool = False
    targets: bool = False
    targets_required: bool = False
    labels_in_inputs: bool = True
    data_key: str = "images"

    def split(self, inputs):
        """`(data, labels, condition)` of what `call` receives: the
        inputs `fit` packs (`{data_key: ..., "labels": ...,
        "condition": ...}`, either conditioning optional), or the data
        alone."""
        if isinstance(inputs, dict):
            return (
                inputs[self.data_key],
                inputs.get("labels"),
                inputs.get("condition"),
            )
        return inputs, None, None
