"""What every scheduler shares: its config is its constructor's
arguments, and its repr is that config."""

from keras import ops


class Scheduler:
    """Base of the schedulers (diffusion, flow matching, consistency).

    A subclass's `get_config()` returns its constructor's arguments, so
    `from_config` rebuilds it and `repr` names it fully: the repr is part
    of the compile-cache key of a sampling program (`SamplingPlan.key`),
    equal exactly for equal configs."""

    def get_config(self):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        arguments = ", ".join(
            f"{key}={value!r}" for key, value in self.get_config().items()
        )
        return f"{type(self).__name__}({arguments})"


def float_tensors(*values):
    """`values` as float32 tensors, in order."""
    return tuple(ops.convert_to_tensor(value, "float32") for value in values)
