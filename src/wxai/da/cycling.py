"""Twin experiments: simulate a truth and observations, cycle a method, score it.

The cycle follows DAPPER's conventions: the truth starts from a draw of the prior,
observations are taken every ``steps_per_obs`` model steps (the first one after
``steps_per_obs`` steps), the method starts from the prior and alternates model
steps with an analysis at each observation time. The score is the time mean, over
analysis times after the burn-in, of the spatial RMS of ``analysis mean - truth``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from wxai.core.errors import ConfigError, WxaiError
from wxai.core.typing import AssimilationMethod, PrognosticModel
from wxai.da.methods.base import FilterState, sample_gaussian
from wxai.da.operators import LinearObservation

#: An observation operator, or one per observation time, or a function of the cycle index.
ObsSpec = LinearObservation | Sequence[LinearObservation] | Callable[[int], LinearObservation]


class FilterDivergence(WxaiError, RuntimeError):
    """A filter diverged (non-finite state or error far above the climatological spread)."""


@dataclass(frozen=True)
class TwinSetup:
    """A twin-experiment configuration.

    Attributes
    ----------
    model:
        The prognostic model (truth and forecasts use the same one).
    dt:
        Model time step.
    steps_per_obs:
        Model steps between observation times.
    n_obs_times:
        Number of observation (analysis) times.
    obs:
        Observation operator(s), see :data:`ObsSpec`.
    prior_mean, prior_cov:
        The initial-state distribution ``(n,)``, ``(n, n)``: truth and filter start there.
    burn_in:
        Model time excluded from the score.
    """

    model: PrognosticModel
    dt: float
    steps_per_obs: int
    n_obs_times: int
    obs: ObsSpec
    prior_mean: np.ndarray
    prior_cov: np.ndarray
    burn_in: float = 0.0

    def operator(self, cycle: int) -> LinearObservation:
        """The observation operator at observation time ``cycle`` (0-based)."""
        if isinstance(self.obs, LinearObservation):
            return self.obs
        if callable(self.obs):
            return self.obs(cycle)
        return self.obs[cycle]

    @property
    def obs_times(self) -> np.ndarray:
        """Observation times ``(n_obs_times,)``."""
        return (np.arange(self.n_obs_times) + 1) * self.steps_per_obs * self.dt


@dataclass(frozen=True)
class Truth:
    """A simulated truth and its observations.

    Attributes
    ----------
    states:
        Truth at every model step, ``(K + 1, n)`` with ``K = n_obs_times * steps_per_obs``.
    y:
        Observations at the observation times, a list of ``(m_k,)`` arrays.
    operators:
        The operator used at each observation time.
    """

    states: np.ndarray
    y: list[np.ndarray]
    operators: list[LinearObservation]

    def at_obs(self, steps_per_obs: int) -> np.ndarray:
        """Truth at the observation times, ``(n_obs_times, n)``."""
        return self.states[steps_per_obs::steps_per_obs]


def simulate_truth(setup: TwinSetup, rng: np.random.Generator) -> Truth:
    """Draw the initial truth from the prior, integrate it and observe it."""
    x = sample_gaussian(np.asarray(setup.prior_mean, float), setup.prior_cov, 1, rng)[0]
    states = [x]
    ys, ops = [], []
    for k in range(setup.n_obs_times):
        for s in range(setup.steps_per_obs):
            t = (k * setup.steps_per_obs + s) * setup.dt
            x = setup.model.step(x, t, setup.dt)
            states.append(x)
        op = setup.operator(k)
        ops.append(op)
        ys.append(op.sample(x, rng))
    return Truth(np.array(states), ys, ops)


@dataclass
class CycleResult:
    """Statistics of one cycled run.

    Attributes
    ----------
    method:
        The method's name.
    times:
        Observation times ``(K,)``.
    analysis, forecast:
        Means at the observation times, ``(K, n)`` (rows after a divergence are NaN).
    rmse_a, rmse_f:
        Spatial RMS error of the analysis / forecast mean, ``(K,)``.
    spread_a:
        Analysis ensemble spread (RMS standard deviation), ``(K,)``.
    burn_in:
        Model time excluded from :attr:`score`.
    diverged:
        Whether the run was stopped because the filter diverged.
    diverged_at:
        Time of the divergence (``None`` if not diverged).
    cpu_seconds:
        Process CPU time of the cycling.
    """

    method: str
    times: np.ndarray
    analysis: np.ndarray
    forecast: np.ndarray
    rmse_a: np.ndarray
    rmse_f: np.ndarray
    spread_a: np.ndarray
    burn_in: float
    diverged: bool = False
    diverged_at: float | None = None
    message: str = ""
    cpu_seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def scored(self) -> np.ndarray:
        """Mask of the analysis times after the burn-in, ``(K,)``."""
        return self.times > self.burn_in

    @property
    def score(self) -> float:
        """Time-mean analysis RMSE after the burn-in (NaN if diverged or nothing scored)."""
        if self.diverged or not self.scored.any():
            return float("nan")
        return float(np.mean(self.rmse_a[self.scored]))

    @property
    def mean_spread(self) -> float:
        """Time-mean analysis spread after the burn-in (NaN if diverged or nothing scored)."""
        if self.diverged or not self.scored.any():
            return float("nan")
        return float(np.mean(self.spread_a[self.scored]))


def run_cycles(
    method: AssimilationMethod,
    setup: TwinSetup,
    truth: Truth,
    rng: np.random.Generator,
    *,
    divergence_factor: float = 1.0,
    divergence_window: int = 100,
    strict: bool = False,
) -> CycleResult:
    """Cycle ``method`` against ``truth`` and collect its statistics.

    Parameters
    ----------
    divergence_factor, divergence_window:
        The run counts as diverged (and stops) when the mean analysis RMSE over the last
        ``divergence_window`` analysis times exceeds ``divergence_factor`` times the
        truth's climatological standard deviation, i.e. the filter does no better than
        a random state of the attractor for that long; or when a state becomes
        non-finite or the linear algebra fails. Short excursions from which the
        filter recovers are kept in the score.
    strict:
        Raise :class:`FilterDivergence` instead of returning a result marked ``diverged``.
    """
    if setup.n_obs_times < 1 or setup.steps_per_obs < 1:
        raise ConfigError("a twin experiment needs n_obs_times >= 1 and steps_per_obs >= 1")
    clim = float(np.sqrt(truth.states.var(axis=0).mean())) or 1.0
    limit = divergence_factor * clim
    truth_obs = truth.at_obs(setup.steps_per_obs)
    n_times, n = truth_obs.shape
    analysis = np.full((n_times, n), np.nan)
    forecast = np.full((n_times, n), np.nan)
    spread = np.full(n_times, np.nan)
    errors = np.full(n_times, np.nan)
    diverged, when, message = False, None, ""
    cpu0 = time.process_time()
    state: FilterState = method.initialize(setup.prior_mean, setup.prior_cov, rng)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(n_times):
            try:
                for s in range(setup.steps_per_obs):
                    t = (k * setup.steps_per_obs + s) * setup.dt
                    state = method.forecast(state, setup.model, t, setup.dt, rng)
                forecast[k] = method.mean(state)
                state = method.analyse(state, truth.y[k], truth.operators[k], rng)
                analysis[k] = method.mean(state)
                spread[k] = state.spread if isinstance(state, FilterState) else np.nan
            except (np.linalg.LinAlgError, FloatingPointError, ValueError) as exc:
                diverged, message = True, f"{type(exc).__name__}: {exc}"
            errors[k] = float(np.sqrt(np.mean((analysis[k] - truth_obs[k]) ** 2)))
            recent = errors[max(0, k + 1 - divergence_window) : k + 1]
            if not diverged and not np.isfinite(errors[k]):
                diverged, message = True, "non-finite analysis"
            elif not diverged and k + 1 >= divergence_window and recent.mean() > limit:
                diverged = True
                message = (
                    f"mean analysis RMSE {recent.mean():.3g} over {divergence_window} cycles "
                    f"above {limit:.3g} (climatological std x {divergence_factor})"
                )
            if diverged:
                when = float(setup.obs_times[k])
                analysis[k:] = np.nan
                break
    cpu = time.process_time() - cpu0
    rmse_a = np.sqrt(np.mean((analysis - truth_obs) ** 2, axis=1))
    rmse_f = np.sqrt(np.mean((forecast - truth_obs) ** 2, axis=1))
    result = CycleResult(
        method=method.name,
        times=setup.obs_times,
        analysis=analysis,
        forecast=forecast,
        rmse_a=rmse_a,
        rmse_f=rmse_f,
        spread_a=spread,
        burn_in=setup.burn_in,
        diverged=diverged,
        diverged_at=when,
        message=message,
        cpu_seconds=cpu,
    )
    if diverged and strict:
        raise FilterDivergence(f"{method.name} diverged at t = {when}: {message}")
    return result
