"""Bach's chorales on a sixteenth-note grid (kgen.datasets.bach_chorales):
the grid of a score written here note by note, the transpositions, the
windows, and the split by BWV number; the whole corpus (two minutes of
music21 parsing) is read with `-m release`, before a release."""

import pathlib
import sys

import numpy as np
import pytest

import kgen
from kgen.datasets import bach_chorales


def _score(voices):
    """A music21 score with one part per `{name: [(midi or None,
    quarter_length) or ([midi, ...], quarter_length)]}` entry."""
    music21 = pytest.importorskip("music21", reason="needs music21")
    score = music21.stream.Score()
    for name, events in voices.items():
        part = music21.stream.Part(id=name)
        for pitch, length in events:
            if pitch is None:
                part.append(music21.note.Rest(quarterLength=length))
            elif isinstance(pitch, list):
                part.append(music21.chord.Chord(pitch, quarterLength=length))
            else:
                part.append(music21.note.Note(pitch, quarterLength=length))
        score.insert(0, part)
    return score


def test_a_score_becomes_pitches_per_sixteenth_note():
    score = _score(
        {
            "Soprano": [(72, 1.0), (74, 0.5), (None, 0.5)],
            "Alto": [(67, 2.0)],
            "Tenor": [([60, 64], 1.0), (62, 1.0)],
            "Bass": [(48, 0.25), (50, 1.75)],
            "Oboe": [(84, 2.0)],  # an instrument's part is dropped
        }
    )
    frames = kgen.datasets.chorale_frames(score)
    assert frames.shape == (8, 4) and frames.dtype == np.int32
    np.testing.assert_array_equal(
        frames,
        [
            [72, 67, 64, 48],  # a chord sounds its highest pitch
            [72, 67, 64, 50],
            [72, 67, 64, 50],
            [72, 67, 64, 50],
            [74, 67, 62, 50],
            [74, 67, 62, 50],
            [0, 67, 62, 50],  # a rest is 0
            [0, 67, 62, 50],
        ],
    )


def test_a_score_without_the_four_voices_is_skipped():
    score = _score({"Soprano": [(72, 1.0)], "Alto": [(67, 1.0)]})
    assert kgen.datasets.chorale_frames(score) is None


def test_transpositions_keep_every_voice_in_range():
    chorale = np.array([[70, 60, 55, 0], [72, 62, 57, 45]], "int32")
    ranges = np.array([[68, 74], [58, 64], [50, 60], [40, 50]])
    shifts = bach_chorales.transpositions(chorale, ranges)
    # Soprano 70..72 in 68..74: -2..2; alto 60..62 in 58..64: -2..2;
    # tenor 55..57 in 50..60: -5..3; bass 45 in 40..50: -5..5.
    assert shifts == [-2, -1, 0, 1, 2]
    moved = bach_chorales.transpose(chorale, 2)
    np.testing.assert_array_equal(moved, [[72, 62, 57, 0], [74, 64, 59, 47]])


def test_windows_cover_each_chorale_every_stride_with_its_index():
    chorales = [
        np.full((40, 4), 60, "int32"),
        np.arange(64 * 4, dtype="int32").reshape(64, 4) % 20 + 50,
    ]
    windows, ids = kgen.datasets.chorale_windows(chorales, length=32)
    # 40 frames: one window; 64 frames: windows at 0, 16 and 32.
    assert windows.shape == (4, 32, 4)
    np.testing.assert_array_equal(ids, [0, 1, 1, 1])
    np.testing.assert_array_equal(windows[2], chorales[1][16:48])
    augmented, augmented_ids = kgen.datasets.chorale_windows(
        chorales, length=32, augment=True
    )
    ranges = bach_chorales.voice_ranges(chorales)
    counts = [len(bach_chorales.transpositions(c, ranges)) for c in chorales]
    assert len(augmented) == counts[0] + 3 * counts[1]
    assert set(augmented_ids) == {0, 1}


def test_the_split_keeps_the_files_of_one_bwv_number_together():
    names = ["bwv112.5.mxl", "bwv112.5-sc.mxl", "bwv1.6.mxl", "bwv10.7.mxl"]
    numbers = [bach_chorales._bwv(pathlib.Path(name)) for name in names]
    assert numbers == ["112.5", "112.5", "1.6", "10.7"]
    bwvs = [f"{i}.1" for i in range(100)]
    split = bach_chorales._split_bwvs(bwvs)
    assert len(split["test"]) == 20 and len(split["train"]) == 80
    assert not set(split["test"]) & set(split["train"])
    assert split == bach_chorales._split_bwvs(bwvs)


def test_bad_arguments_name_what_was_expected(monkeypatch):
    with pytest.raises(ValueError, match="`split` must be one of"):
        kgen.datasets.load_bach_chorales("validation")
    with pytest.raises(ValueError, match="MIDI pitches, not images"):
        kgen.datasets.load("bach_chorales", value_range=(-1, 1))
    monkeypatch.setitem(sys.modules, "music21", None)
    bach_chorales._corpus.cache_clear()
    with pytest.raises(ImportError, match="pip install music21"):
        kgen.datasets.load_bach_chorales("test")


@pytest.mark.release
def test_the_corpus_splits_by_chorale_into_two_bar_windows():
    pytest.importorskip("music21", reason="needs music21")
    train, train_bwv = kgen.datasets.load_bach_chorales("train")
    test, test_bwv = kgen.datasets.load_bach_chorales("test")
    assert len(train) + len(test) >= 380
    assert not set(train_bwv) & set(test_bwv)
    # Soprano over alto over tenor over bass, nearly everywhere: Bach
    # crosses voices now and then (BWV 121.6's soprano and alto, 14% of
    # its frames; 0.992 of all voice pairs are in order), while a part
    # read out of order would leave its pair in order about half the time.
    in_order = []
    for chorale in train + test:
        sounding = chorale[(chorale != 0).all(axis=1)]
        ordered = np.diff(sounding, axis=1) <= 0
        assert ordered.mean(axis=0).min() > 0.8
        in_order.append(ordered.mean())
    assert np.mean(in_order) > 0.98
    (x_train, y_train), (x_test, y_test) = kgen.datasets.load("bach_chorales")
    assert x_train.shape[1:] == (32, 4) and x_test.shape[1:] == (32, 4)
    assert len(x_train) > 5 * len(x_test)  # transposed copies
    assert y_test.max() == len(test) - 1


def test_pitches_and_tokens_round_trip_and_refuse_pitches_out_of_range():
    frames = np.array([[81, 69, 0, 36], [72, 64, 57, 48]])
    tokens = kgen.datasets.pitch_tokens(frames, 33, 84)
    np.testing.assert_array_equal(tokens, [[49, 37, 0, 4], [40, 32, 25, 16]])
    np.testing.assert_array_equal(
        kgen.datasets.token_pitches(tokens, 33), frames
    )
    with pytest.raises(ValueError, match=r"`frames` holds pitches 40..100"):
        kgen.datasets.pitch_tokens(np.array([[100, 60, 50, 40]]), 33, 84)


def test_ordered_voices_count_the_frames_where_all_four_sound():
    frames = np.array(
        [
            [72, 67, 60, 48],  # ordered
            [72, 74, 60, 48],  # alto above soprano
            [72, 0, 60, 48],  # a rest: not counted
            [60, 60, 55, 48],  # unison keeps the order
        ]
    )
    assert kgen.datasets.ordered_voices_fraction(frames) == 2 / 3
    assert np.isnan(kgen.datasets.ordered_voices_fraction(frames[2:3]))
