"""A learned right-hand side ``x' = f_theta(x)`` integrated with RK4 (lecture 19, part III).

A small network (an MLP between input and output standardisation) is fitted to pairs
``(x, x')`` of a known vector field, either along one trajectory (the data only cover the
attractor) or at points drawn uniformly in a box around it (the field is constrained off
the attractor too). :class:`NeuralRHS` integrates the learned field with
:func:`wxai.da.models.rk4_step` and satisfies :class:`~wxai.core.typing.PrognosticModel`,
so the assimilation methods of :mod:`wxai.da` can cycle with it.

Diagnostics compare a learned model with the true one: RMSE against lead time from many
initial states (:func:`error_growth`, with persistence and climatology as baselines, and
:func:`valid_time`), climate statistics of long free runs (:func:`free_run_climate`,
:func:`compare_climates`) and errors from states off the attractor
(:func:`off_attractor_states`). States have shape ``(..., n)``; time is in model units.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from scipy.spatial import cKDTree
from scipy.stats import wasserstein_distance

from wxai.core.errors import ConfigError, DataFormatError
from wxai.core.typing import PrognosticModel
from wxai.da.models import rk4_step
from wxai.nn.mlp import MLP
from wxai.physics.rollout import integrate
from wxai.train.normalize import NormalizedRegressor, Normalizer

__all__ = [
    "ClimateComparison",
    "ErrorGrowth",
    "FittedRHS",
    "NeuralRHS",
    "StateBox",
    "VectorFieldModel",
    "compare_climates",
    "error_growth",
    "fit_neural_rhs",
    "free_run_climate",
    "integrate",
    "off_attractor_states",
    "tendency_pairs",
    "trajectory",
    "valid_time",
]


class VectorFieldModel(PrognosticModel, Protocol):
    """A prognostic model whose tendency is known (e.g. :class:`wxai.da.models.Lorenz63`)."""

    def rhs(self, x: np.ndarray, t: float = 0.0) -> np.ndarray:
        """Tendency ``dx/dt`` of states ``(..., n)``."""
        ...


def _states(x: object, n: int | None = None, *, name: str = "x") -> np.ndarray:
    """``x`` as a float array ``(..., n)``, or a DataFormatError naming what is wrong."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 0:
        raise DataFormatError(f"{name} must have shape (..., n), got a scalar")
    if n is not None and arr.shape[-1] != n:
        raise DataFormatError(
            f"{name} must have shape (..., {n}) (last axis = state vector), got {arr.shape}"
        )
    return arr


def _samples(x: object, *, name: str) -> np.ndarray:
    """A non-empty, finite sample of states ``(m, n)``."""
    arr = _states(x, name=name)
    if arr.ndim != 2:
        raise DataFormatError(f"{name} must have shape (samples, n), got {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise DataFormatError(f"{name} is empty (shape {arr.shape}); give at least one state")
    if not np.all(np.isfinite(arr)):
        raise DataFormatError(f"{name} holds non-finite values")
    return arr


@dataclass(frozen=True)
class StateBox:
    """An axis-aligned box in state space, ``lower <= x <= upper`` (each ``(n,)``)."""

    lower: np.ndarray
    upper: np.ndarray

    def __post_init__(self) -> None:
        if np.shape(self.lower) != np.shape(self.upper) or np.ndim(self.lower) != 1:
            raise ConfigError("box bounds must be two vectors of the same length")
        if not np.all(np.asarray(self.upper) > np.asarray(self.lower)):
            raise ConfigError("every upper bound of the box must exceed its lower bound")

    @classmethod
    def around(cls, states: np.ndarray, margin: float) -> StateBox:
        """The bounding box of ``states`` ``(m, n)`` widened by ``margin`` x its range per side."""
        states = _samples(states, name="trajectory")
        if margin < 0:
            raise ConfigError(f"margin must be >= 0, got {margin}")
        lo, hi = states.min(axis=0), states.max(axis=0)
        pad = margin * np.maximum(hi - lo, 1e-12)
        return cls(lo - pad, hi + pad)

    @property
    def size(self) -> int:
        """Dimension ``n``."""
        return int(np.size(self.lower))

    def sample(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """``count`` uniform draws in the box, ``(count, n)``."""
        if count < 1:
            raise ConfigError(f"count must be >= 1, got {count}")
        return rng.uniform(self.lower, self.upper, size=(count, self.size))

    def contains(self, x: np.ndarray) -> np.ndarray:
        """Whether each state of ``x`` ``(..., n)`` lies in the box, ``(...)`` booleans."""
        x = _states(x, self.size)
        return np.all((x >= self.lower) & (x <= self.upper), axis=-1)

    def scaled(self, factor: float) -> StateBox:
        """The box with the same centre and ``factor`` times the width."""
        centre, half = (self.lower + self.upper) / 2, (self.upper - self.lower) / 2
        return StateBox(centre - factor * half, centre + factor * half)


def trajectory(
    model: PrognosticModel, x0: np.ndarray, *, n_steps: int, dt: float, spinup_steps: int = 0
) -> np.ndarray:
    """One trajectory of ``n_steps`` states ``(n_steps, n)`` after ``spinup_steps`` discarded."""
    if n_steps < 1:
        raise ConfigError(f"a trajectory needs n_steps >= 1, got {n_steps}")
    x0 = _states(x0, model.state_size, name="x0")
    if x0.ndim != 1:
        raise DataFormatError(f"x0 must be one state of shape ({model.state_size},)")
    start = integrate(model, x0, spinup_steps, dt)[-1]
    return integrate(model, start, n_steps - 1, dt, t0=spinup_steps * dt)


def tendency_pairs(model: VectorFieldModel, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Training pairs ``(x, x')`` ``((m, n), (m, n))`` from the true tendency at ``states``."""
    states = _samples(states, name="states")
    return states, np.asarray(model.rhs(states, 0.0), dtype=float)


class NeuralRHS:
    """The prognostic model ``x' = f_theta(x)``, one RK4 step per :meth:`step`.

    Parameters
    ----------
    network:
        Torch module ``(..., n) -> (..., n)`` mapping states to tendencies in model units
        (e.g. a :class:`~wxai.train.normalize.NormalizedRegressor`); used in eval mode.
    state_size:
        ``n``.

    Notes
    -----
    States are NumPy arrays ``(..., n)`` (an ensemble ``(N, n)`` advances in one call);
    the network runs in float32 and results come back as float64. The vector field is
    autonomous: ``t`` is accepted and ignored.
    """

    def __init__(self, network: torch.nn.Module, state_size: int) -> None:
        if state_size < 1:
            raise ConfigError(f"state_size must be >= 1, got {state_size}")
        self.network = network.eval()
        self._n = int(state_size)

    @property
    def state_size(self) -> int:
        """Length ``n`` of the state vector."""
        return self._n

    def rhs(self, x: np.ndarray, t: float = 0.0) -> np.ndarray:
        """Learned tendency ``f_theta(x)`` of states ``(..., n)``, same shape (units / time)."""
        x = _states(x, self._n)
        with torch.inference_mode():
            out = self.network(torch.as_tensor(x, dtype=torch.float32))
        return out.numpy().astype(float)

    def step(self, x: np.ndarray, t: float, dt: float) -> np.ndarray:
        """States ``(..., n)`` advanced by one RK4 step of length ``dt``."""
        return rk4_step(self.rhs, _states(x, self._n), t, dt)


@dataclass(frozen=True)
class FittedRHS:
    """A trained :class:`NeuralRHS` and its training record.

    Attributes
    ----------
    model:
        The learned prognostic model.
    losses:
        Mean squared error of the standardised tendencies at each loss evaluation.
    relative_error:
        RMS of ``f_theta(x) - x'`` over the RMS of ``x'`` on the training pairs.
    """

    model: NeuralRHS
    losses: list[float]
    relative_error: float


def fit_neural_rhs(
    states: np.ndarray,
    tendencies: np.ndarray,
    *,
    hidden: Sequence[int] = (64, 64),
    activation: str = "silu",
    iterations: int = 1000,
    seed: int = 0,
    progress: Callable[[float, str], None] | None = None,
) -> FittedRHS:
    """Fit ``f_theta`` to pairs ``(x, x')`` by mean squared error on standardised values.

    The training set of a vector field is small and noise-free, so the whole set is one
    batch and :class:`torch.optim.LBFGS` (strong-Wolfe line search) minimises the loss;
    it reaches relative errors near 1e-3 in a few seconds where Adam needs minutes.

    Parameters
    ----------
    states, tendencies:
        Training pairs, both ``(m, n)`` (state units, state units per time unit).
    hidden, activation:
        Hidden layer sizes and activation of the MLP (a smooth one keeps RK4 accurate).
    iterations:
        L-BFGS iterations.
    seed:
        Seed of the initial weights.
    progress:
        Called as ``progress(fraction, message)`` about ten times.

    Raises
    ------
    DataFormatError
        Empty or non-finite pairs, or shapes that do not match.
    """
    x = _samples(states, name="states")
    dx = _samples(tendencies, name="tendencies")
    if x.shape != dx.shape:
        raise DataFormatError(f"states {x.shape} and tendencies {dx.shape} must have one shape")
    if x.shape[0] < 2:
        raise DataFormatError(f"need at least 2 training pairs, got {x.shape[0]}")
    if iterations < 1:
        raise ConfigError(f"iterations must be >= 1, got {iterations}")
    n = x.shape[1]
    xt, dxt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(dx, dtype=torch.float32)
    torch.manual_seed(seed)
    net = NormalizedRegressor(
        MLP(n, n, hidden, act=activation), Normalizer.fit(xt), Normalizer.fit(dxt)
    )
    zx, zdx = net.normalized_pairs(xt, dxt)
    optimizer = torch.optim.LBFGS(
        net.net.parameters(),
        lr=1.0,
        max_iter=iterations,
        history_size=50,
        tolerance_grad=1e-10,
        tolerance_change=1e-14,
        line_search_fn="strong_wolfe",
    )
    losses: list[float] = []
    every = max(1, iterations // 10)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = torch.mean((net.net(zx) - zdx) ** 2)
        loss.backward()
        losses.append(loss.detach().item())
        if progress is not None and len(losses) % every == 0:
            progress(min(len(losses) / iterations, 1.0), f"mse {losses[-1]:.3g}")
        return loss

    net.train()
    optimizer.step(closure)
    model = NeuralRHS(net, n)
    misfit = model.rhs(x) - dx
    relative = float(np.sqrt(np.mean(misfit**2) / np.mean(dx**2)))
    return FittedRHS(model, losses, relative)


@dataclass(frozen=True)
class ErrorGrowth:
    """RMSE against lead time of several forecasts of the same true runs.

    Attributes
    ----------
    lead_times:
        ``(L + 1,)`` model time units, from 0.
    rmse:
        Per forecast name, the RMS over initial states and components of
        ``forecast - truth``, ``(L + 1,)`` (state units).
    """

    lead_times: np.ndarray
    rmse: dict[str, np.ndarray]

    def at(self, name: str, lead_time: float) -> float:
        """The RMSE of forecast ``name`` at the lead nearest ``lead_time``."""
        if name not in self.rmse:
            raise ConfigError(f"no forecast {name!r}; have {sorted(self.rmse)}")
        return float(self.rmse[name][int(np.argmin(np.abs(self.lead_times - lead_time)))])


def _rmse_by_lead(forecast: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """RMS over all but the first (lead) axis; a non-finite member makes the lead infinite."""
    with np.errstate(over="ignore", invalid="ignore"):
        err = np.sqrt(np.mean((forecast - truth) ** 2, axis=tuple(range(1, truth.ndim))))
    return np.where(np.isfinite(err), err, np.inf)


def error_growth(
    models: Mapping[str, PrognosticModel],
    truth_model: PrognosticModel,
    x0: np.ndarray,
    *,
    n_steps: int,
    dt: float,
    climate_mean: np.ndarray | None = None,
) -> ErrorGrowth:
    """RMSE by lead of each model against ``truth_model`` from the same initial states.

    Parameters
    ----------
    models:
        Forecast models by name.
    truth_model:
        The reference model; persistence (``x0`` kept) is always added as a baseline.
    x0:
        Initial states ``(N, n)``.
    climate_mean:
        ``(n,)``: adds the climatological-mean forecast as a second baseline.
    """
    x0 = _samples(x0, name="x0")
    truth = integrate(truth_model, x0, n_steps, dt)
    rmse = {name: _rmse_by_lead(integrate(m, x0, n_steps, dt), truth) for name, m in models.items()}
    rmse["persistence"] = _rmse_by_lead(np.broadcast_to(x0, truth.shape), truth)
    if climate_mean is not None:
        mean = _states(climate_mean, x0.shape[1], name="climate_mean")
        rmse["climatology"] = _rmse_by_lead(np.broadcast_to(mean, truth.shape), truth)
    return ErrorGrowth(np.arange(n_steps + 1) * dt, rmse)


def valid_time(lead_times: np.ndarray, rmse: np.ndarray, threshold: float) -> float:
    """The first lead time at which ``rmse`` reaches ``threshold`` (the predictability horizon).

    Returns ``inf`` if the error stays below the threshold over all leads given.
    """
    above = np.flatnonzero(np.asarray(rmse) >= threshold)
    return float(lead_times[above[0]]) if above.size else float("inf")


def free_run_climate(
    model: PrognosticModel,
    x0: np.ndarray,
    *,
    n_steps: int,
    dt: float,
    spinup_steps: int = 0,
    every: int = 1,
    bounds: StateBox | None = None,
) -> tuple[np.ndarray, int]:
    """Climate sample of long free runs from an ensemble of starts.

    Parameters
    ----------
    x0:
        Starting states ``(N, n)``, all run together.
    n_steps, spinup_steps, every:
        Kept steps after a discarded spin-up, and the thinning of the kept states.
    bounds:
        Members that ever leave this box (or become non-finite) are dropped.

    Returns
    -------
    (samples, escaped)
        The kept states ``(m, n)`` of the surviving members and the number of members
        that escaped.
    """
    runs = integrate(model, _samples(x0, name="x0"), spinup_steps + n_steps, dt)
    inside = np.all(np.isfinite(runs), axis=(0, 2))
    if bounds is not None:
        with np.errstate(invalid="ignore"):
            inside &= np.all(bounds.contains(np.nan_to_num(runs, nan=np.inf)), axis=0)
    kept = runs[spinup_steps + 1 :: every, inside]
    return kept.reshape(-1, runs.shape[-1]), int((~inside).sum())


@dataclass(frozen=True)
class ClimateComparison:
    """Marginal statistics of a model's climate against the reference, per component ``(n,)``.

    Attributes
    ----------
    mean_ref, mean_model, std_ref, std_model:
        Means and standard deviations (state units).
    wasserstein:
        1-Wasserstein distance between the marginal distributions (state units).
    """

    mean_ref: np.ndarray
    mean_model: np.ndarray
    std_ref: np.ndarray
    std_model: np.ndarray
    wasserstein: np.ndarray

    @property
    def mean_error(self) -> np.ndarray:
        """``|mean_model - mean_ref|`` ``(n,)``."""
        return np.abs(self.mean_model - self.mean_ref)

    @property
    def variance_ratio(self) -> np.ndarray:
        """``var_model / var_ref`` ``(n,)``."""
        return (self.std_model / self.std_ref) ** 2


def compare_climates(reference: np.ndarray, model: np.ndarray) -> ClimateComparison:
    """Means, spreads and marginal Wasserstein distances of two climate samples ``(m, n)``."""
    ref = _samples(reference, name="reference climate")
    mod = _samples(model, name="model climate")
    if ref.shape[1] != mod.shape[1]:
        raise DataFormatError(f"climates of {ref.shape[1]} and {mod.shape[1]} components")
    w1 = np.array([wasserstein_distance(ref[:, j], mod[:, j]) for j in range(ref.shape[1])])
    return ClimateComparison(ref.mean(0), mod.mean(0), ref.std(0), mod.std(0), w1)


def off_attractor_states(
    box: StateBox,
    attractor: np.ndarray,
    count: int,
    *,
    min_distance: float,
    rng: np.random.Generator,
    max_draws: int = 1_000_000,
) -> np.ndarray:
    """``count`` uniform states in ``box`` at least ``min_distance`` from every attractor sample.

    Parameters
    ----------
    attractor:
        States on the attractor ``(m, n)`` (a long trajectory).
    min_distance:
        Euclidean distance to the nearest attractor sample (state units).
    max_draws:
        Give up (ConfigError) after this many candidates.

    Returns
    -------
    numpy.ndarray
        ``(count, n)``.
    """
    tree = cKDTree(_samples(attractor, name="attractor"))
    kept: list[np.ndarray] = []
    total, drawn = 0, 0
    while total < count:
        if drawn >= max_draws:
            raise ConfigError(
                f"only {total} of {count} box states lie {min_distance} away from the "
                "attractor; lower min_distance or widen the box"
            )
        batch = box.sample(max(4 * count, 256), rng)
        drawn += len(batch)
        far = batch[tree.query(batch)[0] >= min_distance]
        kept.append(far)
        total += len(far)
    return np.concatenate(kept)[:count]
