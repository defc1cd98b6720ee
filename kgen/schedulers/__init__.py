"""Noise schedules and reverse-diffusion step rules, one per file.

Every scheduler shares the forward process of `DiffusionScheduler`
(`add_noise`, `training_target`, `timesteps`) and adds one `step`; all are
pure `keras.ops` with no model imports, so a step runs inside
`ops.fori_loop` and exports with XLA. `get(name, **schedule)` builds one
by its short name (`"ddpm"`, `"ddim"`, `"dpm_solver"`, `"euler"`,
`"euler_maruyama"`).

A consistency model's multistep sampling is a step rule of the same
loop (`ConsistencyScheduler`).

Flow matching has its own path (`FlowMatchScheduler`: straight lines
from data to noise, a velocity target) and ODE solvers on it,
`get_flow_match("euler" | "heun", **schedule)`.
"""

from kgen.schedulers.consistency_scheduler import ConsistencyScheduler
from kgen.schedulers.ddim_scheduler import DDIMScheduler
from kgen.schedulers.ddpm_scheduler import DDPMScheduler
from kgen.schedulers.diffusion_scheduler import DiffusionScheduler
from kgen.schedulers.diffusion_scheduler import make_betas
from kgen.schedulers.dpm_solver_scheduler import DPMSolverScheduler
from kgen.schedulers.euler_maruyama_scheduler import EulerMaruyamaScheduler
from kgen.schedulers.euler_scheduler import EulerScheduler
from kgen.schedulers.flow_match_euler_scheduler import FlowMatchEulerScheduler
from kgen.schedulers.flow_match_heun_scheduler import FlowMatchHeunScheduler
from kgen.schedulers.flow_match_scheduler import FlowMatchScheduler

SCHEDULERS = {
    "ddpm": DDPMScheduler,
    "ddim": DDIMScheduler,
    "dpm_solver": DPMSolverScheduler,
    "euler": EulerScheduler,
    "euler_maruyama": EulerMaruyamaScheduler,
}

# The ODE solvers of a flow-matching model, by the same short names.
FLOW_MATCH_SCHEDULERS = {
    "euler": FlowMatchEulerScheduler,
    "heun": FlowMatchHeunScheduler,
}


def get(name, **schedule):
    """A scheduler by short name, on the noise schedule `**schedule`."""
    if name not in SCHEDULERS:
        raise ValueError(
            f"Unknown scheduler {name!r}; expected one of {sorted(SCHEDULERS)} "
            "or a `kgen.schedulers.DiffusionScheduler` instance."
        )
    return SCHEDULERS[name](**schedule)


def get_flow_match(name, **schedule):
    """A flow-matching ODE solver by short name (`"euler"`, `"heun"`)."""
    if name not in FLOW_MATCH_SCHEDULERS:
        raise ValueError(
            f"Unknown flow-matching scheduler {name!r}; expected one of "
            f"{sorted(FLOW_MATCH_SCHEDULERS)} or a "
            "`kgen.schedulers.FlowMatchScheduler` instance."
        )
    return FLOW_MATCH_SCHEDULERS[name](**schedule)


__all__ = [
    "ConsistencyScheduler",
    "DDIMScheduler",
    "DDPMScheduler",
    "DPMSolverScheduler",
    "DiffusionScheduler",
    "EulerMaruyamaScheduler",
    "EulerScheduler",
    "FLOW_MATCH_SCHEDULERS",
    "FlowMatchEulerScheduler",
    "FlowMatchHeunScheduler",
    "FlowMatchScheduler",
    "SCHEDULERS",
    "get",
    "get_flow_match",
    "make_betas",
]
