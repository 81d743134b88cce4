"""ViT patch embedding: conv patchify == flattened-patch projection, CLS token, positions."""

from __future__ import annotations

import pytest
import torch

from wxai.nn.vit import PatchEmbedding, VisionTransformerEncoder


def test_shapes_and_cls_token():
    embed = PatchEmbedding((8, 12), 4, in_channels=3, d_model=16)
    tokens = embed(torch.randn(2, 3, 8, 12))
    assert embed.num_patches == 6
    assert tokens.shape == (2, 7, 16)
    # token 0 is the learned CLS token plus its position, whatever the image
    other = embed(torch.randn(2, 3, 8, 12))
    expected = (embed.cls_token + embed.position[:, :1]).expand(2, 1, 16)
    torch.testing.assert_close(tokens[:, :1], expected)
    torch.testing.assert_close(other[:, :1], expected)


def test_conv_patchify_equals_linear_map_of_flattened_patches():
    torch.manual_seed(0)
    embed = PatchEmbedding(8, 4, in_channels=2, d_model=5)
    images = torch.randn(1, 2, 8, 8)
    tokens = embed(images)[0, 1:] - embed.position[0, 1:]
    weight = embed.projection.weight.reshape(5, -1)  # (D, C p p)
    for row in range(2):
        for col in range(2):
            patch = images[0, :, 4 * row : 4 * row + 4, 4 * col : 4 * col + 4].reshape(-1)
            expected = weight @ patch + embed.projection.bias
            torch.testing.assert_close(tokens[2 * row + col], expected, rtol=1e-5, atol=1e-5)


def test_errors_and_encoder():
    with pytest.raises(ValueError, match="divisible"):
        PatchEmbedding(10, 4, 1, 8)
    embed = PatchEmbedding(8, 4, 1, 8)
    with pytest.raises(ValueError, match="expected images"):
        embed(torch.randn(1, 1, 4, 4))
    encoder = VisionTransformerEncoder(8, 4, 1, d_model=8, n_heads=2, d_ff=16, n_layers=1)
    assert encoder(torch.randn(3, 1, 8, 8)).shape == (3, 5, 8)
