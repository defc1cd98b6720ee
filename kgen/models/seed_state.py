class SeedState:
    """Saves a model's seed generator states with its variables (a mixin
    of `GenerativeModel`).

    Keras saves layers' weights but not their `SeedGenerator` states, so
    a run resumed from a checkpoint (`BackupAndRestore`, `kgen train
    --resume`) would draw other noise, dropout masks and timesteps than
    the uninterrupted run. The model saves every seed state inside it
    (its own, its networks' Dropout layers', its samplers') with its own
    variables, and restores them when the file has them (files written
    before hold none; their models load with fresh seeds as before).
    """

    _SEED_STATE_KEY = "seed_generator_state_"

    def save_own_variables(self, store):
        super().save_own_variables(store)
        for index, generator in enumerate(seed_generators_in_order(self)):
            store[f"{self._SEED_STATE_KEY}{index}"] = generator.state

    def load_own_variables(self, store):
        keys = list(store.keys())
        seed_keys = [k for k in keys if k.startswith(self._SEED_STATE_KEY)]
        super().load_own_variables(
            {k: store[k] for k in keys if k not in seed_keys}
        )
        generators = seed_generators_in_order(self)
        if not seed_keys:
            return
        if len(seed_keys) != len(generators):
            raise ValueError(
                f"The file holds {len(seed_keys)} seed generator states; "
                f"this {type(self).__name__} has {len(generators)}: it was "
                "saved from a model of another architecture."
            )
        for index, generator in enumerate(generators):
            generator.state.assign(store[f"{self._SEED_STATE_KEY}{index}"])


def seed_generators_in_order(model):
    """Every `SeedGenerator` inside `model` (its own, its networks'
    Dropout layers', its samplers'), each once, in layer order."""
    generators, seen = [], set()
    for layer in model._flatten_layers(include_self=True):
        for generator in layer._seed_generators:
            if id(generator) not in seen:
                seen.add(id(generator))
                generators.append(generator)
    return generators
