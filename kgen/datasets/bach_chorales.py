"""Bach's four-part chorales from music21's corpus, on a sixteenth-note
grid, as Coconet (Huang et al. 2017) models them.

Each chorale becomes an int array `(frames, 4)`: per sixteenth note, the
MIDI pitch each voice (soprano, alto, tenor, bass) sounds, 0 where it
rests. A held note repeats its pitch in every frame it lasts, so the
grid keeps pitches, not where notes begin (Coconet's piano roll keeps
the same).

```
frame f of a chorale = (pitch_S(f/4), pitch_A(f/4), pitch_T(f/4),
                        pitch_B(f/4))     (f/4: quarter notes from the start)
```

The corpus has 433 Bach files; those with the four voices named
Soprano, Alto, Tenor and Bass are used (instrumental parts some of them
add are dropped). The test split is fixed by chorale: a fifth of the
BWV numbers (a permutation, seed 0), so every file of one BWV number,
its `-sc` scoring with instruments included, is on one side.
Transposition augments the training split: `transpositions` lists every
shift in semitones that keeps each voice inside the range it spans over
the training chorales (Coconet's augmentation).

music21 (BSD, `pip install music21`) holds the corpus; it is read with
music21 once per process and kept.
"""

import functools

import numpy as np

from kgen.utils.argument_validation import validate_int

VOICES = ("Soprano", "Alto", "Tenor", "Bass")
FRAMES_PER_QUARTER = 4  # sixteenth notes
REST = 0
BACH_CHORALE_SPLITS = ("train", "test")
_TEST_FRACTION = 0.2
_INSTALL = "pip install music21 (or kgen[music])"


def _music21():
    try:
        import music21
    except ImportError as error:
        raise ImportError(
            f"The Bach chorales are read from music21's corpus: "
            f"{_INSTALL}. Import failed: {error}"
        ) from error
    return music21


def chorale_frames(score):
    """The `(frames, 4)` int32 pitch grid of a music21 score that has
    Soprano, Alto, Tenor and Bass parts, or `None` if it lacks one.

    A chord in a voice (rare: a divided part) sounds its highest pitch.
    """
    parts = {part.id: part for part in score.parts}
    if not all(voice in parts for voice in VOICES):
        return None
    length = int(np.ceil(float(score.highestTime) * FRAMES_PER_QUARTER))
    frames = np.full((length, len(VOICES)), REST, "int32")
    for column, voice in enumerate(VOICES):
        for note in parts[voice].flatten().notes:
            start = int(np.floor(float(note.offset) * FRAMES_PER_QUARTER))
            end = int(
                np.floor(
                    float(note.offset + note.quarterLength) * FRAMES_PER_QUARTER
                )
            )
            pitch = max(p.midi for p in note.pitches)
            frames[start : max(end, start + 1), column] = pitch
    return frames


def _bwv(path):
    """The BWV number a corpus file scores (`bwv112.5-sc.mxl` ->
    `112.5`)."""
    stem = path.name.split(".mxl")[0].split(".xml")[0]
    return stem.removeprefix("bwv").split("-")[0]


@functools.lru_cache(maxsize=1)
def _corpus():
    """`{bwv: [frames, ...]}` over the corpus' four-voice chorales."""
    music21 = _music21()
    chorales = {}
    for path in sorted(music21.corpus.getComposer("bach")):
        frames = chorale_frames(music21.corpus.parse(path))
        if frames is not None:
            chorales.setdefault(_bwv(path), []).append(frames)
    return chorales


def _split_bwvs(bwvs):
    order = np.random.default_rng(0).permutation(len(bwvs))
    num_test = int(round(_TEST_FRACTION * len(bwvs)))
    test = {bwvs[i] for i in order[:num_test]}
    return {
        "train": [b for b in bwvs if b not in test],
        "test": [b for b in bwvs if b in test],
    }


def load_bach_chorales(split="train"):
    """One split of the chorales, each an int32 `(frames, 4)` grid.

    Args:
        split: `"train"` or `"test"` (a fixed fifth of the BWV numbers).

    Returns:
        `(chorales, bwv_numbers)`: a list of `(frames, 4)` arrays (MIDI
        pitches of soprano, alto, tenor and bass per sixteenth note; 0
        rests) and the BWV number of each, a list of `str`.

    Raises:
        ValueError: an unknown `split`.
        ImportError: music21 is not installed, saying how to install it.

    Example:

    ```python
    chorales, bwv = kgen.datasets.load_bach_chorales("test")
    chorales[0].shape  # (frames, 4)
    ```
    """
    if split not in BACH_CHORALE_SPLITS:
        raise ValueError(
            f"`split` must be one of {BACH_CHORALE_SPLITS}; received {split!r}."
        )
    corpus = _corpus()
    chorales, numbers = [], []
    for bwv in _split_bwvs(sorted(corpus))[split]:
        for frames in corpus[bwv]:
            chorales.append(frames)
            numbers.append(bwv)
    return chorales, numbers


def _voice_extremes(frames):
    """`[(lowest, highest) or None, ...]`: each voice's sounding pitches
    in `frames` (`None` for a voice that only rests)."""
    frames = np.asarray(frames)
    extremes = []
    for voice in range(len(VOICES)):
        sounding = frames[:, voice][frames[:, voice] != REST]
        extremes.append(
            (int(sounding.min()), int(sounding.max()))
            if len(sounding)
            else None
        )
    return extremes


def voice_ranges(chorales):
    """`(4, 2)` lowest and highest sounding pitch of each voice."""
    stacked = np.concatenate([np.asarray(c) for c in chorales])
    return np.asarray(_voice_extremes(stacked), "int32")


def transpositions(chorale, ranges):
    """Every shift in semitones (-11..11 around the written key) that
    keeps each voice of `chorale` inside `ranges`, `(4, 2)` as
    `voice_ranges` gives."""
    lowest, highest = -11, 11
    for (low, high), extremes in zip(ranges, _voice_extremes(chorale)):
        if extremes is not None:
            lowest = max(lowest, int(low) - extremes[0])
            highest = min(highest, int(high) - extremes[1])
    return list(range(lowest, highest + 1))


def transpose(chorale, shift):
    """`chorale` moved by `shift` semitones; rests stay rests."""
    chorale = np.asarray(chorale)
    return np.where(chorale == REST, REST, chorale + shift).astype("int32")


def chorale_windows(chorales, length=32, stride=16, augment=False):
    """Windows of `length` frames every `stride` frames over each
    chorale (Coconet trains on 32 sixteenths: two bars of 4/4), with
    each window's chorale index; with `augment`, every transposition of
    every window that keeps the voices in the chorales' own ranges.

    Returns:
        `(windows, chorale_ids)`: int32 `(n, length, 4)` and int64
        `(n,)`.
    """
    length = validate_int(length, "length", maximum=4096)
    stride = validate_int(stride, "stride", maximum=4096)
    ranges = voice_ranges(chorales) if augment else None
    windows, ids = [], []
    for index, chorale in enumerate(chorales):
        shifts = transpositions(chorale, ranges) if augment else [0]
        for start in range(0, len(chorale) - length + 1, stride):
            window = np.asarray(chorale[start : start + length])
            for shift in shifts:
                windows.append(transpose(window, shift))
                ids.append(index)
    return (
        np.stack(windows).astype("int32"),
        np.asarray(ids, "int64"),
    )


def pitch_tokens(frames, lowest_pitch, highest_pitch):
    """MIDI pitches as the tokens of a model over `highest_pitch -
    lowest_pitch + 2` levels: 0 a rest, `pitch - lowest_pitch + 1` a
    pitch.

    Args:
        frames: int array of MIDI pitches, 0 where a voice rests.
        lowest_pitch, highest_pitch: ints, the pitches of tokens 1 and
            `highest_pitch - lowest_pitch + 1`.

    Returns:
        int32 tokens of `frames`' shape.

    Raises:
        ValueError: a pitch outside `[lowest_pitch, highest_pitch]`.
    """
    frames = np.asarray(frames)
    sounding = frames[frames != REST]
    if len(sounding) and (
        sounding.min() < lowest_pitch or sounding.max() > highest_pitch
    ):
        raise ValueError(
            f"`frames` holds pitches {sounding.min()}..{sounding.max()}, "
            f"outside the tokens' {lowest_pitch}..{highest_pitch}."
        )
    tokens = np.where(frames == REST, 0, frames - lowest_pitch + 1)
    return tokens.astype("int32")


def token_pitches(tokens, lowest_pitch):
    """`pitch_tokens` undone: token `k > 0` is MIDI pitch `lowest_pitch +
    k - 1`, token 0 a rest (0)."""
    tokens = np.asarray(tokens).astype("int64")
    pitches = np.where(tokens == 0, REST, tokens + lowest_pitch - 1)
    return pitches.astype("int32")


def ordered_voices_fraction(frames):
    """The fraction of frames in which all four voices sound and keep
    soprano >= alto >= tenor >= bass (Bach's test windows: 0.975).

    Args:
        frames: int MIDI pitches `(..., 4)`, 0 a rest.

    Returns:
        float, `nan` when no frame has all four voices sounding.
    """
    frames = np.asarray(frames).reshape(-1, len(VOICES))
    sounding = frames[(frames != REST).all(axis=1)]
    if not len(sounding):
        return float("nan")
    return float((np.diff(sounding, axis=1) <= 0).all(axis=1).mean())
