"""Input attributions: how a network's output changes with its input, by autograd."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


def input_gradient(
    model: nn.Module,
    x: torch.Tensor,
    link: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Gradient of each sample's (linked) output with respect to its own input.

    Differentiates ``sum(link(model(x)))``; for a model that treats samples
    independently (no batch norm in training mode) row ``i`` of the result is
    ``d link(model(x_i)) / d x_i``, e.g. ``link=torch.sigmoid`` turns the logit of a
    binary classifier into the probability whose gradient ``grad_x p`` is returned.
    The model runs on the device of ``x``, in its current mode.

    Parameters
    ----------
    model:
        Maps ``(batch, *features)`` to ``(batch, *outputs)``.
    x:
        Inputs ``(batch, *features)``; not modified.
    link:
        Applied to the output before summing (default: identity).

    Returns
    -------
    Tensor of the shape of ``x``, detached.
    """
    probe = x.detach().clone().requires_grad_(True)
    output = model(probe)
    if link is not None:
        output = link(output)
    (gradient,) = torch.autograd.grad(output.sum(), probe)
    return gradient.detach()
