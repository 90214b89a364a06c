"""Byte-level byte-pair encoding (BPE): the subword tokenizer of GPT-2 and its successors.

The idea in three lines:

1. Start from bytes. Text is UTF-8 bytes, so 256 base tokens (ids 0..255)
   can spell *any* string, in any script, even characters never seen in
   training: nothing is ever unknown.
2. Training repeatedly finds the most frequent pair of adjacent tokens in the
   corpus and *merges* it into a new token (id 256, 257, ...). Frequent words
   end up as single tokens; rare ones as a few pieces.
3. Encoding replays the merges on new text, earliest-learned first; decoding
   concatenates each token's bytes and reads them as UTF-8.

Like GPT-2, the text is first cut into chunks (words with their leading
space, numbers, runs of punctuation, whitespace) and merges never cross a
chunk boundary, so a token never glues the end of one word to the next.

Training is fast because it works on *distinct* chunks weighted by their
counts, and because after each merge it updates the pair counts of only the
chunks that contained the merged pair, instead of counting every pair again.
"""

from __future__ import annotations

import heapq
import itertools
import json
import operator
import os
import re
from collections import Counter, defaultdict

# Contractions; a word, a number or a run of other symbols, each with one
# optional leading space; whitespace. The last alternatives catch everything
# else, so the chunks always add up to the whole text.
_CHUNK_PATTERN = r"'(?:s|t|re|ve|m|ll|d)| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+"
_FORMAT = "minigrad.BPETokenizer"


class BPETokenizer:
    """A byte-level BPE tokenizer: ``train`` it on text, then ``encode`` and ``decode``.

    ``decode(encode(s)) == s`` for every Python string ``s``, Chinese, emoji and
    unpaired surrogates included. ``decode`` of ids that do not form valid
    UTF-8 (a multi-byte character cut in two) shows the broken bytes as U+FFFD.

    >>> tok = BPETokenizer().train(["low lower lowest", "low low"], vocab_size=260)
    >>> [tok.token_bytes(i) for i in range(256, 260)]  # the four merges, in order
    [b'lo', b'low', b' low', b' lowe']
    >>> ids = tok.encode("lowly 低")  # 'low', then bytes: l y space, and 3 for 低
    >>> ids, tok.decode(ids)
    ([257, 108, 121, 32, 228, 189, 142], 'lowly 低')
    """

    def __init__(self):
        self._pattern = re.compile(_CHUNK_PATTERN)
        self._reset()

    def _reset(self):
        """Forget every merge: the 256 byte tokens alone."""
        self.merges: list[tuple[int, int]] = []  # merge k made token 256 + k
        self._tokens = [bytes([b]) for b in range(256)]
        self._ranks: dict[tuple[int, int], int] = {}  # pair -> the id it merges into
        self._cache: dict[str, list[int]] = {}

    @property
    def vocab_size(self):
        """The number of token ids: 256 bytes plus one per merge."""
        return len(self._tokens)

    def token_bytes(self, token_id):
        """The bytes that token ``token_id`` stands for."""
        return self._tokens[token_id]

    # --- training ------------------------------------------------------------------
    def train(self, texts, vocab_size, min_frequency=2):
        """Learn merges from ``texts`` (a string or strings) until ``vocab_size`` ids exist.

        Training stops early when the most frequent pair occurs fewer than
        ``min_frequency`` times. Ties between equally frequent pairs go to the
        pair of smaller ids, so training is deterministic. Returns ``self``.
        """
        if vocab_size < 256:
            raise ValueError(
                f"BPETokenizer: vocab_size must be at least 256 (the bytes), got {vocab_size}"
            )
        if isinstance(texts, str):
            texts = [texts]
        chunk_counts = Counter()
        for text in texts:
            chunk_counts.update(self._chunks(text))
        words = [list(_utf8(chunk)) for chunk in chunk_counts]
        weights = list(chunk_counts.values())
        self._reset()  # training starts from the bytes alone
        pair_counts, holders = _count_pairs(words, weights)
        heap = [(-count, pair) for pair, count in pair_counts.items()]
        heapq.heapify(heap)
        while len(self._tokens) < vocab_size and heap:
            negative_count, pair = heapq.heappop(heap)
            if pair_counts.get(pair, 0) != -negative_count:
                continue  # an old entry: the pair's count changed and was pushed again
            if -negative_count < min_frequency:
                break
            new_id = self._add_merge(pair)
            _merge_everywhere(pair, new_id, words, weights, pair_counts, holders, heap)
        return self

    def _add_merge(self, pair):
        new_id = len(self._tokens)
        self.merges.append(pair)
        self._ranks[pair] = new_id
        self._tokens.append(self._tokens[pair[0]] + self._tokens[pair[1]])
        return new_id

    # --- encoding and decoding -----------------------------------------------------
    def encode(self, text):
        """The token ids of ``text``, as a list of ints."""
        ids = []
        for chunk in self._chunks(text):
            cached = self._cache.get(chunk)
            if cached is None:
                cached = self._encode_chunk(chunk)
                if len(self._cache) < 100_000:  # a bound, so memory cannot grow forever
                    self._cache[chunk] = cached
            ids.extend(cached)
        return ids

    def _encode_chunk(self, chunk):
        """Apply the merges to one chunk's bytes, always the earliest-learned pair first."""
        ids = list(_utf8(chunk))
        while len(ids) >= 2:
            pair = min(itertools.pairwise(ids), key=lambda p: self._ranks.get(p, len(self._tokens)))
            if pair not in self._ranks:
                break  # no adjacent pair was ever merged
            ids = _replace_pair(ids, pair, self._ranks[pair])
        return ids

    def decode(self, ids):
        """The text that ``ids`` spell."""
        ids = [operator.index(i) for i in ids]  # ints, NumPy ints; not floats
        bad = [i for i in ids if not 0 <= i < len(self._tokens)]
        if bad:
            raise ValueError(
                f"BPETokenizer.decode: ids {bad[:10]} are not in 0..{len(self._tokens) - 1}"
            )
        data = b"".join(self._tokens[i] for i in ids)
        try:
            return data.decode("utf-8", errors="surrogatepass")
        except UnicodeDecodeError:  # a character cut in two: show the broken bytes as U+FFFD
            return data.decode("utf-8", errors="replace")

    def _chunks(self, text):
        return self._pattern.findall(text)

    # --- files ---------------------------------------------------------------------
    def save(self, path):
        """Write the merges to ``path`` as JSON."""
        content = {
            "format": _FORMAT,
            "version": 1,
            "pattern": self._pattern.pattern,
            "merges": [list(pair) for pair in self.merges],
            # For people reading the file; load ignores it.
            "tokens": [t.decode("utf-8", errors="backslashreplace") for t in self._tokens[256:]],
        }
        # A crash while writing leaves the old file whole: write beside it, then swap.
        partial = f"{os.fspath(path)}.partial"
        with open(partial, "w", encoding="utf-8") as file:
            json.dump(content, file, ensure_ascii=False, indent=0)
        os.replace(partial, path)

    @classmethod
    def load(cls, path):
        """A tokenizer with the merges that ``save`` wrote to ``path``."""
        try:
            with open(path, encoding="utf-8") as file:
                content = json.load(file)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"{path}: not a BPETokenizer file (not valid JSON: {error})") from None
        if not isinstance(content, dict) or content.get("format") != _FORMAT:
            raise ValueError(f"{path}: not a BPETokenizer file (no 'format': '{_FORMAT}')")
        tokenizer = cls()
        tokenizer._pattern = re.compile(content.get("pattern", _CHUNK_PATTERN))
        for k, pair in enumerate(content["merges"]):
            new_id = 256 + k
            if not (
                isinstance(pair, list)
                and len(pair) == 2
                and all(isinstance(i, int) and 0 <= i < new_id for i in pair)
            ):
                raise ValueError(f"{path}: merge {k} is {pair!r}, expected two ids below {new_id}")
            tokenizer._add_merge(tuple(pair))
        return tokenizer


def _utf8(text):
    # surrogatepass: a lone surrogate (legal in a Python str) still becomes bytes.
    return text.encode("utf-8", errors="surrogatepass")


def _replace_pair(ids, pair, new_id):
    """``ids`` with every occurrence of ``pair``, scanned left to right, replaced by ``new_id``."""
    out, i = [], 0
    first, second = pair
    while i < len(ids):
        if i + 1 < len(ids) and ids[i] == first and ids[i + 1] == second:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def _count_pairs(words, weights):
    """How often each adjacent pair occurs, and which words hold it."""
    pair_counts = Counter()
    holders = defaultdict(set)
    for index, (word, weight) in enumerate(zip(words, weights, strict=True)):
        for pair in itertools.pairwise(word):
            pair_counts[pair] += weight
            holders[pair].add(index)
    return pair_counts, holders


def _merge_everywhere(pair, new_id, words, weights, pair_counts, holders, heap):
    """Merge ``pair`` in every word that holds it, updating the pair counts incrementally.

    Only the words that contain the pair change. For each, the counts of its
    old pairs are taken away and those of its new pairs added; every pair whose
    count changed is pushed onto the heap again with its new count.
    """
    delta = Counter()
    for index in holders.pop(pair):
        old = words[index]
        new = _replace_pair(old, pair, new_id)
        words[index] = new
        weight = weights[index]
        old_pairs, new_pairs = list(itertools.pairwise(old)), list(itertools.pairwise(new))
        for p in old_pairs:
            delta[p] -= weight
        for p in new_pairs:
            delta[p] += weight
        for p in set(old_pairs) - set(new_pairs):
            if p in holders:
                holders[p].discard(index)
        for p in new_pairs:
            holders[p].add(index)
    for p, change in delta.items():
        if change == 0:
            continue
        count = pair_counts.get(p, 0) + change
        if count > 0:
            pair_counts[p] = count
            heapq.heappush(heap, (-count, p))
        else:
            pair_counts.pop(p, None)
