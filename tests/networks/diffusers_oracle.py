"""Random checkpoints made by diffusers itself, the oracle of the
`test_diffusers_*` parity tests."""

import numpy as np
import pytest

from kgen.networks.diffusers_weights import diffusers_weights
from kgen.networks.diffusers_weights import load_diffusers_weights


def random_diffusers_model(class_name, config, scale=0.1):
    """A diffusers model `class_name` of `config` with every weight moved
    off its (often zero) initial value by `scale` x N(0, 1), so that
    each one shows in the outputs."""
    torch = pytest.importorskip("torch")
    diffusers = pytest.importorskip("diffusers")
    torch.manual_seed(0)
    model = getattr(diffusers, class_name)(**config).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(scale * torch.randn_like(parameter))
    return model


def kgen_twin(model, build):
    """`build(config)`, kgen's network for diffusers' `model`'s config,
    holding `model`'s weights; and those weights as numpy arrays."""
    tensors = {k: v.numpy() for k, v in model.state_dict().items()}
    network = build(dict(model.config))
    load_diffusers_weights(network, tensors)
    return network, tensors


def assert_gives_weights_back(tensors, *networks):
    """The checkpoint `networks` write together is `tensors`, every name
    and every value."""
    back = {}
    for network in networks:
        back.update(diffusers_weights(network))
    assert sorted(back) == sorted(tensors)
    for key, value in tensors.items():
        np.testing.assert_array_equal(back[key], value, err_msg=key)
