"""A `StatelessScope` that reads through to the enclosing one.

Backend-agnostic Keras code used by the JAX and torch adapters: inside it,
variable reads see the latest values (its own, then the enclosing scope's,
then the variables'), and assignments are collected instead of applied.
"""

import keras
from keras.src.backend.common.stateless_scope import get_stateless_scope


class ReadThroughScope(keras.StatelessScope):
    """A `StatelessScope` that falls back to the enclosing scope's values and
    remembers which variables were assigned inside it."""

    def __init__(self, state_mapping=()):
        super().__init__(state_mapping=state_mapping)
        self.parent = None
        self.assigned_variables = []

    def __enter__(self):
        self.parent = get_stateless_scope()
        return super().__enter__()

    def add_update(self, update):
        variable, _ = update
        if all(v is not variable for v in self.assigned_variables):
            self.assigned_variables.append(variable)
        super().add_update(update)

    def get_current_value(self, variable):
        value = super().get_current_value(variable)
        if value is None and self.parent is not None:
            value = self.parent.get_current_value(variable)
        return value
