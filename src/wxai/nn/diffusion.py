"""Denoising diffusion (DDPM): noise schedules, the forward process and reverse sampling.

Time steps are indexed ``t = 0 .. T-1``; step ``t`` adds noise of variance
``beta[t]``, so that ``x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) eps`` with
``x_{-1} = x_0`` the data. Its closed form is
``x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps`` with
``alpha_bar_t = prod_{s <= t} (1 - beta_s)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from wxai.core.errors import ConfigError
from wxai.nn.mlp import MLP

#: ``eps_model(x_t, t) -> predicted noise``; ``x_t`` ``(batch, ...)``, ``t`` ``(batch,)`` long.
EpsModel = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def linear_betas(n_steps: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    """Noise variances rising linearly from ``beta_start`` to ``beta_end`` (Ho et al. 2020).

    The defaults are meant for about 1000 steps; for fewer steps scale them up by
    ``1000 / n_steps`` or use :func:`cosine_betas`.

    Returns
    -------
    Tensor ``(n_steps,)``, float64.
    """
    if n_steps < 1:
        raise ConfigError(f"n_steps must be >= 1, got {n_steps}")
    if not 0 < beta_start <= beta_end < 1:
        raise ConfigError(f"need 0 < beta_start <= beta_end < 1, got {beta_start}, {beta_end}")
    return torch.linspace(beta_start, beta_end, n_steps, dtype=torch.float64)


def cosine_betas(n_steps: int, offset: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """Noise variances of the cosine schedule (Nichol & Dhariwal 2021).

    ``alpha_bar`` follows ``cos^2(pi/2 (t/T + offset) / (1 + offset))``, which
    destroys the signal more evenly over the steps than the linear schedule.

    Returns
    -------
    Tensor ``(n_steps,)``, float64, each at most ``max_beta``.
    """
    if n_steps < 1:
        raise ConfigError(f"n_steps must be >= 1, got {n_steps}")
    s = torch.arange(n_steps + 1, dtype=torch.float64) / n_steps
    f = torch.cos((s + offset) / (1 + offset) * math.pi / 2) ** 2
    return (1 - f[1:] / f[:-1]).clamp(min=1e-8, max=max_beta)


def alpha_bar(betas: torch.Tensor) -> torch.Tensor:
    """Cumulative signal fraction ``alpha_bar_t = prod_{s <= t} (1 - beta_s)``, shape of betas."""
    return torch.cumprod(1 - betas, dim=0)


@dataclass(frozen=True)
class NoiseSchedule:
    """The fixed quantities of a DDPM forward process.

    Attributes
    ----------
    betas:
        Per-step noise variances ``(T,)``.
    alpha_bar:
        Cumulative products ``(T,)`` (see :func:`alpha_bar`).
    """

    betas: torch.Tensor
    alpha_bar: torch.Tensor

    @classmethod
    def from_betas(cls, betas: torch.Tensor) -> NoiseSchedule:
        """Schedule with the given betas ``(T,)``."""
        betas = betas.to(torch.float64)
        if betas.dim() != 1 or not bool(((betas > 0) & (betas < 1)).all()):
            raise ConfigError("betas must be a 1D tensor with values in (0, 1)")
        return cls(betas, alpha_bar(betas))

    @classmethod
    def named(cls, name: str, n_steps: int) -> NoiseSchedule:
        """``"linear"`` (scaled to ``n_steps``) or ``"cosine"`` schedule with ``n_steps`` steps."""
        from wxai.core.errors import UnknownNameError

        if name == "linear":
            scale = 1000 / n_steps
            return cls.from_betas(linear_betas(n_steps, 1e-4 * scale, min(0.02 * scale, 0.999)))
        if name == "cosine":
            return cls.from_betas(cosine_betas(n_steps))
        raise UnknownNameError("noise schedule", name, ["linear", "cosine"])

    @property
    def n_steps(self) -> int:
        """Number of diffusion steps ``T``."""
        return int(self.betas.shape[0])

    def posterior_variance(self) -> torch.Tensor:
        """Variance ``beta_t (1 - ab_{t-1}) / (1 - ab_t)`` of ``q(x_{t-1}|x_t, x_0)``, ``(T,)``."""
        previous = torch.cat([torch.ones(1, dtype=self.alpha_bar.dtype), self.alpha_bar[:-1]])
        return self.betas * (1 - previous) / (1 - self.alpha_bar)


def _per_sample(values: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``values[t]`` shaped ``(batch, 1, ..., 1)`` to broadcast against ``like``."""
    picked = values.to(like.device)[t].to(like.dtype)
    return picked.reshape(-1, *([1] * (like.dim() - 1)))


def q_sample(
    x0: torch.Tensor,
    t: torch.Tensor,
    schedule: NoiseSchedule,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """Draw ``x_t ~ q(x_t | x_0)`` in one step (closed form).

    Parameters
    ----------
    x0:
        Clean data ``(batch, ...)``.
    t:
        Step index per sample ``(batch,)``, long, in ``0 .. T-1``.
    noise:
        Standard normal noise of ``x0``'s shape (drawn when omitted).

    Returns
    -------
    ``sqrt(ab_t) x0 + sqrt(1 - ab_t) noise``, shape of ``x0``.
    """
    noise = torch.randn_like(x0) if noise is None else noise
    ab = _per_sample(schedule.alpha_bar, t, x0)
    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise


def q_step(
    x_previous: torch.Tensor,
    t: torch.Tensor,
    schedule: NoiseSchedule,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """One forward step ``x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) noise``.

    Shapes as in :func:`q_sample`; iterating it from ``t = 0`` gives the closed form
    in distribution.
    """
    noise = torch.randn_like(x_previous) if noise is None else noise
    beta = _per_sample(schedule.betas, t, x_previous)
    return (1 - beta).sqrt() * x_previous + beta.sqrt() * noise


def diffusion_loss(eps_model: EpsModel, x0: torch.Tensor, schedule: NoiseSchedule) -> torch.Tensor:
    """Noise-prediction loss: MSE between ``eps`` and ``eps_model(q_sample(x0, t, eps), t)``.

    ``t`` is drawn uniformly per sample. ``x0`` is ``(batch, ...)``; returns a scalar.
    """
    t = torch.randint(0, schedule.n_steps, (x0.shape[0],), device=x0.device)
    noise = torch.randn_like(x0)
    return torch.mean((eps_model(q_sample(x0, t, schedule, noise), t) - noise) ** 2)


@torch.no_grad()
def p_sample_loop(
    eps_model: EpsModel,
    shape: Sequence[int],
    schedule: NoiseSchedule,
    *,
    device: torch.device | str = "cpu",
    keep: Sequence[int] = (),
    variance: str = "posterior",
) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
    """Generate samples by ancestral DDPM sampling from pure noise.

    Each step applies
    ``x_{t-1} = (x_t - beta_t / sqrt(1 - ab_t) eps_model(x_t, t)) / sqrt(1 - beta_t)
    + sigma_t z``, with no noise added at the last step (``t = 0``).

    Parameters
    ----------
    eps_model:
        Network predicting the noise in ``x_t``; called in evaluation mode.
    shape:
        Output shape ``(batch, ...)``.
    keep:
        Steps ``t`` whose state ``x_t`` (before denoising) is returned as well;
        ``-1`` keeps the final samples under that key too.
    variance:
        ``"posterior"`` (``sigma_t^2`` = variance of ``q(x_{t-1}|x_t, x_0)``) or
        ``"beta"`` (``sigma_t^2 = beta_t``).

    Returns
    -------
    samples:
        Tensor of ``shape`` on the CPU.
    kept:
        ``{t: x_t}`` for the steps in ``keep``.
    """
    if isinstance(eps_model, nn.Module):
        eps_model.eval()
    if variance == "posterior":
        sigma2 = schedule.posterior_variance()
    elif variance == "beta":
        sigma2 = schedule.betas
    else:
        raise ConfigError(f"variance must be 'posterior' or 'beta', got {variance!r}")
    wanted = set(keep)
    kept: dict[int, torch.Tensor] = {}
    x = torch.randn(*shape, device=device)
    for step in reversed(range(schedule.n_steps)):
        if step in wanted:
            kept[step] = x.cpu().clone()
        t = torch.full((shape[0],), step, dtype=torch.long, device=device)
        beta = float(schedule.betas[step])
        ab = float(schedule.alpha_bar[step])
        eps = eps_model(x, t)
        x = (x - beta / math.sqrt(1 - ab) * eps) / math.sqrt(1 - beta)
        if step > 0:
            x = x + math.sqrt(float(sigma2[step])) * torch.randn_like(x)
    if -1 in wanted:
        kept[-1] = x.cpu().clone()
    return x.cpu(), kept


def sinusoidal_embedding(t: torch.Tensor, dim: int, max_period: float = 1000.0) -> torch.Tensor:
    """Sine/cosine features of integer steps, as transformer positions.

    Parameters
    ----------
    t:
        Steps ``(batch,)``.
    dim:
        Even embedding size.

    Returns
    -------
    Tensor ``(batch, dim)``.
    """
    if dim % 2:
        raise ConfigError(f"embedding dim must be even, got {dim}; use an even dim")
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device) / half)
    angles = t.float().unsqueeze(1) * freqs.unsqueeze(0)
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class EpsilonMLP(nn.Module):
    """Noise-predicting network for vector data: ``[x_t, embed(t)] -> eps``.

    Parameters
    ----------
    dim:
        Size of a data vector.
    hidden:
        Hidden layer sizes of the MLP.
    time_dim:
        Size of the sinusoidal step embedding.
    act:
        Activation name.

    Shapes
    ------
    ``x_t`` ``(batch, dim)``, ``t`` ``(batch,)`` -> ``(batch, dim)``.
    """

    def __init__(
        self, dim: int, hidden: Sequence[int] = (128, 128, 128), time_dim: int = 32, act="silu"
    ) -> None:
        super().__init__()
        self.time_dim = time_dim
        self.net = MLP(dim + time_dim, dim, hidden, act=act)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Predicted noise ``(batch, dim)``."""
        return self.net(torch.cat([x, sinusoidal_embedding(t, self.time_dim)], dim=1))
