"""An image captioner: a ViT encoder whose CLS vector, projected linearly, prefixes a causal
text decoder; and the word-level tokenizer it reads and writes.

The bridge is one linear map from the encoder width to the decoder width: the projected
CLS vector is the first element of the decoder's input sequence, in front of the token
embeddings, so every generated word can attend to the image through it.

Shapes use ``B`` batch, ``C, H, W`` image channels and size, ``T`` token positions and
``V`` vocabulary size.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from wxai.core.errors import ConfigError, UnknownNameError
from wxai.nn.transformer import SinusoidalPositionalEncoding, TransformerBlock
from wxai.nn.vit import VisionTransformerEncoder

__all__ = ["ImageCaptioner", "WordTokenizer"]


class WordTokenizer:
    """Whitespace-separated words <-> integer ids over a closed vocabulary.

    Ids 0, 1, 2 are the specials ``<pad>``, ``<bos>``, ``<eos>``; the words follow in
    the given order. A word outside the vocabulary raises :class:`UnknownNameError`.
    """

    PAD, BOS, EOS = 0, 1, 2
    SPECIALS = ("<pad>", "<bos>", "<eos>")

    def __init__(self, words: Sequence[str]) -> None:
        words = list(dict.fromkeys(words))
        if not words or any(not w or w.split() != [w] or w in self.SPECIALS for w in words):
            raise ConfigError(
                "the vocabulary must be a non-empty list of single words without whitespace "
                f"and without the special tokens {self.SPECIALS}"
            )
        self.vocabulary = [*self.SPECIALS, *words]
        self._ids = {word: index for index, word in enumerate(self.vocabulary)}

    def __len__(self) -> int:
        return len(self.vocabulary)

    def encode(self, text: str) -> list[int]:
        """``[<bos>, word ids..., <eos>]`` of ``text``."""
        ids = [self.BOS]
        for word in text.split():
            if word not in self._ids or word in self.SPECIALS:
                raise UnknownNameError("word", word, self.vocabulary[len(self.SPECIALS) :])
            ids.append(self._ids[word])
        return [*ids, self.EOS]

    def encode_batch(self, texts: Sequence[str]) -> torch.Tensor:
        """Ids ``(B, T)`` long, right-padded with ``<pad>`` to the longest text."""
        encoded = [self.encode(text) for text in texts]
        length = max(len(ids) for ids in encoded)
        batch = torch.full((len(encoded), length), self.PAD, dtype=torch.long)
        for row, ids in enumerate(encoded):
            batch[row, : len(ids)] = torch.tensor(ids)
        return batch

    def decode(self, ids: Sequence[int] | torch.Tensor) -> str:
        """The words of ``ids`` up to the first ``<eos>``, specials dropped."""
        words = []
        for index in [int(i) for i in ids]:
            if index == self.EOS:
                break
            if not 0 <= index < len(self.vocabulary):
                raise ConfigError(f"token id {index} is outside the vocabulary of {len(self)}")
            if index >= len(self.SPECIALS):
                words.append(self.vocabulary[index])
        return " ".join(words)


class ImageCaptioner(nn.Module):
    """ViT encoder -> linear bridge of the CLS vector -> causal transformer decoder.

    Parameters
    ----------
    vocab_size:
        ``V`` (including the specials of :class:`WordTokenizer`).
    image_size, patch_size, in_channels:
        Image geometry for :class:`~wxai.nn.vit.VisionTransformerEncoder`.
    vision_width, vision_heads, vision_layers:
        Encoder width ``D_v``, heads and blocks (feed-forward width ``2 D_v``).
    text_width, text_heads, text_layers:
        Decoder width ``D_t``, heads and blocks (feed-forward width ``2 D_t``).
    max_len:
        Longest token sequence (the image prefix not counted).
    dropout:
        Dropout in every block.

    Shapes
    ------
    ``images`` ``(B, C, H, W)`` float and ``tokens`` ``(B, T)`` long -> logits
    ``(B, T, V)``; ``logits[:, t]`` predicts ``tokens[:, t + 1]`` from the image and
    ``tokens[:, :t + 1]`` only (causal). Right padding is harmless: under the causal mask
    it only feeds positions after it, which the loss ignores.
    """

    def __init__(
        self,
        vocab_size: int,
        *,
        image_size: int | tuple[int, int] = 32,
        patch_size: int | tuple[int, int] = 8,
        in_channels: int = 3,
        vision_width: int = 64,
        vision_heads: int = 4,
        vision_layers: int = 2,
        text_width: int = 64,
        text_heads: int = 4,
        text_layers: int = 2,
        max_len: int = 32,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if vocab_size < 4:
            raise ConfigError(
                f"vocab_size must be at least 4 (3 specials + 1 word), got {vocab_size}"
            )
        self.max_len = max_len
        self.text_width = text_width
        self.encoder = VisionTransformerEncoder(
            image_size,
            patch_size,
            in_channels,
            d_model=vision_width,
            n_heads=vision_heads,
            d_ff=2 * vision_width,
            n_layers=vision_layers,
            dropout=dropout,
        )
        self.bridge = nn.Linear(vision_width, text_width)
        self.embedding = nn.Embedding(vocab_size, text_width)
        self.positions = SinusoidalPositionalEncoding(text_width, max_len + 1)
        self.blocks = nn.ModuleList(
            TransformerBlock(text_width, text_heads, 2 * text_width, causal=True, dropout=dropout)
            for _ in range(text_layers)
        )
        self.final_norm = nn.LayerNorm(text_width)
        self.head = nn.Linear(text_width, vocab_size)

    def image_prefix(self, images: torch.Tensor) -> torch.Tensor:
        """The projected CLS vector ``(B, 1, D_t)`` of ``images`` ``(B, C, H, W)``."""
        return self.bridge(self.encoder(images)[:, :1])

    def decode_logits(self, prefix: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Next-token logits ``(B, T, V)`` of ``tokens`` ``(B, T)`` after the image prefix.

        ``prefix`` is ``(B, 1, D_t)``, from :meth:`image_prefix`.
        """
        if tokens.shape[1] > self.max_len:
            raise ConfigError(f"{tokens.shape[1]} tokens exceed max_len={self.max_len}")
        words = self.embedding(tokens)
        x = self.positions(torch.cat([prefix, words], dim=1))
        for block in self.blocks:
            x = block(x)
        return self.head(self.final_norm(x[:, 1:]))

    def forward(self, images: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits ``(B, T, V)``."""
        return self.decode_logits(self.image_prefix(images), tokens)

    @torch.no_grad()
    def generate(
        self, images: torch.Tensor, *, bos: int, eos: int, pad: int = 0, max_len: int | None = None
    ) -> torch.Tensor:
        """Greedy decoding: ids ``(B, T')`` starting with ``bos``, ``pad`` after each ``eos``.

        Stops as soon as every sequence has produced ``eos`` or after ``max_len`` tokens
        (default: the model's ``max_len``), ``bos`` included.
        """
        limit = min(max_len or self.max_len, self.max_len)
        prefix = self.image_prefix(images)
        tokens = torch.full((images.shape[0], 1), bos, dtype=torch.long, device=images.device)
        finished = torch.zeros(images.shape[0], dtype=torch.bool, device=images.device)
        while tokens.shape[1] < limit and not finished.all():
            following = self.decode_logits(prefix, tokens)[:, -1].argmax(dim=-1)
            following = following.masked_fill(finished, pad)
            tokens = torch.cat([tokens, following[:, None]], dim=1)
            finished |= following == eos
        return tokens
