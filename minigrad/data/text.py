"""Text to integers and back: tokenizers, a vocabulary, padding and language-model windows.

A network sees numbers, not words. Turning text into numbers takes two steps:

1. *tokenize*: cut the text into pieces (characters, words, or subwords);
2. *number* the pieces with a vocabulary: each distinct token gets an id.

The three tokenizers make different trade-offs:

- ``CharTokenizer``: one token per character. Tiny vocabulary, long sequences;
  ids and text convert both ways exactly.
- ``WordTokenizer`` + ``Vocab``: one token per word. Short sequences, but a big
  vocabulary and words never seen in training become ``<unk>``.
- ``BPETokenizer`` (in ``bpe.py``): subwords learned from data. Any text at all
  can be encoded and decoded exactly, with short sequences.

``pad_sequences`` makes a batch of different lengths rectangular, and
``language_model_windows`` cuts one long token stream into
(input, next-token target) training pairs.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Mapping

import numpy as np

SPECIALS = ("<pad>", "<unk>", "<bos>", "<eos>")


class Vocab:
    """A numbering of tokens: special tokens first, then the others from most to least frequent.

    ``tokens`` is an iterable of tokens, an iterable of token lists (e.g.
    tokenized sentences), or a mapping ``token -> count``. Tokens seen fewer
    than ``min_freq`` times are left out; ``max_size`` caps the total size,
    specials included (it is then the size of an embedding table). Equal
    counts are ordered alphabetically, so the numbering never depends on the
    order of the input. Unknown tokens map to ``<unk>``'s id.

    >>> vocab = Vocab(["the", "cat", "the", "mat"])
    >>> len(vocab), vocab.itos[4:]
    (7, ['the', 'cat', 'mat'])
    >>> vocab["the"], vocab["dog"], vocab.unk_index
    (4, 1, 1)
    >>> vocab.encode(["the", "dog"]), vocab.decode([4, 5])
    ([4, 1], ['the', 'cat'])
    """

    def __init__(self, tokens=(), *, specials=SPECIALS, min_freq=1, max_size=None):
        counts = _count_tokens(tokens)
        specials = list(dict.fromkeys(specials))  # in order, without repeats
        if max_size is not None and max_size < len(specials):
            raise ValueError(
                f"Vocab: max_size={max_size} leaves no room for the {len(specials)} specials"
            )
        special = set(specials)
        kept = [t for t, n in counts.items() if n >= min_freq and t not in special]
        kept.sort(key=lambda t: (-counts[t], t))
        if max_size is not None:
            kept = kept[: max_size - len(specials)]
        self.itos = specials + kept
        self.stoi = {token: index for index, token in enumerate(self.itos)}
        self.specials = tuple(specials)
        self.counts = {t: counts[t] for t in kept}

    def __len__(self):
        return len(self.itos)

    def __contains__(self, token):
        return token in self.stoi

    def __getitem__(self, token):
        """The id of ``token``; ``<unk>``'s id if it is unknown and ``<unk>`` is a special."""
        index = self.stoi.get(token)
        if index is not None:
            return index
        if self.unk_index is None:
            raise KeyError(
                f"token {token!r} is not in the vocabulary, which has no '<unk>' to stand for it"
            )
        return self.unk_index

    def lookup(self, token):
        """The id of ``token`` (same as ``vocab[token]``)."""
        return self[token]

    def encode(self, tokens):
        """The ids of a sequence of tokens, as a list."""
        return [self[token] for token in tokens]

    def decode(self, ids):
        """The tokens that a sequence of ids stands for, as a list."""
        return [self.itos[int(i)] for i in ids]

    def _special_index(self, token):
        return self.stoi.get(token)

    pad_index = property(lambda self: self._special_index("<pad>"), doc="The id of <pad>, or None.")
    unk_index = property(lambda self: self._special_index("<unk>"), doc="The id of <unk>, or None.")
    bos_index = property(lambda self: self._special_index("<bos>"), doc="The id of <bos>, or None.")
    eos_index = property(lambda self: self._special_index("<eos>"), doc="The id of <eos>, or None.")

    def get_state(self) -> dict:
        """The vocabulary as JSON values: its tokens in id order and its specials."""
        return {"type": "Vocab", "itos": list(self.itos), "specials": list(self.specials)}

    @classmethod
    def from_state(cls, state: dict):
        """A Vocab with exactly the ids of ``get_state()``'s dict."""
        vocab = cls(specials=state["specials"])
        vocab.itos = list(state["itos"])
        vocab.stoi = {token: index for index, token in enumerate(vocab.itos)}
        return vocab

    def __repr__(self):
        return f"Vocab(size={len(self)}, specials={list(self.specials)})"


def _count_tokens(tokens):
    """Counts from a mapping, a flat iterable of tokens, or an iterable of token lists."""
    if isinstance(tokens, Mapping):
        return Counter(dict(tokens))
    counts = Counter()
    for item in tokens:
        if isinstance(item, (list, tuple)):
            counts.update(item)
        else:
            counts[item] += 1
    return counts


class CharTokenizer:
    """One token per character, with a vocabulary built from example text.

    The ids are the positions of the characters in sorted order. A character
    that the vocabulary lacks raises an error, unless ``unk`` names a
    replacement character (added to the vocabulary): it then encodes as
    ``unk``. So ``decode(encode(s)) == s`` for every string whose characters
    are all in the vocabulary, in particular for any string the tokenizer
    was built from.

    >>> tok = CharTokenizer("hello")
    >>> tok.chars, tok.encode("hell")
    (['e', 'h', 'l', 'o'], [1, 0, 2, 2])
    >>> tok.decode(tok.encode("hole"))
    'hole'
    >>> CharTokenizer("ab", unk="?").decode(CharTokenizer("ab", unk="?").encode("abc"))
    'ab?'
    """

    def __init__(self, text="", *, unk=None):
        if unk is not None and len(unk) != 1:
            raise ValueError(f"CharTokenizer: unk must be a single character, got {unk!r}")
        if not isinstance(text, str):
            text = "".join(text)  # several texts: the characters of all of them
        chars = set(text) | ({unk} if unk is not None else set())
        self.chars = sorted(chars)
        self.unk = unk
        self.stoi = {c: i for i, c in enumerate(self.chars)}

    @property
    def vocab_size(self):
        """The number of distinct ids."""
        return len(self.chars)

    def encode(self, text):
        """The id of every character of ``text``, as a list."""
        stoi = self.stoi
        if self.unk is not None:
            unk_id = stoi[self.unk]
            return [stoi.get(c, unk_id) for c in text]
        try:
            return [stoi[c] for c in text]
        except KeyError:
            unknown = sorted(set(text) - stoi.keys())
            raise ValueError(
                f"CharTokenizer: characters {unknown[:10]} are not in the vocabulary; build the "
                "tokenizer from text that contains them, or pass unk='?' to replace them"
            ) from None

    def decode(self, ids):
        """The string that the ids stand for."""
        return "".join(self.chars[int(i)] for i in ids)

    def get_state(self) -> dict:
        """The vocabulary as JSON values."""
        return {"type": "CharTokenizer", "chars": "".join(self.chars), "unk": self.unk}

    @classmethod
    def from_state(cls, state: dict):
        """The tokenizer that ``get_state()`` described."""
        return cls(state["chars"], unk=state["unk"])


# CJK scripts written without spaces between words: Han ideographs (Chinese,
# Japanese kanji), hiragana and katakana. Each character becomes a token, as in
# BERT's basic tokenizer. Hangul is left out: Korean separates words by spaces.
_CJK = (
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\U00020000-\U0002ebef"  # CJK extensions B..F
)


@functools.cache
def _word_pattern():
    """The regular expression of a word token, built once on first use.

    A token is one CJK character, a run of other word characters, or one
    punctuation mark or symbol; whitespace separates. Python's ``\\w`` (letters,
    digits, underscore) misses combining marks, such as the vowel signs of
    Hindi or a separate accent, so they are added, lest they cut words apart.
    """
    marks = _ranges(c for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c))[0] == "M")
    word = rf"[\w{marks}]"
    return re.compile(rf"[{_CJK}]|(?:(?![{_CJK}]){word})+|[^\w\s{marks}]")


def _ranges(code_points):
    """Code points as a regex character-class body: runs of consecutive ones become a-b."""
    parts, run = [], []
    for c in code_points:
        if run and c != run[-1] + 1:
            parts.append(run)
            run = []
        run.append(c)
    if run:
        parts.append(run)
    return "".join(f"\\U{r[0]:08x}-\\U{r[-1]:08x}" for r in parts)


class WordTokenizer:
    """Split text into words, punctuation marks and single CJK characters.

    Words are runs of letters, digits and underscores; every other visible
    character (punctuation, symbols) is a token of its own; whitespace only
    separates. Chinese and Japanese characters become one token each, since
    those scripts put no spaces between words. ``lower=True`` lowercases
    first. Pair it with ``Vocab`` to turn the tokens into ids.

    >>> WordTokenizer()("Hello, world! It's 2024.")
    ['hello', ',', 'world', '!', 'it', "'", 's', '2024', '.']
    >>> WordTokenizer(lower=False).tokenize("I like 机器学习!")
    ['I', 'like', '机', '器', '学', '习', '!']
    """

    def __init__(self, *, lower=True):
        self.lower = lower

    def tokenize(self, text):
        """The tokens of ``text``, as a list of strings."""
        if self.lower:
            text = text.lower()
        return _word_pattern().findall(text)

    __call__ = tokenize


def pad_sequences(
    sequences, maxlen=None, *, padding="post", truncating="post", value=0, dtype=np.int64
):
    """Make sequences of different lengths into one rectangular array.

    Every row has length ``maxlen`` (the longest sequence if None). Shorter
    sequences are filled with ``value`` at the end (``padding="post"``) or the
    start (``"pre"``); longer ones lose their end (``truncating="post"``) or
    start (``"pre"``).

    >>> pad_sequences([[1, 2, 3], [4]]).tolist()
    [[1, 2, 3], [4, 0, 0]]
    >>> pad_sequences([[1, 2, 3], [4]], maxlen=2, padding="pre", truncating="pre").tolist()
    [[2, 3], [0, 4]]
    """
    for name, choice in (("padding", padding), ("truncating", truncating)):
        if choice not in ("pre", "post"):
            raise ValueError(f"pad_sequences: {name} must be 'pre' or 'post', got {choice!r}")
    sequences = [list(s) for s in sequences]
    if maxlen is None:
        maxlen = max((len(s) for s in sequences), default=0)
    if maxlen < 0:
        raise ValueError(f"pad_sequences: maxlen must be >= 0, got {maxlen}")
    out = np.full((len(sequences), maxlen), value, dtype=dtype)
    for row, sequence in enumerate(sequences):
        kept = sequence[len(sequence) - maxlen :] if truncating == "pre" else sequence[:maxlen]
        if not kept:
            continue
        if padding == "post":
            out[row, : len(kept)] = kept
        else:
            out[row, maxlen - len(kept) :] = kept
    return out


def language_model_windows(tokens, context_length, stride=None):
    """Cut a token stream into (inputs, targets) windows for next-token prediction.

    Each input row is ``context_length`` consecutive tokens; its target row is
    the same window shifted by one, so ``targets[i, t]`` is the token that
    follows ``inputs[i, :t+1]``. Windows start every ``stride`` tokens
    (``context_length`` if None: windows that do not overlap). Tokens after the
    last full window are dropped. Returns two int64 arrays of shape
    (n_windows, context_length).

    >>> inputs, targets = language_model_windows([10, 11, 12, 13, 14, 15, 16], 3)
    >>> inputs.tolist(), targets.tolist()
    ([[10, 11, 12], [13, 14, 15]], [[11, 12, 13], [14, 15, 16]])
    >>> language_model_windows(range(6), 3, stride=1)[0].tolist()
    [[0, 1, 2], [1, 2, 3], [2, 3, 4]]
    """
    if not hasattr(tokens, "__len__"):
        tokens = list(tokens)  # a generator: NumPy needs a sequence
    tokens = np.asarray(tokens, dtype=np.int64)
    stride = context_length if stride is None else stride
    if context_length < 1 or stride < 1:
        raise ValueError(
            f"context_length and stride must be >= 1, got {context_length} and {stride}"
        )
    if tokens.ndim != 1 or len(tokens) < context_length + 1:
        raise ValueError(
            f"language_model_windows: need a 1-D stream of at least context_length + 1 = "
            f"{context_length + 1} tokens (one window and its next token), got shape {tokens.shape}"
        )
    # Every window of context_length + 1 tokens, as a view (no copy); then every stride-th.
    windows = np.lib.stride_tricks.sliding_window_view(tokens, context_length + 1)[::stride]
    return windows[:, :-1].copy(), windows[:, 1:].copy()
