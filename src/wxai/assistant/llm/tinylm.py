"""A tiny decoder-only language model trained from scratch on a toy corpus.

The pieces of an LLM at toy scale: a word tokenizer with special tokens and padding,
a causal transformer from :mod:`wxai.nn.transformer`, next-token training with
cross-entropy, and decoding. Each decoding rule (greedy, temperature, top-k, top-p,
repetition penalty) is a small pure function over a logits tensor ``(..., V)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from wxai.core.errors import ConfigError
from wxai.core.progress import ProgressReporter, null_progress
from wxai.nn.transformer import DecoderOnlyTransformer

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>", "<unk>")
#: Target value skipped by the loss (padding and the unpredictable opening word).
IGNORE = -100
_WORD = re.compile(r"<[a-z]+>|\w+|[^\w\s]")


def load_toy_corpus() -> list[str]:
    """Sentences of the packaged toy corpus (``data/toy_corpus.txt``), comments dropped."""
    text = resources.files("wxai.assistant.llm").joinpath("data/toy_corpus.txt").read_text()
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


class Batch(NamedTuple):
    """Padded token ids ``(B, T)`` (long) and attention mask ``(B, T)`` (1 = real token)."""

    ids: torch.Tensor
    attention_mask: torch.Tensor


class WordTokenizer:
    """Splits text into words and punctuation and maps them to integer ids.

    Ids 0-3 are the special tokens ``<pad>``, ``<bos>``, ``<eos>``, ``<unk>``; words
    follow in order of first appearance. Unknown words map to ``<unk>``.

    Parameters
    ----------
    words:
        The vocabulary without the special tokens.
    lowercase:
        Whether text is lower-cased before lookup.
    """

    def __init__(self, words: Iterable[str], *, lowercase: bool = False) -> None:
        self.lowercase = lowercase
        self.id_to_token: list[str] = list(SPECIAL_TOKENS)
        for word in words:
            if word not in self.id_to_token:
                self.id_to_token.append(word)
        self.token_to_id = {token: index for index, token in enumerate(self.id_to_token)}

    @classmethod
    def from_texts(cls, texts: Iterable[str], *, lowercase: bool = False) -> WordTokenizer:
        """Vocabulary of every word in ``texts``, in order of first appearance."""
        splitter = cls((), lowercase=lowercase)
        return cls((word for text in texts for word in splitter.split(text)), lowercase=lowercase)

    def __len__(self) -> int:
        return len(self.id_to_token)

    @property
    def vocab_size(self) -> int:
        """Number of ids, special tokens included."""
        return len(self)

    def split(self, text: str) -> list[str]:
        """Words and punctuation marks of ``text`` (special tokens stay whole)."""
        return _WORD.findall(text.lower() if self.lowercase else text)

    def encode(self, text: str, *, add_bos: bool = False, add_eos: bool = False) -> list[int]:
        """Token ids of ``text``, optionally framed by ``<bos>`` and ``<eos>``."""
        ids = [self.token_to_id.get(word, UNK) for word in self.split(text)]
        return [BOS] * add_bos + ids + [EOS] * add_eos

    def decode(self, ids: Iterable[int], *, skip_special: bool = True) -> str:
        """Text of ``ids`` joined by spaces; special tokens dropped unless asked for."""
        tokens = [self.id_to_token[int(i)] for i in ids]
        if skip_special:
            tokens = [t for t in tokens if t not in SPECIAL_TOKENS or t == "<unk>"]
        return " ".join(tokens)

    def pad(
        self, sequences: Sequence[Sequence[int]], *, max_len: int | None = None, side: str = "right"
    ) -> Batch:
        """Stack id sequences into a ``<pad>``-filled batch with its attention mask.

        Sequences longer than ``max_len`` are truncated (keeping their start).
        """
        if side not in ("right", "left"):
            raise ConfigError(f"side must be 'right' or 'left', got {side!r}")
        length = max_len or max((len(s) for s in sequences), default=0)
        ids = torch.full((len(sequences), length), PAD, dtype=torch.long)
        mask = torch.zeros((len(sequences), length), dtype=torch.long)
        for row, sequence in enumerate(sequences):
            kept = list(sequence)[:length]
            span = slice(0, len(kept)) if side == "right" else slice(length - len(kept), length)
            ids[row, span] = torch.tensor(kept, dtype=torch.long)
            mask[row, span] = 1
        return Batch(ids, mask)

    def encode_batch(
        self,
        texts: Sequence[str],
        *,
        add_bos: bool = False,
        add_eos: bool = False,
        max_len: int | None = None,
    ) -> Batch:
        """Encode and right-pad several texts."""
        return self.pad(
            [self.encode(t, add_bos=add_bos, add_eos=add_eos) for t in texts], max_len=max_len
        )


# --- decoding rules: pure functions over logits (..., V) -------------------------------


def greedy(logits: torch.Tensor) -> torch.Tensor:
    """Index of the largest logit along the last dimension: ``(..., V) -> (...)``."""
    return logits.argmax(dim=-1)


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """``logits / T``: ``T < 1`` sharpens the distribution, ``T > 1`` flattens it."""
    if temperature <= 0:
        raise ConfigError(f"temperature must be positive, got {temperature}")
    return logits / temperature


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the ``k`` largest logits along the last dimension, set the others to ``-inf``.

    Ties at the ``k``-th value are all kept.
    """
    if k < 1:
        raise ConfigError(f"k must be at least 1, got {k}")
    if k >= logits.shape[-1]:
        return logits.clone()
    kth = logits.topk(k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Nucleus filter: keep the smallest set of most likely tokens with total probability >= p.

    Tokens are sorted by probability; a token is kept while the probability of the
    tokens ranked before it is still below ``p``, so the most likely token is always
    kept. The rest are set to ``-inf``.
    """
    if not 0 < p <= 1:
        raise ConfigError(f"p must be in (0, 1], got {p}")
    probs = torch.softmax(logits, dim=-1)
    sorted_probs, order = probs.sort(dim=-1, descending=True)
    before = sorted_probs.cumsum(dim=-1) - sorted_probs
    drop_sorted = before >= p
    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float("-inf"))


def apply_repetition_penalty(
    logits: torch.Tensor, previous: torch.Tensor | Sequence[int], penalty: float
) -> torch.Tensor:
    """Make tokens already generated less likely (CTRL rule).

    The logit ``z`` of every token in ``previous`` becomes ``z / penalty`` if positive and
    ``z * penalty`` otherwise, so for ``penalty > 1`` it always decreases.

    Parameters
    ----------
    logits:
        ``(V,)`` or ``(B, V)``.
    previous:
        Token ids ``(L,)`` or ``(B, L)`` seen so far (repeats are harmless).
    penalty:
        ``1`` leaves the logits unchanged.
    """
    if penalty <= 0:
        raise ConfigError(f"penalty must be positive, got {penalty}")
    previous = torch.as_tensor(previous, dtype=torch.long, device=logits.device)
    if previous.numel() == 0 or penalty == 1:
        return logits.clone()
    scores = logits.gather(-1, previous)
    scores = torch.where(scores > 0, scores / penalty, scores * penalty)
    return logits.scatter(-1, previous, scores)


def sample(logits: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw one index from ``softmax(logits)`` along the last dimension: ``(..., V) -> (...)``."""
    probs = torch.softmax(logits, dim=-1)
    flat = probs.reshape(-1, probs.shape[-1])
    return torch.multinomial(flat, 1, generator=generator).reshape(probs.shape[:-1])


@dataclass(frozen=True)
class Decoding:
    """A decoding strategy: the rules applied to the next-token logits, in this order.

    Attributes
    ----------
    greedy:
        Take the arg-max (after the repetition penalty); the sampling fields are ignored.
    temperature, top_k, top_p:
        Sampling rules (``None`` disables top-k / top-p).
    repetition_penalty:
        Applied first, to tokens of the prompt and of the continuation so far.
    """

    greedy: bool = False
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    repetition_penalty: float = 1.0

    def next_token(
        self,
        logits: torch.Tensor,
        previous: torch.Tensor,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Choose the next token from logits ``(..., V)`` given the ids so far."""
        logits = apply_repetition_penalty(logits, previous, self.repetition_penalty)
        if self.greedy:
            return greedy(logits)
        logits = apply_temperature(logits, self.temperature)
        if self.top_k is not None:
            logits = top_k_filter(logits, self.top_k)
        if self.top_p is not None:
            logits = top_p_filter(logits, self.top_p)
        return sample(logits, generator)


# --- the model ------------------------------------------------------------------------


@dataclass(frozen=True)
class TinyLMConfig:
    """Size of the tiny transformer (see :class:`~wxai.nn.transformer.DecoderOnlyTransformer`)."""

    d_model: int = 32
    n_heads: int = 2
    d_ff: int = 64
    n_layers: int = 2
    max_len: int = 32
    norm_first: bool = True
    dropout: float = 0.0


class TinyLM(nn.Module):
    """A word tokenizer and a decoder-only transformer over its vocabulary.

    Shapes
    ------
    ``forward``: ids ``(B, T)``, mask ``(B, T)`` -> logits ``(B, T, V)``.
    """

    def __init__(self, tokenizer: WordTokenizer, config: TinyLMConfig | None = None) -> None:
        super().__init__()
        self.tokenizer = tokenizer
        self.config = config or TinyLMConfig()
        self.network = DecoderOnlyTransformer(tokenizer.vocab_size, **asdict(self.config))

    def forward(
        self,
        ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        return_attention: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Next-token logits (and attention maps on request)."""
        return self.network(ids, attention_mask, return_attention)

    @torch.no_grad()
    def attention_maps(self, text: str) -> tuple[list[str], list[torch.Tensor]]:
        """Tokens of ``<bos> text`` and each layer's attention weights ``(H, T, T)``."""
        self.eval()
        ids = self.tokenizer.encode(text, add_bos=True)
        _, maps = self(torch.tensor([ids]), None, True)
        return [self.tokenizer.id_to_token[i] for i in ids], [m[0] for m in maps]

    @torch.no_grad()
    def generate(
        self,
        prompt: str,
        *,
        max_new_tokens: int = 8,
        decoding: Decoding | None = None,
        generator: torch.Generator | None = None,
    ) -> str:
        """Continue ``prompt`` token by token until ``<eos>`` or ``max_new_tokens``.

        Returns the continuation only (without the prompt). ``<pad>``, ``<bos>`` and
        ``<unk>`` are never generated.
        """
        decoding = decoding or Decoding(greedy=True)
        self.eval()
        ids = self.tokenizer.encode(prompt, add_bos=True)
        new: list[int] = []
        for _ in range(max_new_tokens):
            context = torch.tensor([(ids + new)[-self.config.max_len :]])
            logits = self(context)[0, -1]
            logits[[PAD, BOS, UNK]] = float("-inf")  # never emitted; <eos> ends the text
            token = int(decoding.next_token(logits, torch.tensor(ids + new), generator))
            if token == EOS:
                break
            new.append(token)
        return self.tokenizer.decode(new)


def training_pairs(
    tokenizer: WordTokenizer, sentences: Sequence[str], *, skip_opening: bool = True
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Teacher-forcing inputs and targets for next-token training.

    Each sentence becomes ``<bos> w_1 ... w_n <eos>``; the input is that sequence
    without its last token and the target the sequence shifted by one.

    Parameters
    ----------
    skip_opening:
        Leave the first target (the opening word, which nothing before it determines)
        out of the loss; the opening word plays the role of a prompt.

    Returns
    -------
    inputs, attention_mask, targets : torch.Tensor
        Each ``(B, T)``; targets are :data:`IGNORE` at padding (and at the opening word).
    """
    framed = [tokenizer.encode(s, add_bos=True, add_eos=True) for s in sentences]
    inputs = tokenizer.pad([f[:-1] for f in framed])
    targets = tokenizer.pad([f[1:] for f in framed]).ids.masked_fill(
        inputs.attention_mask == 0, IGNORE
    )
    if skip_opening:
        targets[:, 0] = IGNORE
    return inputs.ids, inputs.attention_mask, targets


def language_model_loss(
    model: TinyLM, ids: torch.Tensor, mask: torch.Tensor, targets: torch.Tensor
) -> torch.Tensor:
    """Mean cross-entropy of the next-token predictions over targets that are not ignored."""
    logits = model(ids, mask)
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=IGNORE)


def train_tinylm(
    model: TinyLM,
    sentences: Sequence[str],
    *,
    epochs: int,
    lr: float = 3e-3,
    batch_size: int = 32,
    seed: int = 0,
    log: Callable[[dict[str, float], int], None] | None = None,
    progress: ProgressReporter = null_progress,
    log_every: int = 1,
) -> list[float]:
    """Train ``model`` on ``sentences`` with AdamW and return the mean loss of each epoch.

    The losses are those of the batches as seen during the epoch (before each update).
    """
    ids, mask, targets = training_pairs(model.tokenizer, sentences)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    generator = torch.Generator().manual_seed(seed)
    history = []
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(ids), generator=generator)
        total, count = 0.0, 0
        for start in range(0, len(ids), batch_size):
            rows = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = language_model_loss(model, ids[rows], mask[rows], targets[rows])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(rows)
            count += len(rows)
        history.append(total / count)
        if log is not None and (epoch % log_every == 0 or epoch == epochs - 1):
            log({"train_loss": history[-1]}, epoch)
        progress((epoch + 1) / epochs, f"epoch {epoch + 1}/{epochs}")
    return history


@torch.no_grad()
def corpus_loss(model: TinyLM, sentences: Sequence[str]) -> float:
    """Mean next-token cross-entropy of ``model`` on ``sentences`` in evaluation mode."""
    model.eval()
    return float(language_model_loss(model, *training_pairs(model.tokenizer, sentences)))
