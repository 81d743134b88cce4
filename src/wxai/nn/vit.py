"""Vision-transformer input: images cut into patch tokens, a CLS token and learned positions."""

from __future__ import annotations

import torch
from torch import nn

from wxai.core.errors import ConfigError
from wxai.nn.transformer import TransformerBlock


def _pair(size: int | tuple[int, int]) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


class PatchEmbedding(nn.Module):
    """Patchify an image with a strided convolution and prepend a learned CLS token.

    A convolution with kernel = stride = patch size applies one linear map to every
    non-overlapping ``p x p`` patch (flattened over channels), which is exactly the
    ViT patch projection. Learned position embeddings (one per patch plus one for the
    CLS token) are added.

    Parameters
    ----------
    image_size:
        ``(height, width)`` (or one int for square images), divisible by ``patch_size``.
    patch_size:
        Patch edge ``p`` in pixels (int or ``(p_h, p_w)``).
    in_channels:
        Image channels ``C``.
    d_model:
        Token width ``D``.

    Shapes
    ------
    images ``(B, C, H, W)`` -> tokens ``(B, 1 + N, D)`` with ``N = (H / p_h) (W / p_w)``
    patches in row-major order; token 0 is the CLS token.
    """

    def __init__(
        self,
        image_size: int | tuple[int, int],
        patch_size: int | tuple[int, int],
        in_channels: int,
        d_model: int,
    ) -> None:
        super().__init__()
        height, width = _pair(image_size)
        patch_h, patch_w = _pair(patch_size)
        if height % patch_h or width % patch_w:
            raise ConfigError(
                f"image size {(height, width)} is not divisible by patch size {(patch_h, patch_w)}"
            )
        self.image_size = (height, width)
        self.grid = (height // patch_h, width // patch_w)
        self.num_patches = self.grid[0] * self.grid[1]
        self.projection = nn.Conv2d(
            in_channels, d_model, kernel_size=(patch_h, patch_w), stride=(patch_h, patch_w)
        )
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d_model))
        self.position = nn.Parameter(torch.zeros(1, 1 + self.num_patches, d_model))
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        nn.init.trunc_normal_(self.position, std=0.02)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Tokens ``(B, 1 + N, D)`` of ``images`` ``(B, C, H, W)``."""
        if tuple(images.shape[-2:]) != self.image_size:
            raise ConfigError(
                f"expected images of size {self.image_size}, got {tuple(images.shape[-2:])}"
            )
        patches = self.projection(images).flatten(2).transpose(1, 2)  # (B, N, D)
        cls = self.cls_token.expand(images.shape[0], -1, -1)
        return torch.cat([cls, patches], dim=1) + self.position


class VisionTransformerEncoder(nn.Module):
    """Patch embedding followed by bidirectional transformer blocks and a final layer norm.

    Shapes
    ------
    images ``(B, C, H, W)`` -> tokens ``(B, 1 + N, D)``; ``tokens[:, 0]`` is the CLS
    summary of the image.
    """

    def __init__(
        self,
        image_size: int | tuple[int, int],
        patch_size: int | tuple[int, int],
        in_channels: int,
        *,
        d_model: int = 64,
        n_heads: int = 4,
        d_ff: int = 128,
        n_layers: int = 2,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.patches = PatchEmbedding(image_size, patch_size, in_channels, d_model)
        self.blocks = nn.ModuleList(
            TransformerBlock(d_model, n_heads, d_ff, causal=False, dropout=dropout)
            for _ in range(n_layers)
        )
        self.norm = nn.LayerNorm(d_model)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Encoded tokens ``(B, 1 + N, D)``."""
        x = self.patches(images)
        for block in self.blocks:
            x = block(x)
        return self.norm(x)
