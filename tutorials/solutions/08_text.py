"""Tutorial 8, solutions to the exercises.

Run: python tutorials/solutions/08_text.py
"""

import os

import numpy as np

from minigrad.data import BPETokenizer, CharTokenizer, language_model_windows, load_text

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"
text = load_text()
cut = int(0.9 * len(text))
train_text, val_text = text[:cut], text[cut:]
tokenizer = CharTokenizer(text)
train_ids = np.array(tokenizer.encode(train_text))
val_ids = np.array(tokenizer.encode(val_text))
V = tokenizer.vocab_size

# 1. Bigram: p(c_t | c_(t-1)) from pair counts, each count plus one.
pairs = np.ones((V, V))
np.add.at(pairs, (train_ids[:-1], train_ids[1:]), 1)
bigram = pairs / pairs.sum(axis=1, keepdims=True)
bigram_loss = float(-np.log(bigram[val_ids[:-1], val_ids[1:]]).mean())
unigram = (np.bincount(train_ids, minlength=V) + 1) / (len(train_ids) + V)
unigram_loss = float(-np.log(unigram[val_ids]).mean())
print(f"1. validation loss: unigram {unigram_loss:.3f}, bigram {bigram_loss:.3f} nats")
print("   (the tutorial's transformer, which sees 64 characters, ends below both)")
assert bigram_loss < unigram_loss

# 2. Temperature T divides the scores: p_T(c) is proportional to p(c)^(1/T). T < 1 sharpens
#    the distribution (safe, repetitive text), T > 1 flattens it (varied, more mistakes).
#    The entropy (in nats) of the next-character distribution after "e" shows it:
row = bigram[tokenizer.encode("e")[0]]
for T in (0.3, 1.0, 1.5):
    p = row ** (1 / T)
    p /= p.sum()
    entropy = float(-(p * np.log(p)).sum())
    rng = np.random.default_rng(0)
    ids = [tokenizer.encode("e")[0]]
    for _ in range(40):
        q = bigram[ids[-1]] ** (1 / T)
        ids.append(int(rng.choice(V, p=q / q.sum())))
    print(
        f"2. T={T}: entropy after 'e' {entropy:.2f} nats; bigram sample {tokenizer.decode(ids)!r}"
    )
entropies = [float(-(p * np.log(p)).sum()) for p in (row**3.33 / (row**3.33).sum(), row)]
assert entropies[0] < entropies[1]

# 3. A 512-token BPE: how many characters does a window of 64 tokens cover?
bpe = BPETokenizer().train(train_text[: 50_000 if QUICK else 200_000], vocab_size=512)
sample = val_text[:20_000]
tokens = bpe.encode(sample)
inputs, _ = language_model_windows(tokens, 64)
covered = np.mean([len(bpe.decode(row)) for row in inputs])
print(f"3. 64 BPE tokens cover {covered:.0f} characters on average (64 characters-tokens: 64)")
assert covered > 64 * 1.5

# 4. A test that one lucky pair cannot fool: the mean cosine similarity over all pairs of
#    digits against the mean over all pairs of characters. With the tutorial's model, take
#    `table = model.tokens.weight.detach().numpy()`. Here, so that this file runs in
#    seconds, each character's "embedding" is its row of log bigram probabilities (what
#    comes after it): the very thing a next-character model's embedding learns to encode.


def mean_cosine(table, ids_a, ids_b):
    unit = table / np.linalg.norm(table, axis=1, keepdims=True)
    similarity = unit[ids_a] @ unit[ids_b].T
    same = np.equal.outer(ids_a, ids_b)
    return float(similarity[~same].mean())  # leave out each character with itself


table = np.log(bigram)
table = table - table.mean(axis=0)  # centre: what all characters share says nothing
digits = tokenizer.encode("0123456789")
everything = list(range(V))
within, overall = mean_cosine(table, digits, digits), mean_cosine(table, everything, everything)
print(f"4. mean cosine: digit-digit pairs {within:.3f}, all pairs {overall:.3f}")
assert within > overall + 0.1
