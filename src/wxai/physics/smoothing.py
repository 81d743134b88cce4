"""A smooth network of time fitted to a noisy trajectory, and its autograd derivatives.

Neural SINDy (:func:`wxai.physics.sindy.neural_sindy`) needs time derivatives of noisy
observations. Finite differences amplify the noise; here a network ``x_theta(t)`` is
fitted to the observations with a penalty on a higher time derivative, and its
derivatives come from forward-mode autograd (``torch.func.jvp``).

Shapes: times ``t (n,)`` in model time units, states ``(n, d)``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from wxai.core.errors import ConfigError, DataFormatError
from wxai.nn.fourier import FourierFeatures

__all__ = [
    "SmoothFit",
    "SmoothTrajectory",
    "SmootherSettings",
    "check_trajectory",
    "fit_smooth_trajectory",
]

#: ``progress(fraction, message)``.
Progress = Callable[[float, str], None]


def check_trajectory(
    t: np.ndarray, states: np.ndarray, name: str = "states"
) -> tuple[np.ndarray, np.ndarray]:
    """Validated float copies of ``t (n,)`` and ``states (n, d)``."""
    states = np.asarray(states, dtype=float)
    t = np.asarray(t, dtype=float)
    if states.ndim != 2 or states.shape[0] == 0 or states.shape[1] == 0:
        raise DataFormatError(
            f"{name} must be a non-empty (time, variable) array, got shape {states.shape}"
        )
    if states.shape[0] < 3:
        raise DataFormatError(
            f"the trajectory has {states.shape[0]} samples; derivatives and SINDy need at "
            "least 3 (and more samples than library terms)"
        )
    if t.shape != (states.shape[0],):
        raise DataFormatError(
            f"times must have shape ({states.shape[0]},) to match {name} {states.shape}, "
            f"got {t.shape}"
        )
    for label, array in ((name, states), ("times", t)):
        if not np.isfinite(array).all():
            raise DataFormatError(f"{label} contain NaN or infinite values; remove or fill them")
    if not (np.diff(t) > 0).all():
        raise DataFormatError("times must be strictly increasing")
    return t, states


class SmoothTrajectory(nn.Module):
    """``x_theta(t)``: small MLPs of time blended by a smooth partition of unity.

    Window centres ``c_k`` are ``spacing`` apart over ``[t_start, t_end]``; network ``k``
    sees the local time ``u = (t - c_k) / spacing`` (plus ``harmonics`` Fourier features
    of ``u``) and has weight ``cos^2(pi u / 2)`` on ``|u| < 1``. The weights sum to one
    and are smooth, so ``x_theta`` is one smooth function of time whose derivatives
    autograd gives; each network only has to represent about one oscillation.

    Shapes: ``forward(t (n,)) -> (n, d)`` in the units of ``offset`` and ``scale``.
    """

    def __init__(
        self,
        t_start: float,
        t_end: float,
        offset: np.ndarray,
        scale: np.ndarray,
        *,
        spacing: float,
        hidden: Sequence[int] = (32, 32),
        harmonics: int = 2,
    ) -> None:
        super().__init__()
        if not t_end > t_start or not spacing > 0 or not hidden or min(hidden) < 1:
            raise ConfigError(
                f"need t_end > t_start, spacing > 0 and hidden sizes >= 1; got "
                f"[{t_start}, {t_end}], {spacing} and {list(hidden)}"
            )
        self.n_windows = max(math.ceil((t_end - t_start) / spacing), 1) + 1
        self.t_start = float(t_start)
        self.spacing = (t_end - t_start) / (self.n_windows - 1)
        self.register_buffer("offset", torch.as_tensor(offset, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))
        self.features = FourierFeatures.harmonic(2.0, harmonics) if harmonics > 0 else None
        sizes = [1 + 2 * harmonics, *hidden, len(offset)]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for size_in, size_out in itertools.pairwise(sizes):
            weight = torch.empty(self.n_windows, size_out, size_in)
            for k in range(self.n_windows):
                nn.init.xavier_uniform_(weight[k])
            self.weights.append(nn.Parameter(weight.transpose(1, 2).contiguous()))
            self.biases.append(nn.Parameter(torch.zeros(self.n_windows, 1, size_out)))

    def _local(self, u: torch.Tensor) -> torch.Tensor:
        """Windows ``0..G-1`` on ``u[:G]``, ``1..G`` on ``u[G:]``: ``(2G, P, 1) -> (2G, P, d)``."""
        segments = u.shape[0] // 2
        index = torch.cat([torch.arange(segments), torch.arange(1, segments + 1)])
        h = u if self.features is None else torch.cat([u, self.features(u)], dim=-1)
        for layer, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = torch.baddbmm(bias[index], h, weight[index])
            if layer < len(self.weights) - 1:
                h = torch.tanh(h)
        return h

    def _blend(self, u: torch.Tensor) -> torch.Tensor:
        """Standardised state on segment-local times ``u (G, P, 1)`` in ``[0, 1]``."""
        both = self._local(torch.cat([u, u - 1.0]))
        left, right = both[: u.shape[0]], both[u.shape[0] :]
        return left + torch.sin(0.5 * math.pi * u) ** 2 * (right - left)

    def _layout(self, t: torch.Tensor):
        """Sort times into segments between window centres, padded to ``(G, P, 1)``."""
        position = (t.detach() - self.t_start) / self.spacing
        segment = position.floor().long().clamp(0, self.n_windows - 2)
        counts = torch.bincount(segment, minlength=self.n_windows - 1)
        order = torch.argsort(segment, stable=True)
        sorted_segment = segment[order]
        slot = torch.arange(t.numel()) - (torch.cumsum(counts, 0) - counts)[sorted_segment]
        local = (t[order] - self.t_start) / self.spacing - sorted_segment.to(t.dtype)
        padded = torch.zeros(self.n_windows - 1, int(counts.max()), 1, dtype=t.dtype)
        padded = padded.index_put((sorted_segment, slot), local[:, None])
        return padded, (order, sorted_segment, slot)

    @staticmethod
    def _unpad(values: torch.Tensor, layout) -> torch.Tensor:
        order, segment, slot = layout
        picked = values[segment, slot]
        return picked.new_zeros(picked.shape).index_put((order,), picked)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """States at times ``t (n,)``: ``(n, d)``."""
        padded, layout = self._layout(t)
        return self.offset + self.scale * self._unpad(self._blend(padded), layout)

    def derivative(self, t: torch.Tensor, order: int = 1, standardised: bool = False):
        """``d^order x_theta / dt^order`` at ``t (n,)``, ``(n, d)``, by forward-mode autograd.

        ``standardised``: in units of ``scale`` (the training penalty) instead of the state's.
        """
        padded, layout = self._layout(t)
        function = self._blend
        for _ in range(order):
            function = _time_derivative(function)
        values = self._unpad(function(padded), layout) / self.spacing**order
        return values if standardised else self.scale * values


def _time_derivative(function: Callable[[torch.Tensor], torch.Tensor]):
    """``u -> d function / du`` for functions acting independently on each entry of ``u``."""

    def derivative(u: torch.Tensor) -> torch.Tensor:
        return torch.func.jvp(function, (u,), (torch.ones_like(u),))[1]

    return derivative


@dataclass(frozen=True)
class SmootherSettings:
    """Settings of the smooth trajectory fit (:func:`fit_smooth_trajectory`).

    Attributes
    ----------
    spacing:
        Distance between window centres (model time units).
    hidden, harmonics:
        Hidden sizes of each window's MLP and number of Fourier features of local time.
    epochs, lr:
        Full-batch Adam steps and initial learning rate (cosine decay to zero).
    smoothness_weight, smoothness_order:
        Penalty ``weight * mean |d^order x_theta / dt^order|^2`` of the standardised state
        (model time units), at ``collocation`` random times per step.
    """

    spacing: float = 0.25
    hidden: tuple[int, ...] = (32, 32)
    harmonics: int = 2
    epochs: int = 500
    lr: float = 1e-2
    smoothness_weight: float = 1e-7
    smoothness_order: int = 2
    collocation: int = 512

    def __post_init__(self) -> None:
        if self.epochs < 1 or not self.lr > 0 or self.collocation < 1 or self.harmonics < 0:
            raise ConfigError(
                "smoother needs epochs >= 1, lr > 0, collocation >= 1 and harmonics >= 0"
            )
        if self.smoothness_weight < 0 or self.smoothness_order not in (1, 2, 3):
            raise ConfigError(
                f"smoothness_weight must be >= 0 and smoothness_order 1, 2 or 3; got "
                f"{self.smoothness_weight} and {self.smoothness_order}"
            )


@dataclass(frozen=True)
class SmoothFit:
    """A fitted ``x_theta(t)`` and its values at the sample times.

    Attributes
    ----------
    smoother:
        The trained :class:`SmoothTrajectory`.
    states, derivatives:
        ``x_theta(t_i)`` and ``dx_theta/dt (t_i)``, ``(n, d)`` (state units, per time unit).
    loss:
        Training loss per epoch ``(epochs,)`` (standardised units).
    """

    smoother: SmoothTrajectory
    states: np.ndarray
    derivatives: np.ndarray
    loss: np.ndarray = field(repr=False)


def fit_smooth_trajectory(
    t: np.ndarray,
    observations: np.ndarray,
    settings: SmootherSettings | None = None,
    *,
    seed: int = 0,
    progress: Progress | None = None,
) -> SmoothFit:
    """Fit ``x_theta(t)`` to noisy ``observations (n, d)`` with a derivative penalty.

    The loss is the mean squared misfit of the standardised state plus the smoothness
    penalty of :class:`SmootherSettings`; derivatives come from autograd.
    """
    settings = settings or SmootherSettings()
    t, observations = check_trajectory(t, observations, "observations")
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    smoother = SmoothTrajectory(
        t[0],
        t[-1],
        observations.mean(0),
        observations.std(0) + 1e-12,
        spacing=settings.spacing,
        hidden=settings.hidden,
        harmonics=settings.harmonics,
    )
    times = torch.as_tensor(t, dtype=torch.float32)
    targets = (torch.as_tensor(observations, dtype=torch.float32) - smoother.offset) / (
        smoother.scale
    )
    optimiser = torch.optim.Adam(smoother.parameters(), lr=settings.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, settings.epochs)
    losses = np.empty(settings.epochs)
    for epoch in range(settings.epochs):
        optimiser.zero_grad()
        fitted = (smoother(times) - smoother.offset) / smoother.scale
        loss = torch.mean((fitted - targets) ** 2)
        if settings.smoothness_weight > 0:
            where = t[0] + (t[-1] - t[0]) * torch.rand(settings.collocation, generator=generator)
            rate = smoother.derivative(where, settings.smoothness_order, standardised=True)
            loss = loss + settings.smoothness_weight * torch.mean(rate**2)
        loss.backward()
        optimiser.step()
        schedule.step()
        losses[epoch] = loss.item()
        if progress is not None and (epoch + 1) % max(settings.epochs // 20, 1) == 0:
            progress((epoch + 1) / settings.epochs, f"smooth fit, loss {losses[epoch]:.3g}")
    states = smoother(times).detach().numpy().astype(float)
    derivatives = smoother.derivative(times).detach().numpy().astype(float)
    return SmoothFit(smoother, states, derivatives, losses)
