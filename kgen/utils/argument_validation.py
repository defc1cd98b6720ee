"""One-line checks for constructor and method arguments.

Every check raises with the house message: the argument's name, what was
expected and what was received, e.g.

```
ValueError: `num_steps` must be an int >= 1; received 0.
```

Each returns the value in the type the code uses (`int`, `float`, `bool`),
so a check and its conversion are one line:
`self.d_steps = validate_int(d_steps, "d_steps")`.
"""

import math
import numbers

import numpy as np


def validate_int(value, argument, minimum=1, maximum=None):
    """`int(value)` for an integer in `[minimum, maximum]`.

    Python and NumPy integers are accepted; `bool` is not (`True` steps
    or units are a mistake, not 1), nor are floats, even whole ones.

    Args:
        value: the argument's value.
        argument: str. The argument's name, for the message.
        minimum: int or `None`. Smallest value allowed.
        maximum: int or `None`. Largest value allowed.
    """
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Integral)
        or (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
    ):
        raise ValueError(
            f"`{argument}` must be an int {_bounds(minimum, maximum)}; "
            f"received {value!r}."
        )
    return int(value)


def validate_num_heads(num_heads, width, width_argument):
    """`int(num_heads)` for a positive int that splits `width` into heads
    of equal size.

    Args:
        num_heads: the argument's value.
        width: int. The width the heads share, already validated.
        width_argument: str. The name of the width's argument, for the
            message.
    """
    num_heads = validate_int(num_heads, "num_heads")
    if width % num_heads:
        raise ValueError(
            f"`{width_argument}` ({width}) must be divisible by `num_heads` "
            f"({num_heads})."
        )
    return num_heads


def validate_optional_int(value, argument, minimum=1, maximum=None):
    """`None`, or `validate_int(value, ...)`."""
    if value is None:
        return None
    return validate_int(value, argument, minimum, maximum)


def validate_float(
    value,
    argument,
    minimum=None,
    maximum=None,
    exclusive_minimum=False,
    exclusive_maximum=False,
):
    """`float(value)` for a finite real number in the given range.

    Args:
        value: the argument's value (Python or NumPy real, not `bool`).
        argument: str. The argument's name, for the message.
        minimum, maximum: float or `None`. Bounds of the range.
        exclusive_minimum, exclusive_maximum: bool. Whether the bound
            itself is excluded (`> 0` rather than `>= 0`).
    """
    valid = isinstance(value, numbers.Real) and not isinstance(
        value, (bool, np.bool_)
    )
    if valid:
        number = float(value)
        valid = math.isfinite(number)
    if valid and minimum is not None:
        valid = number > minimum if exclusive_minimum else number >= minimum
    if valid and maximum is not None:
        valid = number < maximum if exclusive_maximum else number <= maximum
    if not valid:
        raise ValueError(
            f"`{argument}` must be a finite number "
            f"{_range(minimum, maximum, exclusive_minimum, exclusive_maximum)}"
            f"; received {value!r}."
        )
    return number


def validate_optional_float(value, argument, **bounds):
    """`None`, or `validate_float(value, argument, **bounds)`."""
    if value is None:
        return None
    return validate_float(value, argument, **bounds)


def validate_probability(value, argument, exclusive_maximum=False):
    """`float(value)` in `[0, 1]` (or `[0, 1)`)."""
    return validate_float(
        value, argument, 0.0, 1.0, exclusive_maximum=exclusive_maximum
    )


def validate_bool(value, argument):
    """`bool(value)` for a Python or NumPy bool (not 0 / 1)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"`{argument}` must be a bool; received {value!r}.")
    return bool(value)


def validate_choice(value, argument, choices):
    """`value` if it is one of `choices` (strings compared as given)."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(
            f"`{argument}` must be one of {sorted(choices)}; received "
            f"{value!r}."
        )
    return value


def validate_range(value, argument):
    """`(float(low), float(high))` for a pair of finite numbers with
    `low < high`, such as a `value_range`."""
    try:
        low, high = value
        low, high = float(low), float(high)
        valid = math.isfinite(low) and math.isfinite(high) and low < high
    except (TypeError, ValueError):
        valid = False
    if valid:
        valid = not any(isinstance(v, (bool, np.bool_, str)) for v in value)
    if not valid:
        raise ValueError(
            f"`{argument}` must be a pair (low, high) of finite numbers "
            f"with low < high; received {value!r}."
        )
    return low, high


def validate_shape(value, argument, rank=None):
    """`tuple(int, ...)` of positive sizes (of length `rank` if given)."""
    try:
        shape = tuple(value)
    except TypeError:
        shape = None
    if (
        shape is None
        or not shape
        or (rank is not None and len(shape) != rank)
        or any(
            isinstance(size, (bool, np.bool_))
            or not isinstance(size, numbers.Integral)
            or size < 1
            for size in shape
        )
    ):
        length = f"{rank} " if rank is not None else ""
        raise ValueError(
            f"`{argument}` must be a tuple of {length}positive ints; "
            f"received {value!r}."
        )
    return tuple(int(size) for size in shape)


def validate_network_inputs(network, names, argument, hint=""):
    """`network` if it takes one input per entry of `names` (their roles,
    for the message); `hint` says how to build one that does."""
    if len(network.inputs) != len(names):
        raise ValueError(
            f"`{argument}` must take {len(names)} inputs "
            f"({', '.join(names)}); it takes {len(network.inputs)}.{hint}"
        )
    return network


def validate_float_input(network, index, role, argument):
    """`network` if its input `index` (`role`, for the message) is float:
    the time inputs of continuous-time models."""
    dtype = network.inputs[index].dtype
    if "float" not in str(dtype):
        raise ValueError(
            f"`{argument}` must take float {role}; its input {index} is "
            f"{dtype}. Build it with `timestep_dtype='float32'`."
        )
    return network


def _bounds(minimum, maximum):
    if minimum is not None and maximum is not None:
        return f"in [{minimum}, {maximum}]"
    if minimum is not None:
        return f">= {minimum}"
    if maximum is not None:
        return f"<= {maximum}"
    return ""


def _range(minimum, maximum, exclusive_minimum, exclusive_maximum):
    if minimum is not None and maximum is not None:
        left = "(" if exclusive_minimum else "["
        right = ")" if exclusive_maximum else "]"
        return f"in {left}{minimum}, {maximum}{right}"
    if minimum is not None:
        return f"{'>' if exclusive_minimum else '>='} {minimum}"
    if maximum is not None:
        return f"{'<' if exclusive_maximum else '<='} {maximum}"
    return ""
