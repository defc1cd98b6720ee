"""Progressive GAN networks: every resolution built, gated by stage/alpha.

Keras graphs are static, so instead of adding layers while training, both
networks hold every resolution's block from the start and two
non-trainable variables, `stage` and `alpha`, weight their paths (Karras et
al., 2018, figure 2). Blocks above the current stage get weight 0: they
neither change the output nor receive gradients. `ProgressiveGrowing`
(a callback) moves `stage` and `alpha` between epochs.
"""

from keras import ops


def growth_gates(stage, alpha, num_stages):
    """Per-level weights `(output, entry, chain)` for a stage and alpha.

    Level k is the resolution after k doublings. At stage s > 0 the newest
    level s fades in with weight alpha against level s - 1:

    ```
    output[k] = alpha if k == s, (1 - alpha) if k == s - 1, else 0
    chain[k]  = 1 if k < s, alpha if k == s, else 0   (block k is used)
    ```

    `entry` (where the discriminator reads the image) equals `output`
    except that level s enters with weight 1 (its block is what fades).
    """
    levels = ops.arange(num_stages + 1, dtype="float32")
    # Variables read inside a mixed-precision layer arrive in its compute
    # dtype; the gates are computed in float32.
    stage = ops.cast(stage, "float32")
    alpha = ops.cast(alpha, "float32")
    alpha = ops.where(stage > 0, alpha, 1.0)
    is_stage = ops.cast(ops.equal(levels, stage), "float32")
    is_previous = ops.cast(ops.equal(levels, stage - 1), "float32")
    output = alpha * is_stage + (1.0 - alpha) * is_previous
    entry = is_stage + (1.0 - alpha) * is_previous
    chain = ops.cast(levels < stage, "float32") + alpha * is_stage
    return output, entry, chain
