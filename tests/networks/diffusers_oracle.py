"""Random checkpoints made by diffusers itself, the oracle of the
`test_diffusers_*` parity tests."""

import pytest


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
