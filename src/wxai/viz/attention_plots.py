"""A language model's training loss beside its causal attention maps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["loss_and_attention_figure"]


def loss_and_attention_figure(
    history: Sequence[float],
    maps: Sequence[np.ndarray],
    tokens: Sequence[str],
    *,
    loss_threshold: float,
    final_loss: float,
    title: str,
    max_heads: int = 8,
) -> Figure:
    """Loss per epoch (left) and the attention weights of up to ``max_heads`` heads.

    Parameters
    ----------
    history
        Training cross-entropy per token [nats], one value per epoch.
    maps
        Per layer, attention weights of shape (n_heads, n_tokens, n_tokens):
        row = query position, column = attended key position.
    tokens
        The n_tokens token strings (tick labels).
    loss_threshold, final_loss
        Acceptance line and the loss in the title.
    title
        Figure title.
    max_heads
        Heads shown, layer by layer, at most four per row.
    """
    heads = [(layer, head) for layer in range(len(maps)) for head in range(maps[0].shape[0])]
    heads = heads[:max_heads]
    columns = 1 + min(len(heads), 4)
    rows = (len(heads) + 3) // 4 or 1
    fig = plt.figure(figsize=(3.6 * columns, 3.4 * rows), layout="constrained")
    grid = fig.add_gridspec(rows, columns)
    ax_loss = fig.add_subplot(grid[:, 0])
    ax_loss.semilogy(range(1, len(history) + 1), history, "C0")
    ax_loss.axhline(loss_threshold, color="C3", ls=":", label=f"acceptance {loss_threshold}")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy per token",
                title=f"Training loss (final {final_loss:.3f})")  # fmt: skip
    ax_loss.grid(alpha=0.3)
    ax_loss.legend(fontsize=8)
    image = None
    for index, (layer, head) in enumerate(heads):
        ax = fig.add_subplot(grid[index // 4, 1 + index % 4])
        image = ax.imshow(np.asarray(maps[layer][head]), cmap="viridis", vmin=0, vmax=1)
        ax.set_xticks(range(len(tokens)), tokens, rotation=60, fontsize=8)
        ax.set_yticks(range(len(tokens)), tokens, fontsize=8)
        ax.set(title=f"layer {layer + 1}, head {head + 1}", xlabel="key (attended)")
        if index % 4 == 0:
            ax.set_ylabel("query (predicting next)")
    if image is not None:
        fig.colorbar(image, ax=fig.axes[1:], shrink=0.8, label="attention weight")
    fig.suptitle(title)
    return fig
