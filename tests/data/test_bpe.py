"""Byte-level BPE: exact round trips for any text, merges by hand and against a plain trainer."""

import json
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigrad.data import BPETokenizer, load_text

CORPUS = [
    "The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs.",
    "Tokenizers turn text into integers: 'low', 'lower', 'lowest' share the stem low.",
    "机器学习很有趣。我们学习机器学习！ Émile a mangé une crème brûlée.",
]


@pytest.fixture(scope="module")
def trained():
    return BPETokenizer().train(CORPUS * 3, vocab_size=400)


def test_training_merges_by_hand():
    # chunks: "hug", " hug", " hug", " pug". Pair counts: (u,g) 4, (' ',h) 2, (h,u) 1, ...
    tok = BPETokenizer().train("hug hug hug pug", vocab_size=300)
    assert [tok.token_bytes(i) for i in range(256, tok.vocab_size)] == [b"ug", b"hug", b" hug"]
    # then (' ', p) and (p, ug) occur once each: below min_frequency=2, so training stops
    assert tok.merges == [(ord("u"), ord("g")), (ord("h"), 256), (ord(" "), 257)]
    assert tok.encode("hug pug") == [257, 32, ord("p"), 256]


def test_ties_go_to_the_smaller_pair():
    tok = BPETokenizer().train(["ab", "cd"] * 2, vocab_size=257)  # (a,b) and (c,d): 2 each
    assert tok.token_bytes(256) == b"ab"


def test_min_frequency_and_vocab_size_stop_training():
    assert BPETokenizer().train("abab", vocab_size=1000, min_frequency=3).vocab_size == 256
    assert BPETokenizer().train(CORPUS, vocab_size=260).vocab_size == 260
    with pytest.raises(ValueError, match="at least 256"):
        BPETokenizer().train(CORPUS, vocab_size=100)


def reference_train(texts, vocab_size, min_frequency=2):
    """The plain algorithm: recount every pair in every word before each merge."""
    tok = BPETokenizer()
    counts = Counter(chunk for text in texts for chunk in tok._chunks(text))
    words = {chunk: list(chunk.encode("utf-8", "surrogatepass")) for chunk in counts}
    merges = []
    while 256 + len(merges) < vocab_size:
        pairs = Counter()
        for chunk, ids in words.items():
            for pair in zip(ids, ids[1:], strict=False):
                pairs[pair] += counts[chunk]
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))  # most frequent, then smallest ids
        if pairs[best] < min_frequency:
            break
        new_id = 256 + len(merges)
        merges.append(best)
        for chunk, ids in words.items():
            out, i = [], 0
            while i < len(ids):
                if ids[i : i + 2] == list(best):
                    out.append(new_id)
                    i += 2
                else:
                    out.append(ids[i])
                    i += 1
            words[chunk] = out
    return merges


@given(st.lists(st.text(alphabet="abc d", max_size=30), min_size=1, max_size=5))
def test_incremental_training_matches_the_plain_algorithm(texts):
    fast = BPETokenizer().train(texts, vocab_size=280)
    assert fast.merges == reference_train(texts, 280)


def test_incremental_training_matches_on_real_text():
    text = load_text()[:20_000]
    assert BPETokenizer().train(text, vocab_size=300).merges == reference_train([text], 300)


@given(s=st.text())
def test_round_trip_any_text(s, trained):
    assert trained.decode(trained.encode(s)) == s


@given(st.text())
def test_round_trip_any_text_untrained(s):
    tok = BPETokenizer()
    ids = tok.encode(s)
    assert ids == list(s.encode("utf-8"))  # no merges: one token per byte
    assert tok.decode(ids) == s


@given(s=st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)))
def test_round_trip_chinese(s, trained):
    assert trained.decode(trained.encode(s)) == s


def test_round_trip_awkward_strings(trained):
    for s in [
        "",
        " ",
        "\n\n\t",
        "emoji 👩🏽‍🚀!",
        "lone surrogate \ud800 here",
        "\x00\x7f",
        "a_b__c",
    ]:
        assert trained.decode(trained.encode(s)) == s


@given(st.text())
def test_chunks_cover_the_whole_text(s):
    assert "".join(BPETokenizer()._chunks(s)) == s


def test_merges_compress_and_never_cross_words(trained):
    text = CORPUS[0]
    ids = trained.encode(text)
    assert len(ids) < len(text.encode()) / 2
    assert all(b" " not in trained.token_bytes(i)[1:] for i in ids)  # a space only leads


def test_broken_utf8_decodes_with_replacement(trained):
    assert trained.decode([0xE6]) == "\ufffd"  # the first of three bytes of a CJK character
    last = trained.vocab_size - 1
    with pytest.raises(ValueError, match=rf"ids \[100000\] are not in 0..{last}"):
        trained.decode([1, 100000])
    with pytest.raises(ValueError, match=r"ids \[-1\]"):
        trained.decode([-1])


def test_save_and_load(tmp_path, trained):
    path = tmp_path / "tok.json"
    trained.save(path)
    content = json.loads(path.read_text(encoding="utf-8"))
    assert content["format"] == "minigrad.BPETokenizer"
    assert len(content["merges"]) == trained.vocab_size - 256
    loaded = BPETokenizer.load(path)
    assert loaded.merges == trained.merges
    text = "Tokenizers 学习 lowest"
    assert loaded.encode(text) == trained.encode(text)


def test_load_rejects_other_files(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid JSON"):
        BPETokenizer.load(path)
    path.write_text('{"merges": []}', encoding="utf-8")
    with pytest.raises(ValueError, match="not a BPETokenizer file"):
        BPETokenizer.load(path)
    path.write_text('{"format": "minigrad.BPETokenizer", "merges": [[1, 300]]}', encoding="utf-8")
    with pytest.raises(ValueError, match="merge 0 is"):
        BPETokenizer.load(path)
