import struct

import numpy as np
import pytest

import kgen

CHORD = [[72, 67, 64, 48], [72, 67, 64, 48], [74, 0, 65, 50], [76, 67, 0, 50]]


def _tracks(path):
    """The format, division and raw tracks of a Standard MIDI File, read
    by hand: the bytes a player sees."""
    data = open(path, "rb").read()
    assert data[:4] == b"MThd"
    length, midi_format, num_tracks, division = struct.unpack(
        ">IHHH", data[4:14]
    )
    position, tracks = 8 + length, []
    for _ in range(num_tracks):
        assert data[position : position + 4] == b"MTrk"
        (size,) = struct.unpack(">I", data[position + 4 : position + 8])
        tracks.append(data[position + 8 : position + 8 + size])
        position += 8 + size
    assert position == len(data)
    return midi_format, division, tracks


def _notes(track):
    """`(start tick, end tick, channel, pitch)` of a track's notes."""
    notes, sounding, tick, i = [], {}, 0, 0
    while i < len(track):
        delta = 0
        while True:
            byte = track[i]
            i += 1
            delta = (delta << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
        tick += delta
        status = track[i]
        if status == 0xFF:  # meta: type, length, data
            size = track[i + 2]
            i += 3 + size
        elif status >> 4 == 0xC:
            i += 2
        else:
            channel, pitch = status & 0x0F, track[i + 1]
            if status >> 4 == 0x9:
                sounding[pitch] = tick
            else:
                notes.append((sounding.pop(pitch), tick, channel, pitch))
            i += 3
    return notes


def test_each_voice_is_a_track_on_its_own_channel(tmp_path):
    path = kgen.utils.save_midi(
        np.array(CHORD, "int32"), str(tmp_path / "a.mid"), list("SATB")
    )
    midi_format, division, tracks = _tracks(path)
    assert (midi_format, division, len(tracks)) == (1, 480, 5)
    soprano, alto = _notes(tracks[1]), _notes(tracks[2])
    # A held pitch is one note: 72 for two sixteenths (240 ticks).
    assert soprano == [
        (0, 240, 0, 72),
        (240, 360, 0, 74),
        (360, 480, 0, 76),
    ]
    # A rest leaves a gap.
    assert alto == [(0, 240, 1, 67), (360, 480, 1, 67)]
    assert b"Tenor" not in tracks[3] and b"T" in tracks[3]


def test_pieces_follow_each_other_a_bar_apart_and_music21_reads_them(
    tmp_path,
):
    music21 = pytest.importorskip("music21")
    pieces = np.stack([CHORD, CHORD]).astype("int64")
    path = str(tmp_path / "two.mid")
    kgen.utils.save_midi(pieces, path, ("Soprano", "Alto", "Tenor", "Bass"))
    _, _, tracks = _tracks(path)
    starts = [note[0] for note in _notes(tracks[4])]
    # The second piece starts after 4 frames and a bar (16 frames).
    assert starts == [0, 240, 20 * 120, 20 * 120 + 240]
    score = music21.converter.parse(path)
    assert [p.partName for p in score.parts] == [
        "Soprano",
        "Alto",
        "Tenor",
        "Bass",
    ]
    assert [len(p.flatten().notes) for p in score.parts] == [6, 4, 4, 4]


@pytest.mark.parametrize(
    "pitches, message",
    [
        (np.zeros((0, 4), "int32"), "non-empty"),
        (np.zeros((4, 4), "float32"), "int array"),
        (np.full((4, 4), 128), "1-127"),
        (np.zeros((4, 17), "int32"), "16 voices"),
    ],
)
def test_bad_pitches_are_named_and_no_file_is_left(tmp_path, pitches, message):
    path = tmp_path / "bad.mid"
    with pytest.raises(ValueError, match=message):
        kgen.utils.save_midi(pitches, str(path))
    assert not path.exists()
    with pytest.raises(ValueError, match="voice_names"):
        kgen.utils.save_midi(np.array(CHORD), str(path), ["S"])
