"""kgen's U-Net diffusion training beside diffusers' `UNet2DModel`: the
name issue 46 and earlier results give to
`python -m benchmarks.denoiser_vs_diffusers --network unet`, which
documents both and writes `unet_vs_diffusers_cpu.json`.

    taskset -c 1 env KERAS_BACKEND=torch python -m benchmarks.unet_vs_diffusers
"""

import sys

from benchmarks.denoiser_vs_diffusers import main

if __name__ == "__main__":
    main(["--network", "unet", *sys.argv[1:]])
