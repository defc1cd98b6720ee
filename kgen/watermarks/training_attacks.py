"""The attack suite as a training-time augmentation."""

from keras import ops

from kgen.watermarks import image_attacks

# Attacks whose output is not differentiable in the image (rounding) or
# whose gradient some backend lacks (the affine resampling of a
# rotation): gradients pass straight through them (Bengio et al. 2013),
# as HiDDeN's differentiable JPEG approximations stand in for JPEG.
STRAIGHT_THROUGH = ("jpeg_90", "jpeg_50", "jpeg_25", "rotate_15")


def attacked_versions(images, seed_generator, attacks=True):
    """`images` in [0, 1] stored as 8 bits and, if `attacks`, after each
    attack of `image_attacks.attack_suite`: a list of batches, the plain
    8-bit one first. A watermark trained to be read from all of them
    survives the suite it is measured on. Without `attacks` nothing is
    drawn from `seed_generator`."""

    def straight_through(attacked):
        return images + ops.stop_gradient(attacked - images)

    versions = [straight_through(ops.round(images * 255.0) / 255.0)]
    if not attacks:
        return versions
    for name, attack in image_attacks.attack_suite().items():
        attacked = attack(images, seed=seed_generator)
        if name in STRAIGHT_THROUGH:
            attacked = straight_through(attacked)
        versions.append(attacked)
    return versions
