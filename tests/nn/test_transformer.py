"""Transformer parts: positions, causal attention, padding, blocks and the decoder stack."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from wxai.nn.transformer import (
    DecoderOnlyTransformer,
    MultiHeadSelfAttention,
    TransformerBlock,
    causal_mask,
    sinusoidal_positions,
)


@settings(max_examples=20, deadline=None)
@given(length=st.integers(1, 40), d_model=st.integers(1, 33))
def test_sinusoidal_shapes_and_values(length, d_model):
    table = sinusoidal_positions(length, d_model)
    assert table.shape == (length, d_model)
    assert torch.all(table.abs() <= 1.0)
    # position 0: sin(0) = 0 in even columns, cos(0) = 1 in odd ones
    assert torch.all(table[0, 0::2] == 0) and torch.all(table[0, 1::2] == 1)
    # each (sin, cos) pair lies on the unit circle
    pairs = d_model // 2
    if pairs:
        radius = table[:, 0 : 2 * pairs : 2] ** 2 + table[:, 1 : 2 * pairs : 2] ** 2
        torch.testing.assert_close(radius, torch.ones_like(radius))


def test_sinusoidal_values_by_formula():
    table = sinusoidal_positions(10, 8)
    t, j = 7, 2  # column 2j = 4 has frequency 1 / 10000^(4/8)
    assert table[t, 2 * j].item() == pytest.approx(math.sin(t / 10000 ** (2 * j / 8)), abs=1e-6)
    assert table[t, 2 * j + 1].item() == pytest.approx(math.cos(t / 10000 ** (2 * j / 8)), abs=1e-6)
    assert table[3, 0].item() == pytest.approx(math.sin(3.0), abs=1e-6)


def test_causal_mask():
    assert causal_mask(3).tolist() == [
        [True, False, False],
        [True, True, False],
        [True, True, True],
    ]


def test_attention_weights_are_causal_rows_summing_to_one():
    torch.manual_seed(0)
    attention = MultiHeadSelfAttention(8, 2)
    out, weights = attention(torch.randn(2, 5, 8), return_weights=True)
    assert out.shape == (2, 5, 8) and weights.shape == (2, 2, 5, 5)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 2, 5))
    assert torch.all(weights.triu(1) == 0)


@pytest.mark.parametrize("norm_first", [True, False])
def test_future_tokens_do_not_change_the_past(norm_first):
    torch.manual_seed(0)
    model = DecoderOnlyTransformer(
        20, d_model=16, n_heads=4, d_ff=32, n_layers=2, norm_first=norm_first
    ).eval()
    tokens = torch.randint(0, 20, (1, 8))
    changed = tokens.clone()
    changed[0, 5:] = (changed[0, 5:] + 1) % 20
    before, after = model(tokens), model(changed)
    torch.testing.assert_close(before[:, :5], after[:, :5])
    assert not torch.allclose(before[:, 5:], after[:, 5:])


def test_causal_gradient():
    """d output_t / d input_s vanishes for every s > t."""
    torch.manual_seed(0)
    block = TransformerBlock(8, 2, 16)
    x = torch.randn(1, 6, 8, requires_grad=True)
    t = 2
    block(x)[0, t].sum().backward()
    grad = x.grad[0].abs().sum(-1)
    assert torch.all(grad[t + 1 :] == 0)
    assert torch.all(grad[: t + 1] > 0)


def test_padding_is_ignored():
    torch.manual_seed(0)
    model = DecoderOnlyTransformer(10, d_model=8, n_heads=2, d_ff=16, n_layers=1).eval()
    short = torch.tensor([[3, 4, 5]])
    padded = torch.tensor([[3, 4, 5, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 0, 0]])
    torch.testing.assert_close(model(short), model(padded, mask)[:, :3])
    # a fully padded sequence still gives finite numbers
    assert torch.isfinite(model(padded, torch.zeros_like(mask))).all()


def test_bidirectional_block_sees_the_future():
    torch.manual_seed(0)
    block = TransformerBlock(8, 2, 16, causal=False)
    x = torch.randn(1, 4, 8, requires_grad=True)
    block(x)[0, 0].sum().backward()
    assert torch.all(x.grad[0].abs().sum(-1) > 0)


def test_decoder_returns_attention_maps():
    model = DecoderOnlyTransformer(12, d_model=8, n_heads=2, d_ff=16, n_layers=3)
    logits, maps = model(torch.randint(0, 12, (2, 4)), return_attention=True)
    assert logits.shape == (2, 4, 12)
    assert len(maps) == 3 and maps[0].shape == (2, 2, 4, 4)
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadSelfAttention(10, 3)
