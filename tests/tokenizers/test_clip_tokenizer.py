"""`ClipTokenizer` gives transformers' `CLIPTokenizer` ids, padded and
truncated as Stable Diffusion's pipelines ask for them, on a BPE learned
here from a small corpus (CLIP's own vocabulary is not shipped)."""

import collections
import json

import numpy as np
import pytest

from kgen.tokenizers import ClipTokenizer
from kgen.tokenizers.clip_tokenizer import END
from kgen.tokenizers.clip_tokenizer import START
from kgen.tokenizers.clip_tokenizer import _printable_bytes

CORPUS = (
    "a photo of a cat sitting on the red mat, the cats are photographed "
    "don't we'll they're isn't an astronaut riding a horse on mars 2024 "
    "café naïve 東京 emoji 🐱 hello!!! (test) -- email@x.com"
)
TEXTS = [
    "a photo of a cat",
    "A PHOTO  of\ta Cat!!",
    "don't we'll they're",
    "café naïve 東京 🐱",
    "2024 numbers 123abc",
    "email@x.com (test) -- ok?",
    "  spaces   everywhere  ",
    "unseen zebra quokka",
    "it's'll''s",
    "Ünïcödé Straße",
    "a <|endoftext|> b",
    "tabs\nnew\r\nlines",
    "",
    "İstanbul",
    "½ ² ٣ numbers",
    "the red cat " * 30,
    # Information separators are not white space to `tokenizers`; a
    # Greek sigma lowercases alone; a special token is matched in the
    # raw text only.
    "x\x1cy a\x1f",
    "ΟΔΟΣ ΑΣ.",
    "<|ENDOFTEXT|> !<|endoftext|> '<|endoftext|>",
    "<|endoftext|>\u0338",
]


def learned_bpe(corpus, num_merges=150):
    """`(vocabulary, merges)` of CLIP's kind learned from `corpus`: the
    256 byte characters, each with `</w>`, the merges' tokens and the
    two special tokens."""
    table = _printable_bytes()
    words = collections.Counter()
    for word in corpus.lower().split():
        symbols = [table[b] for b in word.encode("utf-8")]
        symbols[-1] += "</w>"
        words[tuple(symbols)] += 1
    merges = []
    for _ in range(num_merges):
        pairs = collections.Counter()
        for word, count in words.items():
            for pair in zip(word, word[1:]):
                pairs[pair] += count
        if not pairs:
            break
        best = max(pairs, key=lambda pair: (pairs[pair], pair))
        merges.append(best)
        merged = collections.Counter()
        for word, count in words.items():
            symbols, index = [], 0
            while index < len(word):
                if word[index : index + 2] == best:
                    symbols.append(word[index] + word[index + 1])
                    index += 2
                else:
                    symbols.append(word[index])
                    index += 1
            merged[tuple(symbols)] += count
        words = merged
    base = [table[b] for b in range(256)]
    tokens = base + [t + "</w>" for t in base] + ["".join(m) for m in merges]
    tokens += [START, END]
    vocabulary = {t: i for i, t in enumerate(dict.fromkeys(tokens))}
    return vocabulary, merges


@pytest.fixture(scope="module")
def tokenizer_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tokenizer")
    vocabulary, merges = learned_bpe(CORPUS)
    (folder / "vocab.json").write_text(json.dumps(vocabulary))
    (folder / "merges.txt").write_text(
        "#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n"
    )
    return folder


def test_ids_equal_transformers_clip_tokenizer(tokenizer_folder):
    transformers = pytest.importorskip("transformers")
    vocabulary, merges = learned_bpe(CORPUS)
    reference = transformers.CLIPTokenizer(vocab=vocabulary, merges=merges)
    tokenizer = ClipTokenizer.from_folder(tokenizer_folder)
    with pytest.warns(UserWarning, match="only the first 75"):
        ids = tokenizer.tokenize(TEXTS)
    expected = reference(
        TEXTS, padding="max_length", max_length=77, truncation=True
    )["input_ids"]
    assert ids.dtype == np.int32
    np.testing.assert_array_equal(ids, np.array(expected))
    # Each text on its own is its row of the batch.
    np.testing.assert_array_equal(tokenizer.tokenize(TEXTS[0]), ids[:1])


def test_a_folders_config_sets_the_length_and_padding(tokenizer_folder):
    vocabulary = json.loads((tokenizer_folder / "vocab.json").read_text())
    assert "!" in vocabulary
    (tokenizer_folder / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "model_max_length": 9,
                "pad_token": {"content": "!", "lstrip": False},
            }
        )
    )
    try:
        tokenizer = ClipTokenizer.from_folder(tokenizer_folder)
    finally:
        (tokenizer_folder / "tokenizer_config.json").unlink()
    ids = tokenizer.tokenize(["a cat"])
    assert ids.shape == (1, 9)
    pieces = tokenizer.encode("a cat")
    assert ids[0, : len(pieces) + 2].tolist() == (
        [vocabulary[START]] + pieces + [vocabulary[END]]
    )
    assert set(ids[0, len(pieces) + 2 :]) == {vocabulary["!"]}
    assert tokenizer.detokenize(ids) == ["a cat"]


def test_the_tokenizer_round_trips_through_its_config(tokenizer_folder):
    tokenizer = ClipTokenizer.from_folder(tokenizer_folder)
    copy = ClipTokenizer.from_config(
        json.loads(json.dumps(tokenizer.get_config()))
    )
    np.testing.assert_array_equal(
        copy.tokenize(TEXTS[:5]), tokenizer.tokenize(TEXTS[:5])
    )
    assert copy.detokenize(copy.tokenize(["a photo of a cat!!"])) == [
        "a photo of a cat !!"
    ]


def test_bad_arguments_are_named():
    vocabulary, merges = learned_bpe(CORPUS, num_merges=5)
    with pytest.raises(ValueError, match="`vocabulary` must hold"):
        ClipTokenizer({"a": 0}, merges)
    with pytest.raises(ValueError, match="`merges`"):
        ClipTokenizer(vocabulary, ["a"])
    with pytest.raises(ValueError, match="`sequence_length`"):
        ClipTokenizer(vocabulary, merges, sequence_length=1)
    with pytest.raises(ValueError, match="`pad_token`"):
        ClipTokenizer(vocabulary, merges, pad_token="<pad>")
    tokenizer = ClipTokenizer(vocabulary, merges)
    with pytest.raises(ValueError, match="`prompts`"):
        tokenizer.tokenize([1, 2], argument="prompts")


def test_a_folder_kgen_cannot_read_whole_is_named(tokenizer_folder, tmp_path):
    import os
    import shutil

    from kgen.utils.unreadable_file_error import UnreadableFileError

    def folder_with(name, files):
        target = tmp_path / name
        shutil.copytree(tokenizer_folder, target)
        for file, text in files.items():
            (target / file).unlink(missing_ok=True)
            if text is None:
                os.mkfifo(target / file)
            else:
                (target / file).write_text(text)
        return target

    vocabulary = json.loads((tokenizer_folder / "vocab.json").read_text())
    for name, files, message in (
        ("list", {"vocab.json": "[]"}, "JSON object"),
        ("config", {"tokenizer_config.json": "{'a'"}, "not a JSON"),
        ("fifo", {"merges.txt": None}, "FIFO"),
        (
            "added",
            {"added_tokens.json": json.dumps({"<cat-toy>": 10**4})},
            "cat-toy",
        ),
        (
            "float_ids",
            {"vocab.json": json.dumps(dict(vocabulary, a=1.5))},
            "int ids",
        ),
    ):
        with pytest.raises(UnreadableFileError, match=message):
            ClipTokenizer.from_folder(folder_with(name, files))

    tokenizer = ClipTokenizer.from_folder(tokenizer_folder)
    with pytest.raises(ValueError, match=r"`prompts\[1\]`: A word of 3,000"):
        tokenizer.tokenize(["a cat", "x" * 3000], argument="prompts")
