"""ORIGEN: observation-based reconstruction, then a forecast model learned from it (lecture 20).

ORIGEN (Observation-based Reconstruction & Inversion for Generative Emulation of
Nonlinear systems) closes a loop between observations, a reconstructed state sequence
and a learned forecast model:

1. start from a baseline model (here persistence, ``M(x) = x``) and cycle 3D-Var through
   time to get a first analysis sequence ``{x_k^a}``;
2. repeat the analysis over the whole sequence, each *reconstruction cycle* using the
   previous cycle's analyses as background and a new random pattern of partial
   observations; optionally update the background covariance of every time index with
   the Kalman analysis covariance ``A_k = (I - K_k H_k) B_k``, so that information
   accumulates instead of being overwritten;
3. learn a one-step map ``x^a(k) -> x^a(k + 1)`` from the reconstruction and fine-tune it
   on short rollouts.

Observations have diagonal error covariance ``R = sigma_o^2 I`` and observe a subset of
the state components at each time, so an analysis is computed exactly by assimilating the
observed components one at a time (serial processing), vectorized over time. States have
shape ``(n, d)`` (time, component); covariances ``(n, d, d)``.
"""

# ruff: noqa: N803, N806 - matrix names (B, R, H, K, A) follow the DA literature

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from wxai.core.errors import ConfigError
from wxai.nn.mlp import MLP

#: The observed subsets of the Lorenz-63 experiment: x, y, z, xy, xz, yz.
LORENZ63_SUBSETS: tuple[tuple[int, ...], ...] = ((0,), (1,), (2,), (0, 1), (0, 2), (1, 2))
#: The oscillator's observation operators ``H_k in {[1, 0], [0, 1]}``.
OSCILLATOR_SUBSETS: tuple[tuple[int, ...], ...] = ((0,), (1,))

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class PartialObservations:
    """Scalar observations of a subset of the components at every time.

    Attributes
    ----------
    values:
        Observed values, shape ``(n, d)``; NaN where a component is not observed.
    mask:
        Which components are observed, boolean, shape ``(n, d)``.
    sigma_o:
        Observation-error standard deviation (state units), ``R = sigma_o^2 I``.
    """

    values: np.ndarray
    mask: np.ndarray
    sigma_o: float


def oscillator_truth(n: int, periods: float = 1.0) -> np.ndarray:
    """The circle ``x_k = (cos theta_k, sin theta_k)``, ``theta_k = 2 pi periods k / n``.

    Returns
    -------
    np.ndarray
        Shape ``(n, 2)``.
    """
    theta = 2.0 * np.pi * periods * np.arange(n) / n
    return np.stack([np.cos(theta), np.sin(theta)], axis=-1)


def lorenz63_truth(
    n: int, dt: float, substeps: int, rng: np.random.Generator, spinup: int = 500
) -> np.ndarray:
    """A Lorenz-63 trajectory sampled every ``dt * substeps`` time units.

    The initial state is drawn near the attractor and spun up for ``spinup`` samples.

    Returns
    -------
    np.ndarray
        Shape ``(n, 3)``.
    """
    from wxai.da.models.lorenz63 import Lorenz63

    model = Lorenz63()
    x = np.array([1.0, 1.0, 25.0]) + rng.standard_normal(3)
    out = np.empty((n, 3))
    for k in range(spinup + n):
        for _ in range(substeps):
            x = model.step(x, 0.0, dt)
        if k >= spinup:
            out[k - spinup] = x
    return out


def random_partial_observations(
    truth: np.ndarray,
    subsets: Sequence[Sequence[int]],
    sigma_o: float,
    rng: np.random.Generator,
) -> PartialObservations:
    """Observe one randomly chosen subset of the components of ``truth`` at every time.

    Parameters
    ----------
    truth:
        True states, shape ``(n, d)``.
    subsets:
        The possible observed subsets, e.g. :data:`LORENZ63_SUBSETS`; one is drawn
        uniformly per time.
    sigma_o:
        Observation-error standard deviation.
    """
    n, d = truth.shape
    table = np.zeros((len(subsets), d), dtype=bool)
    for row, subset in enumerate(subsets):
        table[row, list(subset)] = True
    mask = table[rng.integers(0, len(subsets), size=n)]
    noisy = truth + sigma_o * rng.standard_normal(truth.shape)
    return PartialObservations(np.where(mask, noisy, np.nan), mask, float(sigma_o))


def component_observations(
    truth: np.ndarray, component: int, sigma_o: float, rng: np.random.Generator
) -> PartialObservations:
    """Observe the single component ``component`` of ``truth`` (shape ``(n, d)``) at every time."""
    return random_partial_observations(truth, [(component,)], sigma_o, rng)


def analysis(
    xb: np.ndarray, B: np.ndarray, obs: PartialObservations
) -> tuple[np.ndarray, np.ndarray]:
    """3D-Var/Kalman analysis of every time at once: ``x^a = x^b + K (y - H x^b)``.

    ``K = B H^T (H B H^T + R)^-1`` is applied by assimilating the observed components one
    at a time, which is exact for diagonal ``R``.

    Parameters
    ----------
    xb:
        Backgrounds, shape ``(n, d)``.
    B:
        Background-error covariance, shape ``(d, d)`` (the same at every time) or
        ``(n, d, d)``.
    obs:
        Observations with ``values``/``mask`` of shape ``(n, d)``.

    Returns
    -------
    xa, A:
        Analyses ``(n, d)`` and analysis-error covariances ``A = (I - K H) B``,
        shape ``(n, d, d)``.
    """
    x = np.array(xb, dtype=float)
    P = np.array(np.broadcast_to(B, (x.shape[0], x.shape[1], x.shape[1])), dtype=float)
    r = obs.sigma_o**2
    for j in range(x.shape[1]):
        rows = obs.mask[:, j]
        if not rows.any():
            continue
        Pj = P[rows, :, j]  # B H^T for H = e_j, shape (m, d)
        gain = Pj / (Pj[:, j : j + 1] + r)
        innovation = obs.values[rows, j] - x[rows, j]
        x[rows] += gain * innovation[:, None]
        P[rows] -= gain[:, :, None] * Pj[:, None, :]
    return x, P


def persistence_cycle(
    x0: np.ndarray,
    B: np.ndarray,
    obs: PartialObservations,
    model: Callable[[np.ndarray], np.ndarray] | nn.Module | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Cycle 3D-Var through time, ``x^b_{k+1} = M(x^a_k)``, by default with persistence.

    ``B`` (shape ``(d, d)``) stays fixed, as in 3D-Var.

    Parameters
    ----------
    x0:
        First background, shape ``(d,)``.
    model:
        The forecast model ``M``: ``None`` for persistence ``M(x) = x``, a numpy function
        of states ``(m, d)``, or a torch module such as a trained :class:`OneStepModel`
        (closing the ORIGEN loop: the next cycle runs with the learned model).

    Returns
    -------
    xb, xa:
        Backgrounds and analyses, shape ``(n, d)`` each.
    """
    n, d = obs.mask.shape
    xb = np.empty((n, d))
    xa = np.empty((n, d))
    x = np.asarray(x0, dtype=float)
    for k in range(n):
        if k > 0 and model is not None:
            x = rollout(model, x[None], 1)[0, 1]
        xb[k] = x
        one = PartialObservations(obs.values[k : k + 1], obs.mask[k : k + 1], obs.sigma_o)
        x = analysis(x[None], B, one)[0][0]
        xa[k] = x
    return xb, xa


@dataclass(frozen=True)
class Reconstruction:
    """Result of :func:`reconstruct`.

    Attributes
    ----------
    analyses:
        The analysis sequence of every cycle, shape ``(cycles, n, d)``; cycle 0 is the
        persistence-cycled 3D-Var pass.
    rmse:
        Analysis RMSE against the truth per cycle, shape ``(cycles,)``.
    spread:
        Square root of the mean analysis-error variance the scheme assumes,
        ``sqrt(mean_k trace(A_k) / d)``, per cycle, shape ``(cycles,)``.
    last_obs:
        The observations of the last cycle.
    """

    analyses: np.ndarray
    rmse: np.ndarray
    spread: np.ndarray
    last_obs: PartialObservations

    @property
    def final(self) -> np.ndarray:
        """The last cycle's analyses, shape ``(n, d)``."""
        return self.analyses[-1]

    @property
    def max_rise(self) -> float:
        """Largest cycle-to-cycle RMSE ratio ``rmse[c + 1] / rmse[c]`` (1 with one cycle)."""
        if self.rmse.size < 2:
            return 1.0
        return float(np.max(self.rmse[1:] / self.rmse[:-1]))


def reconstruct(
    truth: np.ndarray,
    subsets: Sequence[Sequence[int]],
    sigma_o: float,
    B0: np.ndarray,
    cycles: int,
    *,
    rng: np.random.Generator,
    update_covariance: bool = False,
    x0: np.ndarray | None = None,
) -> Reconstruction:
    """Iterative ORIGEN reconstruction of a whole trajectory from random partial observations.

    Cycle 0 cycles 3D-Var through time with persistence from ``x0``. Every later cycle
    draws a new random observation pattern (and new errors) and analyses all times at
    once, the background being the previous cycle's analyses, ``x_k^{b,(c+1)} =
    x_k^{a,(c)}``. Without covariance update every cycle uses ``B0``; with it, ``B_k`` of
    cycle ``c + 1`` is the analysis covariance ``A_k`` of cycle ``c``.

    Parameters
    ----------
    truth:
        True states, shape ``(n, d)``; used to draw observations and to score.
    subsets, sigma_o:
        Observed subsets and error standard deviation (see
        :func:`random_partial_observations`).
    B0:
        Initial background-error covariance, shape ``(d, d)``.
    cycles:
        Number of cycles including the persistence pass, at least 1.
    update_covariance:
        Apply the Kalman-type update ``B_k <- (I - K_k H_k) B_k`` between cycles.
    x0:
        First background of the persistence pass, shape ``(d,)``; zeros by default.
    """
    from wxai.verify.metrics import rmse

    if cycles < 1:
        raise ConfigError(f"cycles must be at least 1, got {cycles}")
    d = truth.shape[1]
    x0 = np.zeros(d) if x0 is None else np.asarray(x0, dtype=float)
    obs = random_partial_observations(truth, subsets, sigma_o, rng)
    _, xa = persistence_cycle(x0, B0, obs)
    # The persistence pass assimilated each time once with B0: its analysis covariance.
    _, A = analysis(xa, B0, obs)
    analyses, errors, spreads = [xa], [rmse(xa, truth)], [_spread(A)]
    B = A if update_covariance else B0
    for _ in range(1, cycles):
        obs = random_partial_observations(truth, subsets, sigma_o, rng)
        xa, A = analysis(xa, B, obs)
        B = A if update_covariance else B0
        analyses.append(xa)
        errors.append(rmse(xa, truth))
        spreads.append(_spread(A))
    return Reconstruction(np.array(analyses), np.array(errors), np.array(spreads), obs)


def _spread(A: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.trace(A, axis1=-2, axis2=-1)) / A.shape[-1]))


def two_round_reconstruction(
    truth: np.ndarray,
    sigma_o: float,
    B: np.ndarray,
    rng: np.random.Generator,
    x0: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two sequential rounds on a 2-component state: observe ``x_1`` everywhere, then ``x_2``.

    Round 1 cycles 3D-Var with persistence from ``x0`` using observations of ``x_1`` only;
    round 2 analyses every time with observations of ``x_2`` only, taking the round-1
    analyses as background (``x_k^{b,(2)} = x_k^{a,(1)}``).

    Returns
    -------
    xa1, xa2:
        Analyses after round 1 and round 2, shape ``(n, 2)`` each.
    """
    x0 = np.zeros(truth.shape[1]) if x0 is None else x0
    _, xa1 = persistence_cycle(x0, B, component_observations(truth, 0, sigma_o, rng))
    xa2, _ = analysis(xa1, B, component_observations(truth, 1, sigma_o, rng))
    return xa1, xa2


class OneStepModel(nn.Module):
    """A learned one-step forecast ``x(k + 1) = x(k) + scale * MLP((x(k) - mean) / std)``.

    Parameters
    ----------
    mean, std:
        Per-component normalization of the states, shape ``(d,)``.
    scale:
        Per-component size of a typical one-step change, shape ``(d,)``.
    hidden, act:
        MLP hidden sizes and activation.

    Shapes
    ------
    input ``(..., d)`` -> output ``(..., d)``.
    """

    def __init__(
        self,
        mean: np.ndarray,
        std: np.ndarray,
        scale: np.ndarray,
        hidden: Sequence[int] = (64, 64),
        act: str = "tanh",
    ) -> None:
        super().__init__()
        d = len(mean)
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))
        self.net = MLP(d, d, hidden, act=act)

    @classmethod
    def for_sequence(cls, states: np.ndarray, hidden: Sequence[int] = (64, 64)) -> OneStepModel:
        """A model normalized with the statistics of a sequence ``states`` of shape ``(n, d)``."""
        steps = np.diff(states, axis=0)
        return cls(states.mean(0), states.std(0) + 1e-8, steps.std(0) + 1e-8, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """One step from states ``x`` of shape ``(..., d)``."""
        return x + self.scale * self.net((x - self.mean) / self.std)


def _windows(states: np.ndarray, length: int) -> torch.Tensor:
    """All windows of ``length`` consecutive states: shape ``(n - length + 1, length, d)``."""
    idx = np.arange(states.shape[0] - length + 1)[:, None] + np.arange(length)
    return torch.as_tensor(states[idx], dtype=torch.float32)


def train_one_step(
    model: OneStepModel,
    states: np.ndarray,
    *,
    epochs: int,
    lr: float = 3e-3,
    horizon: int = 1,
    seed: int = 0,
    progress: Progress | None = None,
) -> list[float]:
    """Fit ``model`` to consecutive states (full batch, Adam); return the loss per epoch.

    With ``horizon = 1`` this is one-step training on the pairs ``(x_k, x_{k+1})``; with
    ``horizon > 1`` it is rollout fine-tuning: the model is iterated ``horizon`` times from
    every ``x_k`` and the loss is the mean squared error over all steps of the rollout,
    measured in units of the per-step change ``model.scale``.

    Parameters
    ----------
    states:
        The reconstructed sequence, shape ``(n, d)``, ``n > horizon``.
    """
    if horizon < 1 or states.shape[0] <= horizon:
        raise ConfigError(f"need 1 <= horizon < n, got horizon={horizon}, n={states.shape[0]}")
    torch.manual_seed(seed)
    windows = _windows(states, horizon + 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, max(1, epochs))
    losses: list[float] = []
    for epoch in range(epochs):
        x = windows[:, 0]
        loss = torch.zeros(())
        for step in range(1, horizon + 1):
            x = model(x)
            loss = loss + (((x - windows[:, step]) / model.scale) ** 2).mean()
        loss = loss / horizon
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(float(loss.detach()))
        if progress is not None and (epoch % max(1, epochs // 10) == 0 or epoch == epochs - 1):
            progress((epoch + 1) / epochs, f"epoch {epoch + 1}/{epochs}: loss {losses[-1]:.4g}")
    return losses


def rollout(
    step: Callable[[np.ndarray], np.ndarray] | nn.Module, x0: np.ndarray, steps: int
) -> np.ndarray:
    """Iterate a one-step model from initial states ``x0`` of shape ``(m, d)``.

    ``step`` is an :class:`OneStepModel` (or any torch module) or a numpy function.

    Returns
    -------
    np.ndarray
        Shape ``(m, steps + 1, d)``; index 0 is ``x0``.
    """
    out = [np.asarray(x0, dtype=float)]
    if isinstance(step, nn.Module):
        with torch.no_grad():
            x = torch.as_tensor(out[0], dtype=torch.float32)
            for _ in range(steps):
                x = step(x)
                out.append(x.numpy().astype(float))
    else:
        for _ in range(steps):
            out.append(np.asarray(step(out[-1]), dtype=float))
    return np.stack(out, axis=1)


def forecast_errors(
    step: Callable[[np.ndarray], np.ndarray] | nn.Module,
    analyses: np.ndarray,
    truth: np.ndarray,
    max_lead: int,
) -> np.ndarray:
    """RMSE by lead of forecasts started from every analysis state, verified on the truth.

    Parameters
    ----------
    analyses, truth:
        Analyses (initial states) and true states at the same times, shape ``(n, d)``.
    max_lead:
        Longest lead in steps.

    Returns
    -------
    np.ndarray
        RMSE for leads ``1..max_lead``, shape ``(max_lead,)``.
    """
    starts = analyses.shape[0] - max_lead
    forecasts = rollout(step, analyses[:starts], max_lead)[:, 1:]
    idx = np.arange(starts)[:, None] + np.arange(1, max_lead + 1)
    return np.sqrt(np.mean((forecasts - truth[idx]) ** 2, axis=(0, 2)))


def persistence(x: np.ndarray) -> np.ndarray:
    """The baseline model ``M(x) = x``."""
    return x


@dataclass
class LearnedForecast:
    """Result of :func:`learn_forecast_model`.

    Attributes
    ----------
    model:
        The trained one-step model (after rollout fine-tuning, if any).
    loss_one_step, loss_rollout:
        Training loss per epoch of the two stages (``loss_rollout`` empty without
        fine-tuning).
    errors_one_step, errors:
        Forecast RMSE by lead ``1..max_lead`` after the one-step stage and at the end,
        ``(max_lead,)``.
    """

    model: OneStepModel
    loss_one_step: list[float]
    loss_rollout: list[float]
    errors_one_step: np.ndarray
    errors: np.ndarray


def learn_forecast_model(
    train: np.ndarray,
    test: np.ndarray,
    test_truth: np.ndarray,
    *,
    hidden: Sequence[int],
    epochs: int,
    lr: float,
    rollout_epochs: int,
    rollout_lr: float,
    rollout_horizon: int,
    max_lead: int,
    seed: int,
    progress: Progress | None = None,
) -> LearnedForecast:
    """ORIGEN step 3: learn a one-step model from analyses, then fine-tune it on rollouts.

    The torch generator is seeded with ``seed`` before the model is built. Forecasts
    started from the ``test`` analyses are verified on ``test_truth`` after each stage.

    Parameters
    ----------
    train:
        Reconstructed training sequence ``(n_train, d)``.
    test, test_truth:
        Analyses and truth of the unseen period, ``(n_test, d)`` each.
    rollout_epochs:
        Epochs of rollout fine-tuning over ``rollout_horizon`` steps (0: none).
    progress:
        Called with the fraction done (0.7 after the one-step stage) and a message.
    """

    def report(start: float, span: float, prefix: str = "") -> Progress | None:
        if progress is None:
            return None
        return lambda f, msg: progress(start + span * f, prefix + msg)

    torch.manual_seed(seed)
    model = OneStepModel.for_sequence(train, hidden)
    one_step = train_one_step(
        model, train, epochs=epochs, lr=lr, seed=seed, progress=report(0.0, 0.7)
    )
    errors_one_step = forecast_errors(model, test, test_truth, max_lead)
    fine: list[float] = []
    if rollout_epochs:
        fine = train_one_step(
            model,
            train,
            epochs=rollout_epochs,
            lr=rollout_lr,
            horizon=rollout_horizon,
            seed=seed,
            progress=report(0.7, 0.3, "rollout "),
        )
    errors = forecast_errors(model, test, test_truth, max_lead)
    return LearnedForecast(model, one_step, fine, errors_one_step, errors)


def rollout_segments(
    step: Callable[[np.ndarray], np.ndarray] | nn.Module,
    states: np.ndarray,
    lead: int,
    count: int = 20,
) -> tuple[np.ndarray, np.ndarray]:
    """Back-to-back forecasts of ``lead`` steps started along a sequence of states.

    Forecasts start every ``lead`` steps within the first ``min(n, count * lead)``
    states (each must end inside that window).

    Parameters
    ----------
    states:
        Initial-state sequence ``(n, d)``, e.g. analyses.

    Returns
    -------
    starts, paths:
        Start indices ``(s,)`` and forecasts ``(s, lead + 1, d)`` (index 0: the start).
    """
    window = min(len(states), count * lead)
    starts = np.arange(0, window - lead, lead)
    return starts, rollout(step, states[starts], lead)
