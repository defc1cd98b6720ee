"""The one rule for seeds: what a `seed=` argument may be, and what it means.

Every random draw in kgen takes its seed from `seed_generator(seed, ...)`:

| `seed`                          | draws come from                       |
|---------------------------------|---------------------------------------|
| `None`                          | the model's own `seed_generator`      |
| an integer (Python or NumPy)    | a fresh `SeedGenerator(seed)`         |
| a `keras.random.SeedGenerator`  | that generator (it advances)          |

So `sample(n, seed=3)`, `sample(n, seed=np.int64(3))` and
`sample(n, seed=keras.random.SeedGenerator(3))` give the same samples, and
a method that makes several draws from one integer seed gets different
numbers for each (an integer handed to two draws would repeat them).
Loops written with `ops.fori_loop` take a `(2,)` seed from `loop_seed` and
fold the step into it for each stateless draw. That `(2,)` tensor is
internal: a public `seed=` refuses tensors, since `keras.random`'s draws
take a tensor seed on JAX alone (as a `uint32` key), and a tensor seed
would then work for the loop samplers and fail, with a backend's error,
for every direct draw.

An integer seed lies in `[0, MAX_SEED]`: the range every backend's
`SeedGenerator` takes (JAX's refuses negative seeds and seeds of 2**32 or
more, torch's seeds of 2**31 or more), so that a seed means the same on
each; beyond it the backends raise unrelated overflow errors.
"""

import numbers

import keras
import numpy as np

MAX_SEED = 2**31 - 1


def seed_generator(seed, default=None, argument="seed"):
    """The source of every draw for a `seed=` argument (see the table above).

    Args:
        seed: `None`, an integer or a `keras.random.SeedGenerator`.
        default: what `None` means: the model's `SeedGenerator`, or `None`
            for Keras' global one.
        argument: str. The argument's name, for the error message.

    Returns:
        A `keras.random.SeedGenerator`, or `None`.
    """
    if seed is None:
        return default
    if isinstance(seed, keras.random.SeedGenerator):
        return seed
    if _is_integer(seed):
        return keras.random.SeedGenerator(_in_range(seed, argument))
    hint = ""
    if keras.ops.is_tensor(seed) or isinstance(seed, np.ndarray):
        hint = " (a tensor or array seed is not taken: pass `int(seed)`)"
    raise ValueError(
        f"`{argument}` must be None, an int or a keras.random.SeedGenerator"
        f"{hint}; received {seed!r}."
    )


def validate_model_seed(seed, argument="seed"):
    """A constructor's `seed`: `None` or an integer (it is serialized)."""
    if seed is None:
        return None
    if _is_integer(seed):
        return _in_range(seed, argument)
    raise ValueError(f"`{argument}` must be an int or None; received {seed!r}.")


def _in_range(seed, argument):
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(
            f"`{argument}` must lie in [0, 2**31 - 1] (the seeds every "
            f"backend takes); received {seed}."
        )
    return int(seed)


def loop_seed(seed):
    """A `(2,)` int32 seed drawn from `seed` (what `seed_generator`
    returns), for the stateless draws inside an `ops.fori_loop` body."""
    return keras.random.randint((2,), 0, 2**30, "int32", seed=seed)


def _is_integer(value):
    """Python or NumPy integers; `bool` is an int subclass, not a seed."""
    return isinstance(value, numbers.Integral) and not isinstance(
        value, (bool, np.bool_)
    )
