# %% [markdown]
# # Tutorial 8: text, from characters to a small transformer that writes
#
# **You will learn** three ways to cut text into tokens (characters, words, byte-level
# BPE) on English and Chinese; what a vocabulary is and what happens to a token it lacks;
# how to batch sentences of different lengths with padding and a mask; what an embedding
# is; and how a small character-level transformer learns to predict the next character
# well enough to generate text, measured against the simplest baseline there is.
#
# **Read first:** Tutorial 2 (section 6: BPE tokens and language-model windows) and
# Tutorial 3 (the training loop).
#
# **Source:** tokenizers in [minigrad/data/text.py](../minigrad/data/text.py) and
# [minigrad/data/bpe.py](../minigrad/data/bpe.py); embeddings in
# [minigrad/nn/layers/embedding.py](../minigrad/nn/layers/embedding.py); attention in
# [minigrad/nn/layers/attention.py](../minigrad/nn/layers/attention.py).
#
# Run it: `python tutorials/08_text.py` (full mode, about a minute), or with
# `MINIGRAD_QUICK=1` for a few-second version that trains only briefly.

# %%
import math
import os

import numpy as np

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.data import (
    BPETokenizer,
    CharTokenizer,
    Vocab,
    WordTokenizer,
    language_model_windows,
    load_text,
    pad_sequences,
)

QUICK = os.environ.get("MINIGRAD_QUICK") == "1"  # the test suite's few-second mode
try:
    import matplotlib

    matplotlib.use("Agg")  # draw to files, no window
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
minigrad.manual_seed(0)

# %% [markdown]
# ## 1. Three ways to cut text into tokens
#
# A model sees numbers, so text becomes a sequence of *token ids*. The choice of token is
# a trade between the size of the vocabulary and the length of the sequences:
#
# - **characters**: a small vocabulary (about a hundred for English), long sequences;
# - **words**: short sequences, a huge vocabulary, and new words are unknown. Chinese puts
#   no spaces between words, so `WordTokenizer` makes each Chinese character a token;
# - **byte-level BPE**: start from the 256 bytes of UTF-8 and merge frequent neighbours
#   into new tokens. Any string can be encoded (nothing is unknown), and frequent pieces
#   become single tokens.

# %%
english = "The cat sat on the mat. The dog sat on the log."
chinese = "我喜欢机器学习。机器学习很有意思。"
chars = CharTokenizer(english)
print(f"characters: {chars.vocab_size} distinct;", chars.encode("The cat")[:7])
words = WordTokenizer()
print("words     :", words(english)[:8])
print("words (zh):", words(chinese))
assert words(chinese)[:4] == ["我", "喜", "欢", "机"]  # one token per Chinese character
assert chars.decode(chars.encode(english)) == english

# BPE, trained on English; then on Chinese. A Chinese character is 3 bytes of UTF-8: with
# merges learned from English text the Chinese sentence stays at about 3 tokens per
# character; trained on Chinese text, BPE merges those bytes, and more.
text = load_text()
english_bpe = BPETokenizer().train(text[:50_000], vocab_size=300)
chinese_bpe = BPETokenizer().train(chinese * 20, vocab_size=300)
for name, tokenizer in [
    ("BPE trained on English", english_bpe),
    ("BPE trained on Chinese", chinese_bpe),
]:
    n_en, n_zh = len(tokenizer.encode(english)), len(tokenizer.encode(chinese))
    print(f"{name}: English {len(english)} chars -> {n_en} tokens;", end=" ")
    print(f"Chinese {len(chinese)} chars -> {n_zh} tokens")
    assert tokenizer.decode(tokenizer.encode(chinese)) == chinese  # nothing is ever unknown
assert len(chinese_bpe.encode(chinese)) < len(chinese) < len(english_bpe.encode(chinese))

# %% [markdown]
# ## 2. The vocabulary, and unknown tokens
#
# A `Vocab` numbers the tokens: first a few *special* tokens (`<pad>` for padding, `<unk>`
# for unknown tokens, `<bos>`/`<eos>` for the start and end of a sequence), then the
# tokens from most to least frequent. `min_freq` leaves out rare tokens: they, and every
# token never seen in training, map to `<unk>`. A model cannot learn much from a word it
# saw once, and the embedding table (section 4) has one row per token.

# %%
sentences = ["The cat sat on the mat.", "The dog sat.", "A cat and a dog!", "The end."]
tokenized = [words(s) for s in sentences]
vocab = Vocab(tokenized, min_freq=2)
print(vocab, "->", vocab.itos)
ids = vocab.encode(words("The cat ate the fish."))
print("'The cat ate the fish.' ->", ids, "->", vocab.decode(ids))
assert vocab.decode(ids)[2] == "<unk>"  # "ate" never appeared in training
assert "mat" not in vocab  # seen once: below min_freq

# %% [markdown]
# ## 3. Batches of different lengths: padding and masks
#
# Sentences have different lengths, but a batch is a rectangle. `pad_sequences` fills the
# short rows with the `<pad>` id; a boolean *mask* remembers which positions are real.
# Everything that mixes positions must ignore the padding: a mean over a sentence divides
# by its real length, and attention gives padded keys zero weight
# (`key_padding_mask`, True where a key is padding).

# %%
batch = pad_sequences([vocab.encode(t) for t in tokenized], value=vocab.pad_index)
real = batch != vocab.pad_index  # the mask
print("padded batch:\n", batch)
print("lengths:", real.sum(axis=1).tolist())
assert real.sum(axis=1).tolist() == [len(t) for t in tokenized]

minigrad.manual_seed(0)
embed = nn.Embedding(len(vocab), 8, padding_idx=vocab.pad_index)
vectors = embed(minigrad.tensor(batch))  # (sentences, positions, 8)
mask = minigrad.tensor(real.astype(np.float32)).unsqueeze(-1)
sentence_means = (vectors * mask).sum(dim=1) / mask.sum(dim=1)  # mean over real tokens
first = vectors[0, : real[0].sum()].mean(dim=0)
assert np.allclose(sentence_means[0].numpy(), first.numpy(), atol=1e-6)

attention = nn.MultiheadAttention(8, num_heads=2, batch_first=True)
_, weights = attention(vectors, vectors, vectors, key_padding_mask=minigrad.tensor(~real))
print(f"attention weights of sentence 2 ({real[1].sum()} real tokens, then padding), first query:")
print(np.round(weights.numpy()[1, 0], 3))
assert np.all(weights.numpy()[~real[:, None, :].repeat(batch.shape[1], axis=1)] == 0)

# %% [markdown]
# ## 4. A character-level language model
#
# We train a model to predict the next character of Python's documentation (`load_text`,
# about half a million characters). First the baseline: a *unigram* model that ignores the
# context and always predicts each character with its frequency $p(c)$ in the training
# text. Its loss on the validation text is the cross-entropy
#
# $$H = -\frac{1}{N} \sum_{t=1}^{N} \log p(c_t),$$
#
# the number any model that uses context must beat.

# %%
cut = int(0.9 * len(text))
train_text, val_text = text[:cut], text[cut:]
tokenizer = CharTokenizer(text)  # the vocabulary: every character of the corpus
train_ids = np.array(tokenizer.encode(train_text))
val_ids = np.array(tokenizer.encode(val_text))
counts = np.bincount(train_ids, minlength=tokenizer.vocab_size) + 1  # +1: none has p = 0
unigram = counts / counts.sum()
baseline = float(-np.log(unigram[val_ids]).mean())
print(f"{tokenizer.vocab_size} characters; unigram baseline: {baseline:.3f} nats per character")

# %% [markdown]
# ## 5. The transformer
#
# Each character id becomes a vector (its *embedding*, a learned row of a table), plus a
# learned vector for its position. Then a few blocks, each
#
# $$x \leftarrow x + \text{Attention}(\text{LayerNorm}(x)), \qquad
#   x \leftarrow x + \text{MLP}(\text{LayerNorm}(x)),$$
#
# where attention lets every position look back at the earlier ones:
# $\text{softmax}(Q K^\top / \sqrt{d} + M) V$ with the *causal* mask $M$ ($-\infty$ above the
# diagonal), so that position $t$ cannot peek at the character it must predict. Each
# position's query $Q$, key $K$ and value $V$ are linear maps of its vector; 4 *heads* do
# this in parallel on slices of the vector. `LayerNorm` rescales each position's vector to
# mean 0 and standard deviation 1 (then applies a learned scale and shift), which keeps
# the numbers in a stable range through the blocks; `GELU` is a smooth ReLU,
# $x \, \Phi(x)$ with $\Phi$ the normal distribution's CDF. The "$x +$" (a *residual*
# connection) lets each block add a correction to its input rather than replace it. A
# last linear layer gives one score per character; the loss is the cross-entropy of
# Tutorial 3 at every position.

# %%


class Block(nn.Module):
    """Pre-norm transformer block: causal self-attention, then an MLP, each added back."""

    def __init__(self, width, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.attention = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(
            nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width)
        )

    def forward(self, x):
        h = self.norm1(x)
        attended, _ = self.attention(h, h, h, is_causal=True, need_weights=False)
        x = x + attended
        return x + self.mlp(self.norm2(x))


class CharTransformer(nn.Module):
    def __init__(self, vocab_size, context, width=64, heads=4, layers=2):
        super().__init__()
        self.tokens = nn.Embedding(vocab_size, width)
        self.positions = nn.Embedding(context, width)
        self.blocks = nn.Sequential(*[Block(width, heads) for _ in range(layers)])
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab_size)

    def forward(self, ids):  # ids: (batch, length) -> scores (batch, length, vocab)
        positions = minigrad.arange(ids.shape[1])
        x = self.tokens(ids) + self.positions(positions)
        return self.head(self.norm(self.blocks(x)))


context = 64
model = CharTransformer(tokenizer.vocab_size, context)
print(f"{sum(p.numel() for p in model.parameters())} parameters")
train_x, train_y = language_model_windows(train_ids, context, stride=context // 2)
val_x, val_y = language_model_windows(val_ids, context)
keep = 32 if QUICK else 256  # 256 windows: 16,000 characters are enough to measure
val_x, val_y = val_x[:keep], val_y[:keep]


def validation_loss():
    model.eval()
    with minigrad.no_grad():
        scores = model(minigrad.tensor(val_x))
        return F.cross_entropy(
            scores.reshape(-1, scores.shape[-1]), minigrad.tensor(val_y.reshape(-1))
        ).item()


start = validation_loss()
uniform = math.log(tokenizer.vocab_size)  # the loss of guessing every character equally
print(f"before training: {start:.3f} (ln {tokenizer.vocab_size} = {uniform:.3f})")

# %% [markdown]
# ## 6. Training
#
# Random windows of 64 characters, 32 per batch, AdamW with a learning rate that warms up
# and then decays (`OneCycleLR`), and gradient clipping to keep a rare huge gradient from
# throwing the weights off.

# %%
steps = 15 if QUICK else 500
optimizer = optim.AdamW(model.parameters(), lr=5e-3, weight_decay=0.01)
scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=5e-3, total_steps=steps)
rng = np.random.default_rng(0)
curve = []
for step in range(1, steps + 1):
    model.train()
    rows = rng.integers(0, len(train_x), size=32)
    xb, yb = minigrad.tensor(train_x[rows]), minigrad.tensor(train_y[rows])
    scores = model(xb)
    loss = F.cross_entropy(scores.reshape(-1, scores.shape[-1]), yb.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    if step % (steps // 5) == 0:
        curve.append((step, validation_loss()))
        print(
            f"step {step:5d}  training loss {loss.item():.3f}  validation loss {curve[-1][1]:.3f}"
        )
final = curve[-1][1]
print(f"validation loss {final:.3f} vs unigram baseline {baseline:.3f}:", end=" ")
print(f"{100 * (1 - final / baseline):.0f}% below it")
assert final < start
if not QUICK:  # the full run ends at least 30% below the baseline
    assert final < 0.7 * baseline
if plt is not None:
    plt.figure(figsize=(5, 3))
    plt.plot(*zip(*curve), marker="o", label="transformer")
    plt.axhline(baseline, color="gray", linestyle="--", label="unigram baseline")
    plt.xlabel("step")
    plt.ylabel("validation loss (nats)")
    plt.legend()
    plt.tight_layout()
    plt.savefig("08_learning_curve.png")
    plt.close()
    print("saved 08_learning_curve.png")
else:
    print("(matplotlib is not installed: no learning curve)")

# %% [markdown]
# ## 7. Generating text
#
# To write, feed the model a prompt, turn the scores of the last position into
# probabilities with a softmax (divided by a *temperature*: below 1 it favours likely
# characters), draw the next character, append it, repeat.

# %%


def generate(prompt, length=200, temperature=0.8, seed=0):
    draw = np.random.default_rng(seed)
    ids = tokenizer.encode(prompt)
    model.eval()
    with minigrad.no_grad():
        for _ in range(length):
            window = minigrad.tensor(np.array([ids[-context:]]))
            scores = model(window)[0, -1] / temperature
            probabilities = scores.softmax(dim=0).numpy().astype(np.float64)
            ids.append(int(draw.choice(len(probabilities), p=probabilities / probabilities.sum())))
    return tokenizer.decode(ids)


sample = generate("The ", length=50 if QUICK else 300)
print(sample)
assert sample.startswith("The ") and len(sample) == len("The ") + (50 if QUICK else 300)

# %% [markdown]
# ## 8. What the embeddings learned
#
# The model placed each character somewhere in a 64-dimensional space. In large models,
# characters (or words) that play similar roles end up with similar vectors, because
# they are followed by similar things. We measure similarity by the cosine
# $\cos(a, b) = a \cdot b / (\|a\| \|b\|)$ and list each character's nearest neighbours.
# Be warned: a model this small, trained for a few minutes, learns its embeddings only
# roughly, so expect a few sensible pairs (a capital next to its lower-case letter, a
# digit next to a digit) among much noise. Exercise 4 asks for a test that is not
# fooled by one lucky pair.

# %%
table = model.tokens.weight.detach().numpy()
unit = table / np.linalg.norm(table, axis=1, keepdims=True)
similarity = unit @ unit.T


def neighbours(char, k=5):
    row = similarity[tokenizer.encode(char)[0]]
    return [tokenizer.decode([i]) for i in np.argsort(-row)[1 : k + 1]]


for char in ["a", "3", "T", "("]:
    print(f"nearest to {char!r}: {neighbours(char)}")
assert neighbours("a")[0] != "a"  # a character is not its own neighbour

# %% [markdown]
# ## Exercises
#
# 1. Compute a *bigram* baseline: $p(c_t \mid c_{t-1})$ from counts of pairs in the
#    training text (add one to every count), and its validation cross-entropy. Where
#    does it fall between the unigram baseline and the transformer?
# 2. Generate with temperatures 0.3 and 1.5. What changes, and why?
# 3. Tokenize the training text with a 512-token BPE (Tutorial 2) instead of characters:
#    how many characters does a 64-token window now cover?
# 4. Are the digits' embeddings closer to each other than to other characters? Compare
#    the mean cosine similarity over pairs of digits with the mean over all pairs.
#
# Solutions: `tutorials/solutions/08_text.py`.
