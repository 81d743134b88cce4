"""A transformer written from its parts: positions, attention, feed-forward, blocks, a stack.

Shapes use ``B`` batch, ``T`` sequence length, ``D`` model width (``d_model``), ``H``
heads and ``V`` vocabulary size.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from wxai.core.errors import ConfigError
from wxai.nn.mlp import activation


def sinusoidal_positions(length: int, d_model: int, base: float = 10000.0) -> torch.Tensor:
    """Fixed sinusoidal position encodings.

    ``P[t, 2k] = sin(t / base^(2k / d_model))`` and ``P[t, 2k + 1] = cos(...)`` with the
    same frequency, so each pair of columns is a rotation by an angle proportional to
    ``t`` and relative offsets are linear maps of the encoding.

    Parameters
    ----------
    length:
        Number of positions ``T`` (``t = 0 .. T - 1``).
    d_model:
        Encoding width ``D`` (odd widths drop the last cosine column).
    base:
        Wavelength scale; wavelengths run from ``2 pi`` to ``2 pi * base``.

    Returns
    -------
    torch.Tensor
        Shape ``(T, D)``, float32, values in ``[-1, 1]``.
    """
    position = torch.arange(length, dtype=torch.float64).unsqueeze(1)
    pair = torch.arange(0, d_model, 2, dtype=torch.float64)
    angle = position / base ** (pair / d_model)  # (T, ceil(D / 2))
    table = torch.zeros(length, d_model, dtype=torch.float64)
    table[:, 0::2] = torch.sin(angle)
    table[:, 1::2] = torch.cos(angle[:, : d_model // 2])
    return table.float()


class SinusoidalPositionalEncoding(nn.Module):
    """Adds :func:`sinusoidal_positions` to a sequence of embeddings (no parameters).

    Shapes
    ------
    ``(B, T, D)`` -> ``(B, T, D)`` with ``T <= max_len``.
    """

    def __init__(self, d_model: int, max_len: int = 512) -> None:
        super().__init__()
        self.register_buffer("table", sinusoidal_positions(max_len, d_model), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x + P[:T]``."""
        length = x.shape[-2]
        if length > self.table.shape[0]:
            raise ConfigError(
                f"sequence of {length} exceeds max_len={self.table.shape[0]}; "
                "shorten the input or build the model with a larger max_len"
            )
        return x + self.table[:length]


def causal_mask(length: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Boolean ``(T, T)`` mask, ``True`` where query ``t`` may attend key ``s`` (``s <= t``)."""
    return torch.ones(length, length, dtype=torch.bool, device=device).tril()


class MultiHeadSelfAttention(nn.Module):
    """Scaled dot-product self-attention with ``n_heads`` heads.

    ``softmax(Q K^T / sqrt(d_k)) V`` per head, with ``d_k = d_model / n_heads``, heads
    concatenated and projected back to ``d_model``.

    Parameters
    ----------
    d_model:
        Model width ``D``; must be divisible by ``n_heads``.
    n_heads:
        Number of heads ``H``.
    causal:
        Whether position ``t`` only sees positions ``<= t`` (decoders).
    dropout:
        Dropout on the attention weights during training.

    Shapes
    ------
    ``x`` ``(B, T, D)``, ``padding_mask`` ``(B, T)`` (1/True = real token, 0 = padding)
    -> output ``(B, T, D)`` and, on request, attention weights ``(B, H, T, T)`` whose
    rows sum to one.
    """

    def __init__(
        self, d_model: int, n_heads: int, *, causal: bool = True, dropout: float = 0.0
    ) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ConfigError(
                f"d_model={d_model} is not divisible by n_heads={n_heads}; "
                "choose an n_heads that divides d_model"
            )
        self.n_heads = n_heads
        self.d_k = d_model // n_heads
        self.causal = causal
        self.query = nn.Linear(d_model, d_model)
        self.key = nn.Linear(d_model, d_model)
        self.value = nn.Linear(d_model, d_model)
        self.out = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, _ = x.shape
        return x.view(batch, length, self.n_heads, self.d_k).transpose(1, 2)  # (B, H, T, d_k)

    def forward(
        self,
        x: torch.Tensor,
        padding_mask: torch.Tensor | None = None,
        return_weights: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Attend over ``x`` ``(B, T, D)``; with ``return_weights`` also ``(B, H, T, T)``."""
        batch, length, width = x.shape
        q, k, v = self._split(self.query(x)), self._split(self.key(x)), self._split(self.value(x))
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)  # (B, H, T, T)
        allowed = torch.ones(length, length, dtype=torch.bool, device=x.device)
        if self.causal:
            allowed = causal_mask(length, x.device)
        allowed = allowed.expand(batch, 1, length, length)
        if padding_mask is not None:
            allowed = allowed & padding_mask.bool()[:, None, None, :]
        # A finite floor instead of -inf keeps fully masked rows (all padding) free of NaN.
        scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
        weights = torch.softmax(scores, dim=-1)
        mixed = self.dropout(weights) @ v  # (B, H, T, d_k)
        out = self.out(mixed.transpose(1, 2).reshape(batch, length, width))
        return (out, weights) if return_weights else out


class FeedForward(nn.Module):
    """Position-wise ``Linear(D, d_ff) -> act -> Linear(d_ff, D)``, shared by all tokens.

    Shapes
    ------
    ``(..., D)`` -> ``(..., D)``.
    """

    def __init__(self, d_model: int, d_ff: int, act: str = "gelu", dropout: float = 0.0) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(d_model, d_ff), activation(act), nn.Dropout(dropout), nn.Linear(d_ff, d_model)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Transform each token's features independently."""
        return self.net(x)


class TransformerBlock(nn.Module):
    """Self-attention and feed-forward sublayers, each with a residual and a layer norm.

    Parameters
    ----------
    norm_first:
        ``True`` (pre-LN): ``x + f(LN(x))``, stable without warm-up. ``False`` (post-LN,
        the original layout): ``LN(x + f(x))``.
    causal:
        Passed to :class:`MultiHeadSelfAttention`.

    Shapes
    ------
    ``(B, T, D)`` -> ``(B, T, D)``; attention weights ``(B, H, T, T)`` on request.
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        d_ff: int,
        *,
        norm_first: bool = True,
        causal: bool = True,
        dropout: float = 0.0,
        act: str = "gelu",
    ) -> None:
        super().__init__()
        self.norm_first = norm_first
        self.attention = MultiHeadSelfAttention(d_model, n_heads, causal=causal, dropout=dropout)
        self.feed_forward = FeedForward(d_model, d_ff, act=act, dropout=dropout)
        self.norm_attention = nn.LayerNorm(d_model)
        self.norm_feed_forward = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self,
        x: torch.Tensor,
        padding_mask: torch.Tensor | None = None,
        return_weights: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Apply the block; with ``return_weights`` also return the attention weights."""
        if self.norm_first:
            attended, weights = self.attention(self.norm_attention(x), padding_mask, True)
            x = x + self.dropout(attended)
            x = x + self.dropout(self.feed_forward(self.norm_feed_forward(x)))
        else:
            attended, weights = self.attention(x, padding_mask, True)
            x = self.norm_attention(x + self.dropout(attended))
            x = self.norm_feed_forward(x + self.dropout(self.feed_forward(x)))
        return (x, weights) if return_weights else x


class DecoderOnlyTransformer(nn.Module):
    """Token embeddings + sinusoidal positions -> causal blocks -> logits over the vocabulary.

    Parameters
    ----------
    vocab_size:
        ``V``.
    d_model, n_heads, d_ff, n_layers:
        Width, heads, feed-forward width and number of blocks.
    max_len:
        Longest sequence the position table covers.
    norm_first:
        Pre-LN (``True``, with a final layer norm) or post-LN blocks.
    dropout:
        Dropout in every block.

    Shapes
    ------
    ``tokens`` ``(B, T)`` long, ``attention_mask`` ``(B, T)`` (1 = real token) ->
    logits ``(B, T, V)``; position ``t`` predicts token ``t + 1`` and depends only on
    tokens ``<= t``. With ``return_attention`` also a list of ``n_layers`` tensors
    ``(B, H, T, T)``.
    """

    def __init__(
        self,
        vocab_size: int,
        *,
        d_model: int = 64,
        n_heads: int = 4,
        d_ff: int = 128,
        n_layers: int = 2,
        max_len: int = 128,
        norm_first: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.d_model = d_model
        self.max_len = max_len
        self.embedding = nn.Embedding(vocab_size, d_model)
        self.positions = SinusoidalPositionalEncoding(d_model, max_len)
        self.blocks = nn.ModuleList(
            TransformerBlock(d_model, n_heads, d_ff, norm_first=norm_first, dropout=dropout)
            for _ in range(n_layers)
        )
        self.final_norm = nn.LayerNorm(d_model) if norm_first else nn.Identity()
        self.head = nn.Linear(d_model, vocab_size)

    def forward(
        self,
        tokens: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        return_attention: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Next-token logits ``(B, T, V)`` for ``tokens`` ``(B, T)``."""
        # Scaling the embeddings by sqrt(D) keeps them comparable to the unit-size positions.
        x = self.positions(self.embedding(tokens) * math.sqrt(self.d_model))
        maps = []
        for block in self.blocks:
            x, weights = block(x, attention_mask, True)
            maps.append(weights)
        logits = self.head(self.final_norm(x))
        return (logits, maps) if return_attention else logits
