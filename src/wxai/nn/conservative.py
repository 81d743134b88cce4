"""A zero-sum projection: the layer that makes a learned update conserve a total exactly.

A network that predicts an increment ``du`` of a state ``u`` conserves the (weighted) total
``sum(w * u)`` when ``sum(w * du) = 0``. :class:`ZeroSum` enforces that by construction: it
subtracts the weighted mean of its input over the chosen dimensions, so ``u + ZeroSum(du)``
keeps the total of ``u`` to float rounding whatever the network upstream has learned.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from wxai.core.errors import ConfigError, DataFormatError


class ZeroSum(nn.Module):
    """Remove the (weighted) mean over ``dims`` so the output sums to zero there.

    ``y = x - sum(w x) / sum(w)`` over ``dims``, hence ``sum(w y) = 0`` for every other index
    (batch, channel). It is the orthogonal projection, in the ``w``-weighted inner product,
    onto fields of zero weighted total, so it changes a field that already has zero total
    not at all. Gradients flow through it (it is linear).

    Parameters
    ----------
    dims:
        Dimension(s) the total is taken over, e.g. ``-1`` for a 1D grid or ``(-2, -1)``
        for latitude and longitude.
    weights:
        Optional non-negative cell weights (areas, layer masses), shape equal to the
        sizes of ``dims`` in increasing dimension order, e.g. ``(n_lat, n_lon)``; ``None``
        weighs all cells alike. Stored as a buffer, so it follows ``.to(dtype, device)``.

    Shapes
    ------
    input ``(..., *sizes of dims, ...)`` -> output of the same shape.
    """

    def __init__(self, dims: int | Sequence[int] = -1, weights: torch.Tensor | None = None) -> None:
        super().__init__()
        self.dims = (dims,) if isinstance(dims, int) else tuple(dims)
        if not self.dims:
            raise ConfigError("ZeroSum needs at least one dimension to sum over; got dims=()")
        if len(set(self.dims)) != len(self.dims):
            raise ConfigError(f"ZeroSum dims must be distinct, got {self.dims}")
        if weights is not None:
            if not torch.isfinite(weights).all() or (weights < 0).any():
                raise ConfigError("ZeroSum weights must be finite and non-negative")
            if weights.sum() <= 0:
                raise ConfigError("ZeroSum weights must have a positive sum")
        self.register_buffer("weights", weights)

    def _reduced_dims(self, x: torch.Tensor) -> tuple[int, ...]:
        if any(not -x.ndim <= d < x.ndim for d in self.dims):
            raise DataFormatError(
                f"ZeroSum over dims {self.dims} needs an input with more dimensions, "
                f"got shape {tuple(x.shape)}"
            )
        reduced = tuple(sorted(d % x.ndim for d in self.dims))
        if len(set(reduced)) != len(reduced):
            raise ConfigError(f"ZeroSum dims {self.dims} name the same dimension twice")
        return reduced

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``x`` minus its (weighted) mean over ``dims``; same shape as ``x``."""
        reduced = self._reduced_dims(x)
        if x.numel() == 0:
            raise DataFormatError(f"ZeroSum got an empty input of shape {tuple(x.shape)}")
        if self.weights is None:
            return x - x.mean(dim=reduced, keepdim=True)
        sizes = tuple(x.shape[d] for d in reduced)
        if tuple(self.weights.shape) != sizes:
            raise DataFormatError(
                f"ZeroSum weights have shape {tuple(self.weights.shape)} but the input's "
                f"dims {reduced} have sizes {sizes}"
            )
        view = [x.shape[d] if d in reduced else 1 for d in range(x.ndim)]
        w = self.weights.to(x.dtype).reshape(view)
        return x - (w * x).sum(dim=reduced, keepdim=True) / w.sum()

    def extra_repr(self) -> str:
        """``dims=..., weighted=...`` in the module's repr."""
        return f"dims={self.dims}, weighted={self.weights is not None}"
