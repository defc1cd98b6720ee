"""Bad inputs for every public model class of `kgen.models`.

Each family's tiny harness model (`tests/models/contract_cases.py`) is
built once; the bad inputs are made from its own training examples, its
`data_shape` / `data_range`, and the signatures of its `sample` and of its
other public methods, found with `inspect`: any public method whose first
parameter takes examples (`x`, `images`, `tokens`...) or codes (`z`,
`indices`...) is called once with valid values, and then with bad
ones.
"""

import inspect
import time

import keras
import numpy as np

import kgen
from tests.fuzz.bad_input import BadInput
from tests.models import contract_cases

# Every case fits one epoch of one batch: an accepted bad input costs a
# step, not a training run.
FIT_ARGUMENTS = {"epochs": 1, "batch_size": 8, "verbose": 0}
NUM_SAMPLES = 2
METHOD_EXAMPLES = 4

BAD_COUNTS = (0, -1, 2.5, True, "3", None)
BAD_SEEDS = ("a", 1.5, [1, 2], True)
BAD_STEPS = (0, -1, 2.5, True, "2")
BAD_BATCH_SIZES = (0, -1, 1.5, True, "8")
# No `epochs=0`: Keras reads `epochs` as the index of the last epoch, so
# `epochs=0` (like `epochs=initial_epoch`) is a fit that trains nothing.
BAD_EPOCHS = (-1, 1.5, True, "1")

# Keyword arguments of `sample` (and of other methods) with one meaning
# across families, and values that are wrong wherever they appear.
BAD_KEYWORDS = {
    "num_steps": BAD_STEPS,
    "length": BAD_STEPS,
    "temperature": (0.0, -1.0, float("nan"), float("inf"), "1"),
    # A negative guidance scale is still a defined (if odd) extrapolation.
    "guidance_scale": (float("nan"), float("inf"), "2"),
    "guidance": ("no_such_rule", 3),
    "truncation_psi": (float("nan"), "1"),
    "scheduler": ("no_such_scheduler", 3),
    "sampler": ("no_such_sampler", 3),
    "direction": ("c_to_d", 1),
    "classifier": ("no_such_classifier",),
    "from_buffer": ("no",),
    "windowed": ("no",),
    "max_new_tokens": (0, -1, 1.5, True),
    # Molecules: no atom, more than the model's maximum, not an int, one
    # count too few.
    "num_atoms": (0, -1, 10**6, 1.5, True, "2", [2]),
    # No text, a number, a word outside the vocabulary, a character the
    # tokenizer cannot read, one prompt too few.
    "prompts": ([], 3, "a zebra", "a thick \u00e9", ["two"]),
}

# First parameters that take examples like the training data, and those
# that take what `encode` returns.
DATA_PARAMETERS = (
    "x",
    "images",
    "visible",
    "tokens",
    "prompt",
    "low_resolution",
)
CODE_PARAMETERS = ("z", "indices", "noise")
# Valid values of other required parameters (a function: of the valid
# first input).
VALID_EXTRAS = {"max_new_tokens": 2, "mask": np.ones_like}
# Cheap valid values of optional parameters whose defaults are costly:
# `RBM.log_prob` estimates `log Z` by AIS (10,000 steps) when not given
# one; IWAE bounds draw 100 samples per example.
# `num_steps` of an ODE's log-likelihood or a sampler's inversion: 2 keeps
# a valid call under PROBE_SECONDS (FlowMatching.log_prob's default 64
# Heun steps took a minute, only for the method to be left out).
CHEAP_OPTIONS = {"log_partition": 0.0, "num_samples": 2, "num_steps": 2}
# A method whose valid call takes longer is left out: each of its cases
# could cost as much.
PROBE_SECONDS = 2.0
# `initialize` re-runs data-dependent initialisation: it rewrites the
# weights rather than reading an input. `*_inputs` methods are the hooks
# that assemble a network's inputs inside the steps.
SKIPPED_METHODS = ("initialize",)


def families():
    """Names of the public model classes of `kgen.models` (each must have
    a harness case)."""
    return sorted(
        name
        for name in kgen.models.__all__
        if inspect.isclass(getattr(kgen.models, name))
        and name != "GenerativeModel"
    )


class Harness:
    """A family's harness model, shared by its cases.

    A case that left non-finite weights behind (an accepted NaN batch)
    gets the model rebuilt, so that it changes no later case's outcome.
    """

    def __init__(self, name):
        if name not in contract_cases.CASES:
            raise ValueError(f"tests/models/contract_cases.py has no {name}.")
        self.name = name
        self.case = contract_cases.CASES[name]()

    @property
    def model(self):
        return self.case.model

    def calling(self, method):
        """A zero-argument call of `method(model)`."""
        return lambda: self._run(method)

    def _run(self, method):
        try:
            return method(self.model)
        finally:
            if not all(
                np.isfinite(keras.ops.convert_to_numpy(w)).all()
                for w in self.model.weights
            ):
                self.case = contract_cases.CASES[self.name]()


def family_inputs(name):
    """The bad inputs of one family (builds its harness model)."""
    harness = Harness(name)
    return (
        _fit_inputs(harness) + _sample_inputs(harness) + _method_inputs(harness)
    )


# === fit ===


def _fit_inputs(harness):
    case, model = harness.case, harness.model
    x, y = case.x, case.y
    inputs = []

    def add(names, description, *data, **overrides):
        arguments = dict(FIT_ARGUMENTS, **overrides)
        inputs.append(
            BadInput(
                "models",
                f"{harness.name}.fit",
                (names,) if isinstance(names, str) else names,
                description,
                harness.calling(lambda model: model.fit(*data, **arguments)),
            )
        )

    rest = () if y is None else (y,)
    if isinstance(x, dict):  # molecules: a dict of arrays
        bad_examples = _bad_molecules(x, model.data_shape, model)
        no_examples = {key: value[:0] for key, value in x.items()}
        bad_validation = (
            (
                "with a NaN",
                dict(x, positions=_with_value(x["positions"], np.nan)),
            ),
            ("with an extra axis 1", {k: v[:, None] for k, v in x.items()}),
        )
    else:
        bad_examples = _bad_examples(
            x, model.data_shape, model.data_range, case.integer_samples
        )
        no_examples = x[:0]
        bad_validation = (
            ("with a NaN", _with_value(x, np.nan)),
            ("with an extra axis 1", x[:, None]),
        )
    for description, bad in bad_examples:
        add("x", f"x {description}", bad, *rest)
    # With `y` emptied too, an error may name either.
    add(("x", "y"), "x with no examples", no_examples, *(r[:0] for r in rest))
    for description, bad in bad_validation:
        validation = bad if y is None else (bad, y)
        add(
            "validation_data",
            f"validation_data {description}",
            *(x,) + rest,
            validation_data=validation,
        )
    if case.conditional:
        add("y", "no labels for a class-conditional model", x)
        for description, bad in _bad_labels(y, model.num_classes):
            add("y", f"labels y {description}", x, bad)
    elif case.paired:
        add("y", "no targets y for a paired model", x)
        for description, bad in _bad_targets(y):
            add("y", f"targets y {description}", x, bad)
    else:
        count = len(x["positions"] if isinstance(x, dict) else x)
        labels = np.arange(count, dtype="int32") % 3
        add("y", "labels y for an unconditional model", x, labels)
    for argument, values in (
        ("batch_size", BAD_BATCH_SIZES),
        ("epochs", BAD_EPOCHS),
    ):
        for value in values:
            add(
                argument,
                f"{argument}={value!r}",
                *(x,) + rest,
                **{argument: value},
            )
    return inputs


def _bad_examples(x, data_shape, data_range, integer):
    """`(description, value)` pairs: `x` made wrong in one way each."""
    bad = [
        ("with an extra axis 1", x[:, None]),
        ("without its batch axis", x[0]),
        ("of strings", x.astype(str)),
        ("of bools", x > np.median(x)),
        ("of complex numbers", x.astype("complex64")),
        ("with a NaN", _with_value(x, np.nan)),
        ("with an infinity", _with_value(x, np.inf)),
    ]
    fixed = [axis for axis, size in enumerate(data_shape) if size is not None]
    # Axes of size `None` (sequence lengths) legitimately take any size.
    if fixed:
        axis = fixed[-1] + 1
        bad.append(
            (
                f"with axis {axis} doubled",
                np.concatenate([x, x], axis=axis),
            )
        )
    if data_range is not None:
        low, high = data_range
        bad.append((f"above data_range {high}", _with_value(x, high + 1.0)))
        bad.append((f"below data_range {low}", _with_value(x, low - 1.0)))
    if integer:
        bad.append(("with level -1", _with_value(x, -1)))
        bad.append(("with level 10**6", _with_value(x, 10**6)))
        bad.append(("with fractional levels", x + 0.5))
    return bad


def _bad_molecules(x, data_shape, model):
    """`(description, value)` pairs: molecules `x` (a dict of positions,
    atom types and masks) made wrong in one way each: each array as
    `_bad_examples` spoils examples, and the ways only molecules go
    wrong."""
    bad = []
    for key in sorted(x):
        for description, value in _bad_examples(
            x[key], data_shape[key], None, False
        ):
            if key == "atom_mask" and description == "of bools":
                continue  # a mask of bools is what a mask is
            bad.append((f"[{key!r}] {description}", dict(x, **{key: value})))
    empty = np.array(x["atom_mask"])
    empty[0] = False
    types = np.array(x["atom_types"])
    bad += [
        (
            "without 'atom_mask'",
            {k: v for k, v in x.items() if k != "atom_mask"},
        ),
        ("with an extra key", dict(x, charges=x["atom_types"])),
        ("as one array", x["positions"]),
        ("with a molecule of no atom", dict(x, atom_mask=empty)),
        (
            "with a mask of 2",
            dict(x, atom_mask=np.where(x["atom_mask"], 2, 0)),
        ),
        (
            f"with atom type {model.num_atom_types}",
            dict(
                x, atom_types=np.where(x["atom_mask"], model.num_atom_types, 0)
            ),
        ),
        ("with atom type -1", dict(x, atom_types=types - 1)),
    ]
    return bad


def _bad_labels(labels, num_classes):
    return [
        (f"with class {num_classes}", _with_value(labels, num_classes)),
        ("with class -1", _with_value(labels, -1)),
        ("with fractional classes", labels + 0.5),
        ("with one label too few", labels[:-1]),
        ("of strings", labels.astype(str)),
        ("with a NaN", _with_value(labels, np.nan)),
        ("one-hot", np.eye(num_classes, dtype="float32")[labels]),
    ]


def _bad_targets(y):
    return [
        ("with an extra axis 1", y[:, None]),
        ("with axis -1 doubled", np.concatenate([y, y], axis=-1)),
        ("with one example too few", y[:-1]),
        ("of strings", y.astype(str)),
        ("with a NaN", _with_value(y, np.nan)),
        ("with an infinity", _with_value(y, np.inf)),
    ]


# === sample ===


def _sample_inputs(harness):
    case, model = harness.case, harness.model
    parameters = inspect.signature(model.sample).parameters
    base = dict(case.sample_kwargs)
    if case.paired:
        base["condition"] = case.x[:NUM_SAMPLES]
    if case.conditional:
        # One class for every sample: valid whatever `num_samples` is, and
        # some families (PixelCNN, WaveNet) draw no labels themselves.
        base["labels"] = 0
    inputs = []

    def add(argument, description, num_samples=NUM_SAMPLES, **overrides):
        arguments = dict(base, **overrides)
        inputs.append(
            BadInput(
                "models",
                f"{harness.name}.sample",
                (argument,),
                description,
                harness.calling(
                    lambda model: model.sample(num_samples, **arguments)
                ),
            )
        )

    for value in BAD_COUNTS:
        add("num_samples", f"num_samples={value!r}", num_samples=value)
    for value in BAD_SEEDS:
        add("seed", f"seed={value!r}", seed=value)
    for keyword, values in BAD_KEYWORDS.items():
        if keyword in parameters:
            for value in values:
                add(keyword, f"{keyword}={value!r}", **{keyword: value})
    text_conditional = "prompts" in parameters
    if "guidance_scale" in parameters and not (
        case.conditional or text_conditional
    ):
        add(
            "guidance_scale",
            "guidance_scale=2.0, unconditional",
            guidance_scale=2.0,
        )
    if "labels" in parameters:
        if case.conditional:
            labels = np.arange(NUM_SAMPLES, dtype="int32")
            for description, bad in _bad_labels(labels, model.num_classes):
                add("labels", f"labels {description}", labels=bad)
        else:
            add("labels", "labels for an unconditional model", labels=[0, 1])
    if "condition" in parameters:
        condition = (
            np.zeros((NUM_SAMPLES, 1), "float32")  # a molecule's property
            if isinstance(case.x, dict)
            else case.x[:NUM_SAMPLES]
        )
        if case.paired:
            add("condition", "no condition for a paired model", condition=None)
            for description, bad in _bad_targets(condition):
                add("condition", f"condition {description}", condition=bad)
        else:
            add(
                "condition",
                "condition=x[:2] for a model built without condition maps",
                condition=condition,
            )
    if "initial" in parameters:
        initial = case.x[:NUM_SAMPLES]
        for description, bad in _bad_targets(initial):
            add("initial", f"initial {description}", initial=bad)
    return inputs


# === Other public methods ===


def _method_inputs(harness):
    inputs = []
    for name, function in inspect.getmembers(
        type(harness.model), inspect.isfunction
    ):
        if _is_data_method(name, function):
            inputs += _one_method_inputs(harness, name, function)
    return inputs


def _is_data_method(name, function):
    if (
        name.startswith("_")
        or name in ("fit", "sample")
        or name in SKIPPED_METHODS
        or name.endswith("_inputs")
        or hasattr(keras.Model, name)
    ):
        return False
    parameters = list(inspect.signature(function).parameters)[1:]
    return bool(parameters) and parameters[0] in (
        DATA_PARAMETERS + CODE_PARAMETERS
    )


def _one_method_inputs(harness, name, function):
    """Bad first inputs (and keywords) of `model.<name>`, or none when no
    valid call of it could be made."""
    parameters = list(inspect.signature(function).parameters.values())[1:]
    first = parameters[0].name
    valid = _valid_call(harness, name, parameters)
    if valid is None:
        return []
    value, extras = valid
    target = f"{harness.name}.{name}"
    inputs = []

    def add(argument, description, first_value, **overrides):
        arguments = dict(extras, **overrides)
        inputs.append(
            BadInput(
                "models",
                target,
                (argument,),
                description,
                harness.calling(
                    lambda model: getattr(model, name)(first_value, **arguments)
                ),
            )
        )

    if isinstance(value, dict):
        # Molecules: each array spoiled, and the ways only they go wrong.
        for description, bad_value in _bad_molecules(
            value, harness.model.data_shape, harness.model
        ):
            separator = "" if description.startswith("[") else " "
            add(first, f"{first}{separator}{description}", bad_value)
        _add_keyword_inputs(harness, parameters, value, extras, add)
        return inputs
    data_range = harness.model.data_range if first in DATA_PARAMETERS else None
    integer = np.issubdtype(value.dtype, np.integer)
    data_shape = harness.model.data_shape
    last_axis_fixed = not integer and (
        first not in DATA_PARAMETERS or data_shape[-1] is not None
    )
    bad = [
        ("with an extra axis 1", value[:, None]),
        ("of strings", value.astype(str)),
        ("with a NaN", _with_value(value, np.nan)),
    ]
    if integer:
        bad.append(("with level -1", _with_value(value, -1)))
        bad.append(("with level 10**6", _with_value(value, 10**6)))
    elif last_axis_fixed:
        bad.append(
            ("with axis -1 doubled", np.concatenate([value, value], axis=-1))
        )
    if data_range is not None:
        high = data_range[1]
        bad.append((f"above data_range {high}", _with_value(value, high + 1)))
    for description, bad_value in bad:
        add(first, f"{first} {description}", bad_value)
    _add_keyword_inputs(harness, parameters, value, extras, add)
    return inputs


def _add_keyword_inputs(harness, parameters, value, extras, add):
    """Bad keywords of a data method whose valid call takes `value` and
    `extras`, each recorded by `add`."""
    case = harness.case
    names = {parameter.name for parameter in parameters}
    for keyword, values in BAD_KEYWORDS.items():
        if keyword in names:
            for bad_value in values:
                add(
                    keyword,
                    f"{keyword}={bad_value!r}",
                    value,
                    **{keyword: bad_value},
                )
    if "labels" in names:
        if case.conditional:
            labels = _with_value(extras["labels"], harness.model.num_classes)
            add(
                "labels",
                "labels with an out-of-range class",
                value,
                labels=labels,
            )
        else:
            labels = np.zeros(len(value), "int32")
            add(
                "labels",
                "labels for an unconditional model",
                value,
                labels=labels,
            )


def _valid_call(harness, name, parameters):
    """`(first input, other arguments)` that `model.<name>` accepts, or
    `None`."""
    case, model = harness.case, harness.model
    # Each other argument: a value, or a function of the first input.
    extras = {}
    for parameter in parameters[1:]:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.name == "labels" and case.conditional:
            extras["labels"] = lambda first: case.y[: len(first)]
        elif parameter.name in CHEAP_OPTIONS:
            extras[parameter.name] = CHEAP_OPTIONS[parameter.name]
        elif parameter.default is parameter.empty:
            if parameter.name not in VALID_EXTRAS:
                return None
            extras[parameter.name] = VALID_EXTRAS[parameter.name]
    x = _first_examples(case.x, METHOD_EXAMPLES)
    if parameters[0].name in CODE_PARAMETERS:
        candidates = _code_candidates(harness, x)
    else:
        candidates = _data_candidates(harness, parameters[0].name, x)
    for candidate in candidates:
        arguments = {
            key: extra(candidate) if callable(extra) else extra
            for key, extra in extras.items()
        }
        start = time.monotonic()
        try:
            getattr(model, name)(candidate, **arguments)
        except Exception:
            continue
        if time.monotonic() - start > PROBE_SECONDS:
            return None
        return candidate, arguments
    return None


def _first_examples(x, count):
    """The first `count` examples of `x`, an array or a dict of them."""
    if isinstance(x, dict):
        return {key: value[:count] for key, value in x.items()}
    return x[:count]


def _data_candidates(harness, first, x):
    """Possible valid examples for a first parameter `first`."""
    case, model = harness.case, harness.model
    candidates = [x]
    if isinstance(x, dict):
        return candidates
    if first == "low_resolution" and x.ndim == 4:
        candidates.append(x[:, ::2, ::2])
    if case.paired:
        candidates.append(case.y[: len(x)])
    if None in model.data_shape:
        # Variable-length sequences: a shorter prefix leaves room to grow.
        candidates.append(x[:, : x.shape[1] // 2])
    return candidates


def _code_candidates(harness, x):
    """Possible valid codes: `encode(x)`, the model's noise, zeros."""
    case, model = harness.case, harness.model
    candidates = []
    labels = {"labels": case.y[: len(x)]} if case.conditional else {}
    try:
        codes = model.encode(x, **labels)
    except Exception:
        codes = None
    if isinstance(codes, (tuple, list)):
        codes = codes[0]
    if codes is not None and not hasattr(codes, "shape"):
        # A posterior distribution: its mean is a valid code.
        codes = codes.mean() if hasattr(codes, "mean") else None
    if codes is not None:
        candidates.append(codes)
    if hasattr(model, "sample_noise"):
        candidates.append(model.sample_noise(len(x)))
    if isinstance(getattr(model, "latent_dim", None), int):
        candidates.append(np.zeros((len(x), model.latent_dim), "float32"))
    return [np.asarray(keras.ops.convert_to_numpy(c)) for c in candidates]


def _with_value(array, value):
    """A copy of `array` whose first entry is `value` (as float if `value`
    is a float and `array` holds integers)."""
    array = np.array(array)
    if isinstance(value, float) and not np.issubdtype(array.dtype, np.floating):
        array = array.astype("float32")
    array.flat[0] = value
    return array
