"""Writing voices on a time grid as a Standard MIDI File.

Written here rather than through music21: music21 gives every MIDI
channel to one instrument program, so four choir voices end up on one
channel, and a Standard MIDI File is only a header and delta-timed note
events. Writing samples then needs nothing beyond NumPy.
"""

import struct

import numpy as np

from kgen.utils.argument_validation import validate_int
from kgen.utils.atomic_file import atomic_file

REST = 0
TICKS_PER_QUARTER = 480
CHOIR_PROGRAM = 52  # General MIDI "Choir Aahs" (0-based)
VELOCITY = 80


def save_midi(
    pitches,
    path,
    voice_names=None,
    frames_per_quarter=4,
    quarters_per_minute=80,
):
    """Writes a grid of MIDI pitches as a MIDI file, one track per voice.

    `pitches[f, v]` is the pitch voice `v` sounds in frame `f` (0 a rest),
    as `kgen.datasets.load_bach_chorales` gives them: a pitch repeated over
    frames is one held note. Several pieces `(n, frames, voices)` are
    written one after another, a bar (four quarters) of rest apart.

    The file is a Standard MIDI File of format 1: a first track with the
    tempo and a 4/4 time signature, then a track per voice, named after
    it, on a channel of its own (voice `v` on channel `v`, 16 at most),
    with a choir sound. It appears whole or not at all.

    Args:
        pitches: int array `(frames, voices)` or `(n, frames, voices)` of
            MIDI pitches 1-127, or 0 for a rest; 1 to 16 voices.
        path: str, the `.mid` file to write.
        voice_names: names of the tracks (e.g. `("Soprano", "Alto",
            "Tenor", "Bass")`); default "Voice 1", "Voice 2", ...
        frames_per_quarter: int. Frames per quarter note (4: sixteenths).
        quarters_per_minute: int. The tempo.

    Returns:
        `path`.

    Example:

    ```python
    chorale = kgen.datasets.load_bach_chorales("test")[0]
    kgen.utils.save_midi(chorale, "bwv.mid", ("S", "A", "T", "B"))
    ```
    """
    pitches = np.asarray(pitches)
    if pitches.ndim == 2:
        pitches = pitches[None]
    if (
        pitches.ndim != 3
        or 0 in pitches.shape
        or not np.issubdtype(pitches.dtype, np.integer)
    ):
        raise ValueError(
            "`pitches` must be a non-empty int array (frames, voices) or "
            f"(n, frames, voices); received shape {pitches.shape}, dtype "
            f"{pitches.dtype}."
        )
    num_voices = pitches.shape[2]
    if num_voices > 16:
        raise ValueError(
            f"`pitches` may hold at most 16 voices (MIDI channels); "
            f"received {num_voices}."
        )
    if pitches.min() < REST or pitches.max() > 127:
        raise ValueError(
            "`pitches` must hold MIDI pitches 1-127 or 0 for a rest; "
            f"received values in [{pitches.min()}, {pitches.max()}]."
        )
    frames_per_quarter = validate_int(frames_per_quarter, "frames_per_quarter")
    quarters_per_minute = validate_int(
        quarters_per_minute, "quarters_per_minute"
    )
    if TICKS_PER_QUARTER % frames_per_quarter:
        raise ValueError(
            f"`frames_per_quarter` must divide {TICKS_PER_QUARTER}; "
            f"received {frames_per_quarter}."
        )
    if voice_names is None:
        voice_names = [f"Voice {v + 1}" for v in range(num_voices)]
    voice_names = [str(name) for name in voice_names]
    if len(voice_names) != num_voices:
        raise ValueError(
            f"`voice_names` must name the {num_voices} voices; received "
            f"{len(voice_names)} names."
        )

    gap = np.full((4 * frames_per_quarter, num_voices), REST, pitches.dtype)
    frames = np.concatenate(
        [part for piece in pitches for part in (piece, gap)][:-1]
    )
    ticks_per_frame = TICKS_PER_QUARTER // frames_per_quarter
    microseconds_per_quarter = round(60_000_000 / quarters_per_minute)
    conductor = [
        (0, b"\xff\x51\x03" + microseconds_per_quarter.to_bytes(3, "big")),
        (0, b"\xff\x58\x04\x04\x02\x18\x08"),  # 4/4
    ]
    tracks = [conductor] + [
        _voice_events(frames[:, v], v, voice_names[v], ticks_per_frame)
        for v in range(num_voices)
    ]
    header = b"MThd" + struct.pack(
        ">IHHH", 6, 1, len(tracks), TICKS_PER_QUARTER
    )
    chunks = [header] + [_track_chunk(events) for events in tracks]
    with atomic_file(path) as temporary:
        with open(temporary, "wb") as f:
            f.write(b"".join(chunks))
    return path


def _voice_events(voice, channel, name, ticks_per_frame):
    """`(delta ticks, event bytes)` of one voice: its name, its sound,
    then a note on and off per run of one pitch."""
    encoded = name.encode("utf-8")
    events = [
        (0, b"\xff\x03" + _variable_length(len(encoded)) + encoded),
        (0, bytes([0xC0 | channel, CHOIR_PROGRAM])),
    ]
    waited = 0  # ticks since the last event
    start = 0
    for end in range(1, len(voice) + 1):
        if end < len(voice) and voice[end] == voice[start]:
            continue
        length = (end - start) * ticks_per_frame
        pitch = int(voice[start])
        if pitch == REST:
            waited += length
        else:
            events.append((waited, bytes([0x90 | channel, pitch, VELOCITY])))
            events.append((length, bytes([0x80 | channel, pitch, 0])))
            waited = 0
        start = end
    return events


def _track_chunk(events):
    body = b"".join(_variable_length(delta) + event for delta, event in events)
    body += b"\x00\xff\x2f\x00"  # end of track
    return b"MTrk" + struct.pack(">I", len(body)) + body


def _variable_length(value):
    """MIDI's variable-length quantity: 7 bits a byte, most significant
    first, the high bit set on all but the last."""
    groups = [value & 0x7F]
    value >>= 7
    while value:
        groups.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(groups))
