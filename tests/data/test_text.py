"""Vocab, the char and word tokenizers, padding and language-model windows."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigrad.data import (
    CharTokenizer,
    Vocab,
    WordTokenizer,
    language_model_windows,
    pad_sequences,
)

# --- Vocab ------------------------------------------------------------------------


def test_vocab_orders_specials_then_frequency_then_alphabet():
    vocab = Vocab("b a c a b a".split())
    assert vocab.itos == ["<pad>", "<unk>", "<bos>", "<eos>", "a", "b", "c"]
    assert (vocab.pad_index, vocab.unk_index, vocab.bos_index, vocab.eos_index) == (0, 1, 2, 3)
    assert vocab["a"] == 4 and vocab["zebra"] == 1 and "zebra" not in vocab
    assert Vocab(["y", "x"]).itos[4:] == ["x", "y"]  # a tie: alphabetical, whatever the input order


def test_vocab_inputs_min_freq_and_max_size():
    sentences = [["the", "cat"], ["the", "dog"], ["a", "cat", "the"]]
    assert Vocab(sentences, min_freq=2).itos[4:] == ["the", "cat"]
    assert Vocab(sentences, max_size=6).itos == ["<pad>", "<unk>", "<bos>", "<eos>", "the", "cat"]
    assert Vocab(Counter(x=3, y=5), specials=()).itos == ["y", "x"]
    with pytest.raises(ValueError, match="no room"):
        Vocab(sentences, max_size=3)


def test_vocab_encode_decode_and_state():
    vocab = Vocab(["hello", "world"], specials=("<pad>", "<unk>"))
    ids = vocab.encode(["hello", "there"])
    assert ids == [2, 1] and vocab.decode(ids) == ["hello", "<unk>"]
    assert vocab.bos_index is None
    restored = Vocab.from_state(vocab.get_state())
    assert restored.itos == vocab.itos and restored["world"] == vocab["world"]


def test_vocab_without_unk_raises_on_unknown_tokens():
    vocab = Vocab(["a"], specials=("<pad>",))
    with pytest.raises(KeyError, match="no '<unk>'"):
        vocab["b"]


# --- CharTokenizer ----------------------------------------------------------------


def test_char_tokenizer_by_hand():
    tok = CharTokenizer("hello world")
    assert tok.chars == [" ", "d", "e", "h", "l", "o", "r", "w"]
    assert tok.vocab_size == 8
    assert tok.encode("hold") == [3, 5, 4, 1]
    assert tok.decode([3, 5, 4, 1]) == "hold"


@given(st.text())
def test_char_round_trip_for_any_text_it_was_built_from(s):
    tok = CharTokenizer(s)
    assert tok.decode(tok.encode(s)) == s
    assert CharTokenizer.from_state(tok.get_state()).encode(s) == tok.encode(s)


@given(st.text(), st.text())
def test_char_round_trip_with_a_larger_vocabulary(s, other):
    tok = CharTokenizer([s, other])  # several texts: the characters of all of them
    assert tok.decode(tok.encode(s)) == s


@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1))
def test_char_round_trip_chinese(s):
    tok = CharTokenizer(s)
    assert tok.decode(tok.encode(s)) == s


def test_char_unknown_characters():
    with pytest.raises(ValueError, match=r"characters \['x', 'z'\] are not in the vocabulary"):
        CharTokenizer("abc").encode("axbz")
    tok = CharTokenizer("abc", unk="?")
    assert tok.decode(tok.encode("axbz")) == "a?b?"


# --- WordTokenizer ----------------------------------------------------------------


def test_word_tokenizer_by_hand():
    tokenize = WordTokenizer()
    assert tokenize("Don't panic... it's 4:30!") == [
        "don",
        "'",
        "t",
        "panic",
        ".",
        ".",
        ".",
        "it",
        "'",
        "s",
        "4",
        ":",
        "30",
        "!",
    ]
    assert WordTokenizer(lower=False)("New York") == ["New", "York"]


def test_word_tokenizer_cjk_and_other_scripts():
    tokenize = WordTokenizer(lower=False)
    assert tokenize("我爱机器学习。") == ["我", "爱", "机", "器", "学", "习", "。"]
    assert tokenize("東京タワーへ行く") == ["東", "京", "タ", "ワ", "ー", "へ", "行", "く"]
    assert tokenize("한국어 문장") == ["한국어", "문장"]  # Korean has spaces
    assert tokenize("नमस्ते दुनिया") == ["नमस्ते", "दुनिया"]  # vowel signs stay in the word
    assert tokenize("cafe\u0301 naïve") == ["cafe\u0301", "naïve"]  # a combining accent too
    assert tokenize("mixed中文text") == ["mixed", "中", "文", "text"]


@given(st.text())
def test_word_tokens_are_the_text_without_whitespace(s):
    tokens = WordTokenizer(lower=False)(s)
    assert "".join(tokens) == "".join(s.split())
    assert all(token and not any(c.isspace() for c in token) for token in tokens)


# --- pad_sequences ----------------------------------------------------------------


def test_pad_sequences_by_hand():
    seqs = [[1, 2, 3, 4], [5], []]
    out = pad_sequences(seqs)
    assert out.dtype == np.int64
    assert out.tolist() == [[1, 2, 3, 4], [5, 0, 0, 0], [0, 0, 0, 0]]
    assert pad_sequences(seqs, maxlen=2).tolist() == [[1, 2], [5, 0], [0, 0]]
    assert pad_sequences(seqs, maxlen=2, truncating="pre").tolist() == [[3, 4], [5, 0], [0, 0]]
    assert pad_sequences(seqs, maxlen=3, padding="pre", value=-1).tolist() == [
        [1, 2, 3],
        [-1, -1, 5],
        [-1, -1, -1],
    ]
    assert pad_sequences(seqs, maxlen=0).shape == (3, 0)
    assert pad_sequences([]).shape == (0, 0)
    with pytest.raises(ValueError, match="padding must be 'pre' or 'post'"):
        pad_sequences(seqs, padding="both")


@given(
    st.lists(st.lists(st.integers(1, 100), max_size=8), max_size=6),
    st.integers(0, 10),
    st.sampled_from(["pre", "post"]),
    st.sampled_from(["pre", "post"]),
)
def test_pad_sequences_keeps_the_right_tokens(seqs, maxlen, padding, truncating):
    out = pad_sequences(seqs, maxlen, padding=padding, truncating=truncating)
    assert out.shape == (len(seqs), maxlen)
    for row, seq in zip(out, seqs, strict=True):
        kept = seq[len(seq) - maxlen :] if truncating == "pre" else seq[:maxlen]
        values = [v for v in row.tolist() if v != 0]  # tokens are >= 1, padding is 0
        assert values == kept
        if padding == "post":
            assert row[: len(kept)].tolist() == kept
        else:
            assert row[maxlen - len(kept) :].tolist() == kept


# --- language-model windows -------------------------------------------------------


def test_windows_by_hand():
    inputs, targets = language_model_windows(np.arange(10), context_length=4)
    assert inputs.tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert targets.tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]
    assert inputs.dtype == targets.dtype == np.int64
    inputs, targets = language_model_windows(list(range(7)), 3, stride=2)
    assert inputs.tolist() == [[0, 1, 2], [2, 3, 4]]
    assert targets.tolist() == [[1, 2, 3], [3, 4, 5]]


@given(
    st.lists(st.integers(0, 1000), min_size=2, max_size=60),
    st.integers(1, 10),
    st.integers(1, 10),
)
def test_windows_targets_are_inputs_shifted_by_one(tokens, context, stride):
    if len(tokens) < context + 1:
        with pytest.raises(ValueError, match="at least context_length"):
            language_model_windows(tokens, context, stride)
        return
    inputs, targets = language_model_windows(tokens, context, stride)
    assert len(inputs) == (len(tokens) - context - 1) // stride + 1
    for i, (x, y) in enumerate(zip(inputs.tolist(), targets.tolist(), strict=True)):
        start = i * stride
        assert x == tokens[start : start + context]
        assert y == tokens[start + 1 : start + context + 1]
