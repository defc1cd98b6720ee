import ast
import inspect

import numpy as np
import pytest

import kgen
from kgen.models import contract
from kgen.models.diffusion import average_velocity_model
from kgen.models.diffusion import consistency_model
from kgen.models.diffusion import diffusion_sampling
from kgen.models.diffusion import flow_matching_sampling
from kgen.models.diffusion import guidance
from kgen.models.diffusion import sampling_plan
from kgen.models.diffusion import text_to_image_sampling
from kgen.models.diffusion.guidance import Guidance
from kgen.models.diffusion.sampling_plan import SamplingPlan
from kgen.schedulers import sampling_loop

# The modules a sampling run passes through below the families' public
# methods (whose keyword arguments are the contract's vocabulary).
SAMPLING_PATH = (
    sampling_plan,
    guidance,
    diffusion_sampling,
    flow_matching_sampling,
    text_to_image_sampling,
    consistency_model,
    average_velocity_model,
    sampling_loop,
)


def _parameter_counts(module):
    tree = ast.parse(inspect.getsource(module))
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        arguments = node.args
        names = [
            a.arg
            for a in arguments.posonlyargs
            + arguments.args
            + arguments.kwonlyargs
        ]
        names += [a.arg for a in (arguments.vararg, arguments.kwarg) if a]
        yield node.name, len([n for n in names if n not in ("self", "cls")])


@pytest.mark.parametrize("module", SAMPLING_PATH, ids=lambda m: m.__name__)
def test_no_function_on_the_sampling_path_takes_over_six_parameters(module):
    too_many = {
        name: count
        for name, count in _parameter_counts(module)
        if count > 6
        and name != "__init__"  # constructors: the configuration
        and name not in contract.METHODS  # `sample`, `generate`...
    }
    assert not too_many, too_many


def test_guidance_is_checked_once_and_keys_the_program():
    assert Guidance(2, (0.2, 0.8)).key == (2.0, (0.2, 0.8), "cfg")
    assert Guidance(2, classifier_scale=3.0).key == Guidance(2).key
    # Unguided, any rule is classifier-free guidance's: one program.
    assert Guidance(0.0, rule="cfg++").key == Guidance().key
    with pytest.raises(ValueError, match="guidance_interval"):
        Guidance(0.0, (0.2, 0.8))
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        Guidance(1.5, rule="cfg++")
    with pytest.raises(ValueError, match="classifier"):
        Guidance(1.0, classifier="not a model")
    with pytest.raises(ValueError, match="guidance_scale"):
        Guidance("strong")


def test_a_plan_with_a_guide_or_known_pixels_is_traced_anew():
    scheduler = kgen.schedulers.get("ddim")
    points = scheduler.timesteps(4)
    plan = SamplingPlan(scheduler, points, Guidance(1.0))
    assert plan.key == (
        repr(scheduler),
        tuple(points.tolist()),
        Guidance(1.0).key,
    )
    assert SamplingPlan(scheduler, points, after_step=np.abs).key is None
    with pytest.raises(ValueError, match="deterministic"):
        SamplingPlan(kgen.schedulers.get("ddpm"), points, watermark=object())
