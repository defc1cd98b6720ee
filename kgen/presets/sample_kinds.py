"""What a preset's samples are, and the range their values lie in: what
a client needs to show or write them (`kgen generate`, the gallery)."""

SAMPLE_KINDS = (
    "image",
    "points",
    "video",
    "text",
    "molecules",
    "peptides",
    "audio",
    "music",
)


def sample_kind(model, metadata=None, has_tokenizer=False):
    """What `model`'s samples are.

    Args:
        model: a `kgen.models.GenerativeModel`.
        metadata: its model card (`preset_metadata`), or `None` for a
            model without one (a `.keras` file).
        has_tokenizer: bool, whether its preset ships a tokenizer.

    Returns:
        `"molecules"` (a preset with a tokenizer whose card gives the
        representation `"SMILES"` or `"SELFIES"`), `"peptides"` (one
        whose card gives `"amino acids"`), `"text"` (a preset
        with any other tokenizer), `"audio"` (its card gives a sample
        rate), `"music"` (voices of MIDI pitch tokens: its card gives the
        `lowest_pitch` token 1 stands for), `"points"` (2-D vectors),
        `"video"` (clips `(frames, height, width, channels)`),
        `"molecules_3d"` (atoms with coordinates: a dict of positions,
        atom types and masks) or `"image"` (images, or vectors its card
        gives an image shape).
    """
    data = (metadata or {}).get("data", {})
    if metadata and has_tokenizer:
        representation = data.get("representation")
        if representation in ("SMILES", "SELFIES"):
            return "molecules"
        return "peptides" if representation == "amino acids" else "text"
    if isinstance(model.data_shape, dict):
        return "molecules_3d"
    if "sample_rate" in data:
        return "audio"
    if "lowest_pitch" in data:
        return "music"
    if tuple(model.data_shape) == (2,):
        return "points"
    return "video" if len(model.data_shape) == 4 else "image"


def value_range_of(model, metadata=None):
    """The range `model`'s samples lie in: the model's own `data_range`,
    else its model card's (a GAN built from any generator cannot know its
    generator's output range), else `(0.0, 1.0)`."""
    card_range = (metadata or {}).get("data", {}).get("value_range")
    return tuple(model.data_range or card_range or (0.0, 1.0))
