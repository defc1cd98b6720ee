"""One bad input, and the bin its outcome falls in.

A `BadInput` is a call that must fail: kgen should refuse it with an error
naming the argument that is wrong. `classify` runs it and puts it in one
of four bins:

- `clear`: it raised `ValueError`, `TypeError`, `FileNotFoundError`,
  `FileExistsError` or an error class of kgen's own, and the message names
  the argument (the CLI: exit status 2, the `kgen ...: error:` line naming
  the option);
- `vague`: it failed, but with another error type, another exit status, or
  a message that does not name the argument;
- `silent`: no error (the CLI: exit status 0);
- `traceback`: the CLI let an exception escape `main` or printed one.

A case the code under test cannot express (an option or method it does not
have) is `unsupported`: not run, and counted apart from the four bins.
"""

import dataclasses
import re
import warnings

BINS = ("clear", "vague", "silent", "traceback")
UNSUPPORTED = "unsupported"

CLEAR_TYPES = (ValueError, TypeError, FileNotFoundError, FileExistsError)


@dataclasses.dataclass
class BadInput:
    """A call kgen must refuse.

    Attributes:
        area: str. `models`, `metrics`, `export` or `cli`.
        target: str. What is called, e.g. `VAE.fit` or `kgen train`.
        names: tuple of str. The argument's name and its accepted aliases
            (a CLI option's long and short forms, a path's value); the
            error must mention one of them.
        description: str. What is wrong, e.g. `x with a NaN`.
        call: zero-argument callable making the call. CLI calls return a
            `CliResult`; the others' return values are ignored.
        unsupported: str or `None`. Why the code under test cannot run this
            case (then `call` is never made).
    """

    area: str
    target: str
    names: tuple
    description: str
    call: object
    unsupported: str = None

    @property
    def argument(self):
        return self.names[0]

    def __str__(self):
        return f"{self.target}: {self.description}"


@dataclasses.dataclass
class CliResult:
    """What `kgen.cli.main` did: its exit status and what it printed."""

    code: int
    stdout: str
    stderr: str


@dataclasses.dataclass
class Outcome:
    """A case's bin, and the error (or "no error") that put it there."""

    bin: str
    message: str


def classify(bad_input):
    """Runs `bad_input` and returns its `Outcome`."""
    if bad_input.unsupported:
        return Outcome(UNSUPPORTED, bad_input.unsupported)
    # Warnings are not refusals; ignoring them also keeps pytest's
    # warnings-as-errors setting from changing a case's bin.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = bad_input.call()
        except Exception as error:
            return _classify_error(bad_input, error)
    if isinstance(result, CliResult):
        return _classify_cli(bad_input, result)
    return Outcome("silent", "no error")


def _classify_error(bad_input, error):
    message = f"{type(error).__name__}: {_one_line(error)}"
    if bad_input.area == "cli":
        return Outcome("traceback", message)
    if _is_clear_type(error) and names_argument(str(error), bad_input.names):
        return Outcome("clear", message)
    return Outcome("vague", message)


def _classify_cli(bad_input, result):
    if "Traceback (most recent call last)" in result.stderr:
        return Outcome("traceback", _one_line(result.stderr))
    if result.code == 0:
        return Outcome("silent", "exit status 0")
    # argparse and `kgen.cli.main` both write `kgen ...: error: ...`.
    errors = [line for line in result.stderr.splitlines() if ": error:" in line]
    message = f"exit {result.code}: " + _one_line(
        " ".join(errors) or result.stderr or "(nothing on stderr)"
    )
    if result.code == 2 and names_argument(" ".join(errors), bad_input.names):
        return Outcome("clear", message)
    return Outcome("vague", message)


def _is_clear_type(error):
    return isinstance(error, CLEAR_TYPES) or type(error).__module__.startswith(
        "kgen."
    )


def names_argument(message, names):
    """Whether `message` mentions one of `names`.

    A name counts quoted (`` `x` ``, `'x'`, `"x"`), subscripted inside
    backquotes (`` `x['positions']` ``: an entry of a dict argument) or,
    when it has three or more characters or is a CLI option (`-n`), as a
    whole word: a bare `x` or `y` also occurs in prose ("4 x 4"), so
    short names need quotes.
    """
    for name in names:
        if any(f"{quote}{name}{quote}" in message for quote in "`'\""):
            return True
        if f"`{name}[" in message:
            return True
        if len(name) >= 3 or name.startswith("-"):
            if re.search(rf"(?<![\w-]){re.escape(name)}(?!\w)", message):
                return True
    return False


def _one_line(text):
    """`text` on one line, without terminal colour codes (Keras bolds
    parts of its messages)."""
    return " ".join(re.sub(r"\x1b\[[0-9;]*m", "", str(text)).split())
