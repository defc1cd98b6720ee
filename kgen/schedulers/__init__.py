"""Noise schedules and reverse-diffusion step rules, one per file.

Every scheduler shares the forward process of `DiffusionScheduler`
(`add_noise`, `training_target`, `timesteps`) and adds one `step`; all are
pure `keras.ops` with no model imports, so a step runs inside
`ops.fori_loop` and exports with XLA. `get(name, **schedule)` builds one
by its short name (`"ddpm"`, `"ddim"`, `"dpm_solver"`, `"euler"`,
`"euler_maruyama"`).
"""

from kgen.schedulers.ddim_scheduler import DDIMScheduler
from kgen.schedulers.ddpm_scheduler import DDPMScheduler
from kgen.schedulers.diffusion_scheduler import DiffusionScheduler
from kgen.schedulers.diffusion_scheduler import make_betas
from kgen.schedulers.dpm_solver_scheduler import DPMSolverScheduler
from kgen.schedulers.euler_maruyama_scheduler import EulerMaruyamaScheduler
from kgen.schedulers.euler_scheduler import EulerScheduler

SCHEDULERS = {
    "ddpm": DDPMScheduler,
    "ddim": DDIMScheduler,
    "dpm_solver": DPMSolverScheduler,
    "euler": EulerScheduler,
    "euler_maruyama": EulerMaruyamaScheduler,
}


def get(name, **schedule):
    """A scheduler by short name, on the noise schedule `**schedule`."""
    if name not in SCHEDULERS:
        raise ValueError(
            f"Unknown scheduler {name!r}; expected one of {sorted(SCHEDULERS)} "
            "or a `kgen.schedulers.DiffusionScheduler` instance."
        )
    return SCHEDULERS[name](**schedule)


__all__ = [
    "DDIMScheduler",
    "DDPMScheduler",
    "DPMSolverScheduler",
    "DiffusionScheduler",
    "EulerMaruyamaScheduler",
    "EulerScheduler",
    "SCHEDULERS",
    "get",
    "make_betas",
]
