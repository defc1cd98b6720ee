"""The written contract, checked on every public model class by signature.

`sample(num_samples, *, seed=None, ...)`: only `num_samples` is
positional, `seed` defaults to `None`, and every other keyword is a name
from `kgen.models.contract.VOCABULARY`, which gives each meaning one name
across families. A new keyword must be added there, with its meaning, on
purpose. Each class declares its capabilities exactly when it has their
methods.
"""

import inspect

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
