"""diffusers' DDPM and DDIM scheduler configs and kgen's schedulers:
`scheduler_of` reads one, `scheduler_config` writes one, and
`schedule_arguments` reads the noise schedule any of diffusers'
schedulers holds (`diffusers_checkpoint`, `stable_diffusion_checkpoint`).
"""

from kgen import schedulers

# diffusers' DDPM/DDIM beta schedules -> kgen's.
BETA_SCHEDULES = {
    "linear": "linear",
    "scaled_linear": "scaled_linear",
    "squaredcos_cap_v2": "cosine",
}


# diffusers scheduler options kgen's schedulers have no counterpart for,
# with the value that means "off": any other is refused by name.
UNSUPPORTED_OPTIONS = {
    "thresholding": False,
    "rescale_betas_zero_snr": False,
    "steps_offset": 0,
    "clip_sample_range": 1.0,
    "trained_betas": None,
}


def scheduler_of(config):
    """The kgen scheduler of a diffusers DDPM or DDIM scheduler config
    (`scheduler_config.json`), with every option that changes sampling;
    a `ValueError` names what kgen's schedulers do not have."""
    kind = config.get("_class_name", "DDPMScheduler")
    if kind not in ("DDPMScheduler", "DDIMScheduler"):
        raise ValueError(
            f"A {kind} has no kgen scheduler; kgen maps DDPMScheduler and "
            "DDIMScheduler."
        )
    schedule = schedule_arguments(config)
    # kgen's DDIM has diffusers' `steps_offset`; its DDPM does not.
    unsupported = dict(UNSUPPORTED_OPTIONS)
    if kind == "DDIMScheduler":
        del unsupported["steps_offset"]
    refused = {
        key: config[key]
        for key, off in unsupported.items()
        if config.get(key, off) != off
    }
    options = {"clip_sample": config.get("clip_sample", True)}
    if kind == "DDPMScheduler":
        options["variance_type"] = config.get("variance_type", "fixed_small")
        if options["variance_type"] not in ("fixed_small", "fixed_large"):
            refused["variance_type"] = options["variance_type"]
    else:
        options["set_alpha_to_one"] = config.get("set_alpha_to_one", True)
        options["steps_offset"] = config.get("steps_offset", 0)
    if refused:
        raise ValueError(
            f"This {kind} uses options kgen's schedulers do not have: "
            f"{refused}."
        )
    return getattr(schedulers, kind)(**schedule, **options)


def schedule_arguments(config):
    """A kgen scheduler's noise-schedule arguments from a diffusers
    scheduler config (diffusers' defaults where it is silent); a
    `ValueError` names a `beta_schedule` kgen does not have."""
    schedule = config.get("beta_schedule", "linear")
    if schedule not in BETA_SCHEDULES:
        raise ValueError(
            f"beta_schedule={schedule!r} has no kgen schedule; kgen maps "
            f"{sorted(BETA_SCHEDULES)}."
        )
    return {
        "num_train_timesteps": config.get("num_train_timesteps", 1000),
        "beta_schedule": BETA_SCHEDULES[schedule],
        "beta_start": config.get("beta_start", 1e-4),
        "beta_end": config.get("beta_end", 0.02),
        "prediction_type": config.get("prediction_type", "epsilon"),
        "timestep_spacing": config.get("timestep_spacing", "leading"),
    }


def scheduler_config(scheduler):
    """The diffusers `scheduler_config.json` of a kgen DDPM or DDIM
    scheduler: `scheduler_of`'s inverse."""
    kind = type(scheduler).__name__
    config = scheduler.get_config()
    if kind not in ("DDPMScheduler", "DDIMScheduler") or (
        config.get("eta") or config.get("use_clipped_model_output")
    ):
        raise ValueError(
            f"A {kind} ({config}) has no diffusers pipeline scheduler kgen "
            "writes: use a DDPMScheduler, or a DDIMScheduler with eta=0 "
            "and use_clipped_model_output=False."
        )
    names = {value: key for key, value in BETA_SCHEDULES.items()}
    written = dict(
        UNSUPPORTED_OPTIONS,
        _class_name=kind,
        beta_schedule=names[config["beta_schedule"]],
    )
    for key in (
        "num_train_timesteps",
        "beta_start",
        "beta_end",
        "prediction_type",
        "timestep_spacing",
        "clip_sample",
        "variance_type",
        "set_alpha_to_one",
        "steps_offset",
    ):
        if key in config:
            written[key] = config[key]
    return written
