"""The written contract, checked on every public model class by signature.

`sample(num_samples, *, seed=None, ...)`: only `num_samples` is
positional, `seed` defaults to `None`, and every other keyword is a name
from `kgen.models.contract.VOCABULARY`, which gives each meaning one name
across families. A new keyword must be added there, with its meaning, on
purpose. Each class declares its capabilities exactly when it has their
methods.
"""

import inspect

import keras
import pytest

import kgen
from kgen.models import contract

PUBLIC_MODELS = sorted(
    name
    for name in kgen.models.__all__
    if isinstance(getattr(kgen.models, name), type)
    and name != "GenerativeModel"
)


def keywords_after_first(function):
    parameters = list(inspect.signature(function).parameters.values())[1:]
    return parameters[0], parameters[1:]


@pytest.mark.parametrize("name", PUBLIC_MODELS)
def test_sample_takes_only_num_samples_positionally(name):
    cls = getattr(kgen.models, name)
    first, rest = keywords_after_first(cls.sample)
    assert first.name == "num_samples"
    assert first.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert first.default is inspect.Parameter.empty
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in rest), [
        p.name for p in rest if p.kind is not inspect.Parameter.KEYWORD_ONLY
    ]
    names = [p.name for p in rest]
    assert names[0] == "seed", names
    assert rest[0].default is None
    unknown = set(names) - set(contract.VOCABULARY)
    assert not unknown, f"{name}.sample: names outside the vocabulary"


@pytest.mark.parametrize("name", PUBLIC_MODELS)
def test_capabilities_are_declared_exactly_when_their_methods_exist(name):
    cls = getattr(kgen.models, name)
    present = {
        capability
        for capability, (methods, _) in contract.CAPABILITIES.items()
        if all(callable(getattr(cls, method, None)) for method in methods)
    }
    # A class has a capability's methods exactly when it declares it: none
    # inherits a method only to raise.
    assert set(contract.capabilities(cls)) == present
    assert contract.options(cls) <= set(contract.VOCABULARY)


# The likelihood capabilities: one estimate per name, in nats per example
# (`bits_per_dim` per dimension), the data positional, the rest keywords.
LIKELIHOODS = ("log_prob", "elbo", "bits_per_dim", "free_energy")


@pytest.mark.parametrize("name", PUBLIC_MODELS)
def test_likelihoods_take_the_data_alone_positionally(name):
    cls = getattr(kgen.models, name)
    for capability in set(LIKELIHOODS) & set(contract.capabilities(cls)):
        method = getattr(cls, capability)
        first, rest = keywords_after_first(method)
        assert first.default is inspect.Parameter.empty, capability
        positional = [
            p.name for p in rest if p.kind is not inspect.Parameter.KEYWORD_ONLY
        ]
        assert not positional, f"{name}.{capability}: {positional}"
        assert {p.name for p in rest} <= set(contract.VOCABULARY) | {
            "log_partition"
        }, capability


def public_methods(cls):
    """The public methods a model class adds to Keras' `Model`."""
    keras_names = set(dir(keras.Model))
    for name in dir(cls):
        if name.startswith("_") or name in keras_names:
            continue
        value = getattr(cls, name)
        static = inspect.getattr_static(cls, name)
        if isinstance(static, property) or isinstance(value, type):
            continue
        if callable(value):
            yield name, value


@pytest.mark.parametrize("name", PUBLIC_MODELS)
def test_every_public_method_and_argument_is_in_the_vocabulary(name):
    """One name per meaning over every public method: each method's name
    is in `contract.METHODS` and each of its arguments in
    `contract.VOCABULARY`, where the meaning of each is written once."""
    cls = getattr(kgen.models, name)
    methods = dict(public_methods(cls))
    assert "sample" in methods
    unknown_methods = set(methods) - set(contract.METHODS)
    assert not unknown_methods, f"{name}: methods outside the vocabulary"
    for method_name, method in methods.items():
        parameters = inspect.signature(method).parameters.values()
        names = {
            p.name
            for p in parameters
            if p.name not in ("self", "cls")
            and p.kind
            not in (
                inspect.Parameter.VAR_POSITIONAL,
                inspect.Parameter.VAR_KEYWORD,
            )
        }
        unknown = names - set(contract.VOCABULARY)
        assert not unknown, f"{name}.{method_name}: arguments {unknown}"
        hidden = [
            p.name
            for p in parameters
            if p.kind is inspect.Parameter.VAR_KEYWORD
            and method_name not in KERAS_HOOKS
        ]
        assert not hidden, f"{name}.{method_name} hides its arguments"


# Keras' own hooks keep Keras' signatures.
KERAS_HOOKS = ("save_assets", "load_assets", "from_preset")


def test_the_vocabulary_has_no_unused_names():
    """A name nobody uses is a meaning nobody needs: every entry of
    `METHODS` and `VOCABULARY` is used by some model class."""
    used_methods, used_arguments = set(), set()
    for name in PUBLIC_MODELS:
        for method_name, method in public_methods(getattr(kgen.models, name)):
            used_methods.add(method_name)
            used_arguments |= set(inspect.signature(method).parameters)
    assert set(contract.METHODS) - used_methods == set()
    assert set(contract.VOCABULARY) - used_arguments == set()


def test_an_unknown_capability_is_refused():
    with pytest.raises(ValueError, match="Unknown capability 'fly'"):
        contract.can(kgen.models.VAE, "fly")


@pytest.mark.parametrize("name", ["Pix2Pix", "CycleGAN", "SRGAN"])
def test_paired_models_translate_with_a_keyword_seed(name):
    translate = getattr(kgen.models, name).translate
    first, rest = keywords_after_first(translate)
    assert first.default is inspect.Parameter.empty
    assert rest and rest[0].name == "seed"
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in rest)


def test_token_models_generate_from_a_prompt():
    parameters = list(
        inspect.signature(kgen.models.GPT.generate).parameters.values()
    )[1:]
    assert [p.name for p in parameters[:2]] == ["prompt", "max_new_tokens"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters[2:])
    assert {"sampler", "seed"} <= {p.name for p in parameters[2:]}


def test_every_model_loads_presets_through_the_base_class():
    for name in PUBLIC_MODELS:
        cls = getattr(kgen.models, name)
        assert cls.from_preset.__func__ is (
            kgen.models.GenerativeModel.from_preset.__func__
        )


def test_a_preset_of_another_class_is_refused():
    with pytest.raises(kgen.presets.PresetError, match="not a VAE"):
        kgen.models.VAE.from_preset("dcgan_digits")
