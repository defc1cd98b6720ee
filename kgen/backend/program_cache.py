"""Compiled inference programs, kept per owner (a model) and key."""

import collections
import weakref

# Programs kept per owner, the most recently used: a program per distinct
# set of sampling options (step rule, step count, guidance), which a user
# varying `num_steps` in a loop must not grow without bound.
MAX_PROGRAMS_PER_OWNER = 8


def variables_token(owner):
    """What a compiled program of `owner` depends on beyond its inputs:
    which variables it has. A program traced before variables were added
    (LoRA adapters, `kgen.lora.enable_lora`) computes without them, so a
    change of this token means a new program."""
    return tuple(map(id, owner.variables))


class ProgramCache:
    """The compiled form of `function(owner, *args)` per owner, key and
    the owner's variables (`variables_token`).

    `compile(owner_ref, function)` builds a program; the cache holds
    only a weak reference to each owner, so its programs go with it.
    """

    def __init__(self, compile):
        self._compile = compile
        self._programs = weakref.WeakKeyDictionary()

    def get(self, owner, key, function):
        key = (key, variables_token(owner))
        programs = self._programs.get(owner)
        if programs is None:
            programs = self._programs[owner] = collections.OrderedDict()
        program = programs.get(key)
        if program is not None:
            programs.move_to_end(key)
            return program
        # `function` must not hold the owner either (an unbound method
        # or a function of its first argument).
        program = programs[key] = self._compile(weakref.ref(owner), function)
        if len(programs) > MAX_PROGRAMS_PER_OWNER:
            programs.popitem(last=False)
        return program
