"""AI particle filter: a DeepSets network maps a forecast ensemble to an analysis ensemble.

The update ``X^a = N_theta(X^b, y)`` (lecture 18) moves each particle with a network
that sees the particle, the observation and a context pooled over the whole ensemble,
so that permuting the forecast particles permutes the analysis particles the same way
(permutation equivariance). Both ensembles are read as Gaussian mixtures with a common
kernel ``Sigma``,

``q(x | X) = 1/N sum_i N(x | x_i, Sigma)``,

and the training loss is

``L = -log(1/N sum_i p(y | x_i^a)) + lambda_bg KL(w* || pi_theta)``,

where the Kullback-Leibler term compares two discrete distributions on evaluation points
``z_k`` drawn by a perturbed-observation Kalman update of the forecast ensemble: the
target ``w*_k ~ q^b(z_k) p(y | z_k)`` (prior mixture times likelihood, i.e. the Bayes
posterior) and the model ``pi_theta,k ~ q^a(z_k)`` (the analysis mixture). The first term
alone (``lambda_bg = 0``) only pulls particles towards the observation in observation
space; it says nothing about unobserved components or about the spread, which is what the
ablation of the lab shows.

Arrays: ``N`` particles, ``n`` state components, ``m`` observations, ``B`` cases in a batch,
``K`` evaluation points per case.
"""

# ruff: noqa: N803, N806 - matrix names (H, R, K, P) and ensembles (X, Z) follow the DA literature

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from wxai.nn.mlp import MLP

#: A particle update ``(X^b (N, n), y (m,)) -> X^a (N, n)``.
ParticleUpdate = Callable[[np.ndarray, np.ndarray], np.ndarray]


class DeepSetsParticleUpdate(nn.Module):
    """Permutation-equivariant particle update ``x_i^a = x_i^b + psi(f_i, rho(mean_j phi(f_j)))``.

    The per-particle features ``f_i`` are the normalised particle, its deviation from the
    ensemble mean, its innovation ``y - H x_i``, the observation and (option ``moments``)
    products of the deviations. ``phi`` embeds each
    particle, the mean over particles is the only interaction (so the output is equivariant
    under permutations of the particles), ``rho`` turns the pooled embedding into a context
    and ``psi`` returns the increment of each particle from its features and the context.

    Parameters
    ----------
    H:
        Linear observation operator, shape ``(m, n)``.
    center, scale:
        States are normalised as ``(x - center) / scale`` (``(n,)`` and a scalar); the
        increment is returned in state units.
    hidden:
        Hidden sizes of ``phi``, ``rho`` and ``psi``.
    context:
        Size of the pooled embedding and of the context.
    act:
        Activation name (see :func:`wxai.nn.mlp.activation`).
    moments:
        Add the products ``a_i a_i^T`` and ``a_i (H a_i)^T`` of the normalised anomaly
        ``a_i`` to the features, so that the pooled mean holds the ensemble covariances.

    Shapes
    ------
    ``X^b (B, N, n)`` and ``y (B, m)`` -> ``X^a (B, N, n)``; unbatched ``(N, n)``, ``(m,)``
    inputs give ``(N, n)``.
    """

    def __init__(
        self,
        H: np.ndarray,
        center: Sequence[float] | np.ndarray,
        scale: float,
        *,
        hidden: Sequence[int] = (64, 64),
        context: int = 32,
        act: str = "gelu",
        moments: bool = True,
    ) -> None:
        super().__init__()
        H = np.asarray(H, dtype=float)
        m, n = H.shape
        self.register_buffer("H", torch.as_tensor(H, dtype=torch.float32))
        self.register_buffer("center", torch.as_tensor(np.asarray(center), dtype=torch.float32))
        self.scale = float(scale)
        self.moments = bool(moments)
        n_feat = 2 * n + 2 * m + (n * n + n * m if moments else 0)
        self.phi = MLP(n_feat, context, hidden, act=act)
        self.rho = MLP(context, context, hidden[-1:], act=act)
        self.psi = MLP(n_feat + context, n, hidden, act=act)

    def forward(self, Xb: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Analysis ensemble for forecast ensembles ``Xb`` and observations ``y``."""
        unbatched = Xb.dim() == 2
        if unbatched:
            Xb, y = Xb.unsqueeze(0), y.unsqueeze(0)
        n_particles = Xb.shape[1]
        xs = (Xb - self.center) / self.scale
        anomalies = xs - xs.mean(dim=1, keepdim=True)
        innovation = (y.unsqueeze(1) - Xb @ self.H.T) / self.scale
        ys = ((y - self.center @ self.H.T) / self.scale).unsqueeze(1).expand(-1, n_particles, -1)
        parts = [xs, anomalies, innovation, ys]
        if self.moments:
            # Products whose ensemble means are the covariances a Kalman gain is made of.
            h_anom = anomalies @ self.H.T
            parts.append((anomalies.unsqueeze(-1) * anomalies.unsqueeze(-2)).flatten(2))
            parts.append((anomalies.unsqueeze(-1) * h_anom.unsqueeze(-2)).flatten(2))
        features = torch.cat(parts, dim=-1)
        pooled = self.phi(features).mean(dim=1)
        ctx = self.rho(pooled).unsqueeze(1).expand(-1, n_particles, -1)
        Xa = Xb + self.scale * self.psi(torch.cat([features, ctx], dim=-1))
        return Xa.squeeze(0) if unbatched else Xa


def log_mixture(Z: torch.Tensor, X: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    """Log-density of the mixture ``1/N sum_i N(z | x_i, diag(var))`` at points ``Z``.

    Parameters
    ----------
    Z:
        Evaluation points ``(B, K, n)``.
    X:
        Mixture centres (particles) ``(B, N, n)``.
    var:
        Kernel variances ``(B, n)`` (diagonal ``Sigma`` of each case).

    Returns
    -------
    torch.Tensor
        ``log q(z_k)``, shape ``(B, K)``.
    """
    diff = Z.unsqueeze(2) - X.unsqueeze(1)  # (B, K, N, n)
    maha = (diff**2 / var[:, None, None, :]).sum(dim=-1)
    log_norm = 0.5 * torch.log(2 * math.pi * var).sum(dim=-1, keepdim=True)
    return torch.logsumexp(-0.5 * maha, dim=-1) - math.log(X.shape[1]) - log_norm


def obs_log_likelihood(
    Z: torch.Tensor, y: torch.Tensor, H: torch.Tensor, r_var: float
) -> torch.Tensor:
    """``log p(y | z)`` for ``y = H z + eps``, ``eps ~ N(0, r_var I)``.

    Parameters
    ----------
    Z:
        States ``(B, K, n)``.
    y:
        Observations ``(B, m)``.
    H:
        ``(m, n)``.
    r_var:
        Observation-error variance.

    Returns
    -------
    torch.Tensor
        ``(B, K)``.
    """
    innov = y.unsqueeze(1) - Z @ H.T
    m = H.shape[0]
    return -0.5 * (innov**2).sum(dim=-1) / r_var - 0.5 * m * math.log(2 * math.pi * r_var)


def kernel_variance(Xb: torch.Tensor, bandwidth: float, floor: float = 1e-2) -> torch.Tensor:
    """Diagonal mixture kernel ``Sigma = h^2 var(X^b) + floor``, shape ``(B, n)``.

    ``Xb`` is ``(B, N, n)``; ``bandwidth`` is ``h`` (Scott's rule gives ``N^(-1/(n+4))``).
    """
    return bandwidth**2 * Xb.var(dim=1, unbiased=True) + floor


def kalman_eval_points(
    Xb: torch.Tensor,
    y: torch.Tensor,
    H: torch.Tensor,
    r_var: float,
    noise: torch.Tensor,
    *,
    kernel_var: torch.Tensor | None = None,
) -> torch.Tensor:
    """Perturbed-observation Kalman update of the forecast particles: the evaluation points.

    ``z = x + P H^T (H P H^T + R)^-1 (y + eps - H x)`` with ``P`` the ensemble covariance
    (plus the mixture kernel ``Sigma`` when given, the covariance of the mixture itself).

    Parameters
    ----------
    Xb:
        Forecast ensembles ``(B, N, n)``.
    y:
        Observations ``(B, m)``.
    H:
        ``(m, n)``.
    r_var:
        Observation-error variance (``R = r_var I``).
    noise:
        Standard-normal observation perturbations ``(B, copies * N, m)``; each particle is
        updated ``copies`` times.
    kernel_var:
        Optional ``(B, n)`` diagonal added to ``P``.

    Returns
    -------
    torch.Tensor
        ``(B, copies * N, n)``.
    """
    N = Xb.shape[1]
    copies = noise.shape[1] // N
    anomalies = Xb - Xb.mean(dim=1, keepdim=True)
    P = anomalies.transpose(1, 2) @ anomalies / (N - 1)
    if kernel_var is not None:
        P = P + torch.diag_embed(kernel_var)
    PHt = P @ H.T  # (B, n, m)
    S = H @ PHt + r_var * torch.eye(H.shape[0], dtype=Xb.dtype)
    gain = torch.linalg.solve(S, PHt.transpose(1, 2)).transpose(1, 2)  # (B, n, m)
    X = Xb.repeat(1, copies, 1)
    innov = y.unsqueeze(1) + math.sqrt(r_var) * noise - X @ H.T
    return X + innov @ gain.transpose(1, 2)


def obs_loss(Xa: torch.Tensor, y: torch.Tensor, H: torch.Tensor, r_var: float) -> torch.Tensor:
    """``L_obs = -log(1/N sum_i p(y | x_i^a))`` per case, ``(B,)`` for ``Xa (B, N, n)``."""
    return -(torch.logsumexp(obs_log_likelihood(Xa, y, H, r_var), dim=1) - math.log(Xa.shape[1]))


def gm_kl_loss(
    Xa: torch.Tensor,
    Xb: torch.Tensor,
    y: torch.Tensor,
    Z: torch.Tensor,
    *,
    H: torch.Tensor,
    r_var: float,
    kernel_var: torch.Tensor,
) -> torch.Tensor:
    """Discrete ``KL(w* || pi_theta)`` on the evaluation points, per case ``(B,)``.

    Parameters
    ----------
    Xa, Xb:
        Analysis and forecast ensembles ``(B, N, n)``.
    y:
        ``(B, m)``.
    Z:
        Evaluation points ``(B, K, n)`` (:func:`kalman_eval_points`).
    H, r_var:
        Observation operator ``(m, n)`` and error variance.
    kernel_var:
        Mixture kernel variances ``(B, n)``.
    """
    with torch.no_grad():
        log_t = log_mixture(Z, Xb, kernel_var) + obs_log_likelihood(Z, y, H, r_var)
        log_w = torch.log_softmax(log_t, dim=1)
    log_pi = torch.log_softmax(log_mixture(Z, Xa, kernel_var), dim=1)
    return (log_w.exp() * (log_w - log_pi)).sum(dim=1)


@dataclass(frozen=True)
class AIPFLoss:
    """The AI-PF training loss.

    Attributes
    ----------
    H:
        ``(m, n)`` observation operator.
    r_var:
        Observation-error variance.
    lambda_bg:
        Weight of the Gaussian-mixture KL term (0: observation term only).
    bandwidth:
        Kernel bandwidth factor ``h`` of :func:`kernel_variance`.
    copies:
        Kalman evaluation points per particle.
    include_prior:
        Evaluate the KL also at the forecast particles, so that analysis mass left
        where the prior was (and the posterior is not) is penalised; the Kalman points
        alone all lie in the posterior region, where prior and posterior differ little.
    """

    H: np.ndarray
    r_var: float
    lambda_bg: float = 1.0
    bandwidth: float = 1.0
    copies: int = 2
    include_prior: bool = True

    def __call__(
        self, Xa: torch.Tensor, Xb: torch.Tensor, y: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        """Mean loss over a batch (``Xa``, ``Xb`` ``(B, N, n)``, ``y`` ``(B, m)``)."""
        H = torch.as_tensor(self.H, dtype=Xa.dtype)
        loss = obs_loss(Xa, y, H, self.r_var)
        if self.lambda_bg > 0:
            kvar = kernel_variance(Xb, self.bandwidth)
            B, N, _ = Xb.shape
            noise = torch.randn((B, self.copies * N, H.shape[0]), generator=generator)
            Z = kalman_eval_points(Xb, y, H, self.r_var, noise, kernel_var=kvar)
            if self.include_prior:
                Z = torch.cat([Z, Xb], dim=1)
            loss = loss + self.lambda_bg * gm_kl_loss(
                Xa, Xb, y, Z, H=H, r_var=self.r_var, kernel_var=kvar
            )
        return loss.mean()


@dataclass
class AIPFHistory:
    """Training record: mean loss per epoch and the wall time (s)."""

    loss: list[float]
    seconds: float


def train_aipf(
    model: nn.Module,
    loss_fn: AIPFLoss,
    Xb: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    lr: float = 1e-3,
    batch_size: int = 64,
    seed: int = 0,
    threads: int | None = 1,
    progress: Callable[[float, str], None] | None = None,
) -> AIPFHistory:
    """Train a particle update on forecast ensembles and observations (no analyses needed).

    Parameters
    ----------
    model:
        E.g. :class:`DeepSetsParticleUpdate`.
    loss_fn:
        The loss (full or observation-only through ``lambda_bg``).
    Xb:
        Forecast ensembles ``(cases, N, n)``.
    y:
        Observations ``(cases, m)``.
    epochs, lr, batch_size, seed:
        Adam with a cosine decay to 1 % of ``lr``.
    threads:
        Intra-op torch threads while training (``None``: leave alone).
    progress:
        Called with the fraction done and a message.
    """
    from wxai.core.device import torch_threads
    from wxai.train.loop import minimize_over_batches

    data = (torch.as_tensor(Xb, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32))

    def batch_loss(batch: tuple[torch.Tensor, ...], generator: torch.Generator) -> torch.Tensor:
        xb, yb = batch
        return loss_fn(model(xb, yb), xb, yb, generator)

    start = time.perf_counter()
    with torch_threads(threads):
        losses = minimize_over_batches(
            model,
            data,
            batch_loss,
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            seed=seed,
            progress=progress,
        )
    return AIPFHistory(losses, time.perf_counter() - start)


def network_update(model: nn.Module) -> ParticleUpdate:
    """Wrap a trained network as a numpy :data:`ParticleUpdate` (float32 inside)."""

    @torch.no_grad()
    def update(Xb: np.ndarray, y: np.ndarray) -> np.ndarray:
        xb = torch.as_tensor(Xb, dtype=torch.float32)
        return model(xb, torch.as_tensor(y, dtype=torch.float32)).double().numpy()

    return update


def enkf_update(
    H: np.ndarray, r_var: float, rng: np.random.Generator, inflation: float = 1.0
) -> ParticleUpdate:
    """A perturbed-observation EnKF with multiplicative inflation as a :data:`ParticleUpdate`."""
    Ht = torch.as_tensor(H, dtype=torch.float64)

    def update(Xb: np.ndarray, y: np.ndarray) -> np.ndarray:
        mean = Xb.mean(axis=0)
        X = mean + inflation * (Xb - mean)
        noise = torch.as_tensor(rng.standard_normal((1, X.shape[0], H.shape[0])))
        Z = kalman_eval_points(torch.as_tensor(X[None]), torch.as_tensor(y[None]), Ht, r_var, noise)
        return Z[0].numpy()

    return update


def no_update(Xb: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The free run: the analysis is the forecast."""
    return Xb


@dataclass
class ParticleCycles:
    """Record of a cycled particle update.

    Attributes
    ----------
    forecasts:
        Forecast ensembles ``(K, N, n)`` (the network inputs).
    analyses:
        Analysis ensembles ``(K, N, n)``.
    fg_error:
        First-guess error: RMS over components of ``mean(X^b) - truth``, ``(K,)``.
    an_error:
        Analysis error, the same for ``mean(X^a)``, ``(K,)``.
    spread:
        Analysis spread (RMS over components of the ensemble standard deviation), ``(K,)``.
    """

    forecasts: np.ndarray
    analyses: np.ndarray
    fg_error: np.ndarray
    an_error: np.ndarray
    spread: np.ndarray

    def mean_errors(self, skip: int = 0) -> tuple[float, float]:
        """Time-mean first-guess and analysis errors after ``skip`` cycles."""
        return float(np.mean(self.fg_error[skip:])), float(np.mean(self.an_error[skip:]))


def cycle_particles(
    update: ParticleUpdate,
    model,
    X0: np.ndarray,
    truth: np.ndarray,
    y: np.ndarray,
    *,
    dt: float,
    steps_per_obs: int,
    rng: np.random.Generator,
    jitter: float = 0.0,
    bound: float = 1e3,
) -> ParticleCycles:
    """Cycle forecast (``model``, possibly wrong) and particle update against a truth.

    Parameters
    ----------
    update:
        The analysis step, see :data:`ParticleUpdate`.
    model:
        A :class:`~wxai.core.typing.PrognosticModel` stepping ensembles ``(N, n)``.
    X0:
        Initial ensemble ``(N, n)``.
    truth, y:
        Truth ``(K, n)`` and observations ``(K, m)`` at the observation times; the first
        observation time is ``steps_per_obs`` model steps after the start.
    dt, steps_per_obs:
        Model step and steps between observation times.
    rng:
        Draws the additive forecast jitter.
    jitter:
        Standard deviation of Gaussian noise added to each particle after each forecast
        (a stochastic model-error term that keeps the ensemble from collapsing).
    bound:
        Analysis particles are clipped to ``[-bound, bound]`` so that a poor update
        cannot overflow the model; errors then stay finite and are counted.
    """
    n_times = truth.shape[0]
    X = np.array(X0, dtype=float)
    forecasts = np.empty((n_times, *X.shape))
    analyses = np.empty_like(forecasts)
    for k in range(n_times):
        for s in range(steps_per_obs):
            X = model.step(X, (k * steps_per_obs + s) * dt, dt)
        if jitter > 0:
            X = X + jitter * rng.standard_normal(X.shape)
        forecasts[k] = X
        X = np.clip(np.nan_to_num(update(X, y[k]), nan=0.0), -bound, bound)
        analyses[k] = X
    fg = np.sqrt(np.mean((forecasts.mean(axis=1) - truth) ** 2, axis=1))
    an = np.sqrt(np.mean((analyses.mean(axis=1) - truth) ** 2, axis=1))
    spread = np.sqrt(analyses.var(axis=1, ddof=1).mean(axis=1))
    return ParticleCycles(forecasts, analyses, fg, an, spread)


def cycle_updates(
    updates: dict[str, ParticleUpdate],
    model,
    X0: np.ndarray,
    truth: np.ndarray,
    y: np.ndarray,
    *,
    dt: float,
    steps_per_obs: int,
    seed: int,
    jitter: float = 0.0,
    threads: int | None = 1,
) -> dict[str, ParticleCycles]:
    """Cycle several particle updates against one truth with the same forecast noise.

    Each update runs :func:`cycle_particles` from the same ``X0`` with its own generator
    ``default_rng(seed)``, so the jitter is identical and differences come from the
    updates only.

    Parameters
    ----------
    updates:
        Name -> update (e.g. :func:`network_update`, :func:`enkf_update`, :func:`no_update`).
    X0, truth, y:
        Initial ensemble ``(N, n)``, truth ``(K, n)`` and observations ``(K, m)``.
    threads:
        Intra-op torch threads while cycling (``None``: leave the setting alone).

    Returns
    -------
    dict
        Name -> :class:`ParticleCycles`, in the order of ``updates``.
    """
    from wxai.core.device import torch_threads

    runs: dict[str, ParticleCycles] = {}
    with torch_threads(threads):
        for name, update in updates.items():
            rng = np.random.default_rng(seed)
            runs[name] = cycle_particles(
                update,
                model,
                X0,
                truth,
                y,
                dt=dt,
                steps_per_obs=steps_per_obs,
                rng=rng,
                jitter=jitter,
            )
    return runs
