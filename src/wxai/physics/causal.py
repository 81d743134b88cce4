"""Cause, not correlation: lagged causal discovery on coupled toy time series (lecture 19, IV).

Two structural causal models (SCMs) of a forcing ``F``, precipitation ``P`` and
temperature ``T`` produce series with similar ``P``-``T`` correlations but different
causes. Both are linear with lags and Gaussian noise; all quantities are dimensionless
anomalies (unit-variance noise, one time step = one unit of time, e.g. a day)::

    F(t) = 0.7 F(t-1)                + e_F(t)
    P(t) = 0.5 P(t-1) + 0.8 F(t-1)   + e_P(t)
    T(t) = 0.6 T(t-1) + 0.25 P(t-2)  + e_T(t)     scenario "p_drives_t"
    T(t) = 0.6 T(t-1) + 0.45 F(t-3)  + e_T(t)     scenario "common_driver"

with ``e_X(t) ~ N(0, 1)`` independent. In ``common_driver`` T follows F three steps
later and P follows F one step later, so T trails P by two steps exactly as in
``p_drives_t``, yet P has no effect on T.

Three methods return the directed lagged cross-links ``(source, target, lag)`` they find:

- :func:`naive_lagged_regression`: regress each variable on each other one at each lag,
  one pair at a time, and keep significant slopes. The pitfall: a common driver makes
  ``P -> T`` look significant.
- :func:`pcmci_links`: PCMCI with partial-correlation tests (tigramite, the optional
  ``causal`` extra, imported only when called).
- :func:`innovation_links`: a neural innovation method. A small network per variable
  removes its own past (autoregression); a sparse (L1) linear model explains the
  innovations from the other variables' past; each link it keeps must pass a
  partial-correlation test.

Links, scoring and conventions (used throughout, see :func:`score_links`):

- a link ``(source, target, lag)`` means ``source(t - lag)`` enters ``target(t)``;
  lags run from 1 to ``tau_max`` (no contemporaneous links);
- only cross-links (``source != target``) are reported and scored: every variable has
  memory in both scenarios, so counting self-links would only inflate the scores;
- a found link is correct only if source, target *and lag* match a true link.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import xarray as xr
from scipy import stats

from wxai.core.errors import ConfigError, DataFormatError, MissingExtra, UnknownNameError

__all__ = [
    "METHODS",
    "SCENARIOS",
    "VARIABLES",
    "DiscoveredGraph",
    "LaggedSCM",
    "Link",
    "LinkScore",
    "discover",
    "get_scenario",
    "innovation_links",
    "lagged_correlation",
    "min_time_steps",
    "naive_lagged_regression",
    "pcmci_links",
    "score_links",
    "simulate_scenario",
]

#: A directed lagged link: ``source(t - lag)`` drives ``target(t)``.
Link = tuple[str, str, int]

#: Variables of the scenarios: forcing, precipitation, temperature (dimensionless).
VARIABLES: tuple[str, ...] = ("F", "P", "T")

#: Degrees of freedom a regression must keep beyond its lagged regressors.
_SPARE_DOF = 20


@dataclass(frozen=True)
class LaggedSCM:
    """A linear structural causal model with lags and independent Gaussian noise.

    ``x_j(t) = sum over links (i, j, lag) of c * x_i(t - lag) + noise_std * e_j(t)``.

    Attributes
    ----------
    name, description:
        Scenario name and a one-line statement of its physics.
    coefficients:
        ``(source, target, lag) -> c`` (dimensionless), self-links included.
    variables:
        Variable names, in column order.
    noise_std:
        Standard deviation of every noise term (dimensionless).
    """

    name: str
    description: str
    coefficients: Mapping[Link, float]
    variables: tuple[str, ...] = VARIABLES
    noise_std: float = 1.0

    @property
    def max_lag(self) -> int:
        """Longest lag of any link (time steps)."""
        return max(lag for _, _, lag in self.coefficients)

    @property
    def cross_links(self) -> frozenset[Link]:
        """The true graph as scored: links between different variables."""
        return frozenset(link for link in self.coefficients if link[0] != link[1])


_MEMORY: dict[Link, float] = {("F", "F", 1): 0.7, ("P", "P", 1): 0.5, ("T", "T", 1): 0.6}

#: The two scenarios of the lecture, by name.
SCENARIOS: dict[str, LaggedSCM] = {
    "p_drives_t": LaggedSCM(
        "p_drives_t",
        "F drives P, P drives T two steps later",
        {**_MEMORY, ("F", "P", 1): 0.8, ("P", "T", 2): 0.25},
    ),
    "common_driver": LaggedSCM(
        "common_driver",
        "F drives P (lag 1) and T (lag 3); P does not drive T",
        {**_MEMORY, ("F", "P", 1): 0.8, ("F", "T", 3): 0.45},
    ),
}


def get_scenario(name: str) -> LaggedSCM:
    """The scenario called ``name`` (see :data:`SCENARIOS`)."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise UnknownNameError("scenario", name, SCENARIOS) from None


def simulate_scenario(
    scenario: str | LaggedSCM, n_time: int, rng: np.random.Generator, *, burn_in: int = 200
) -> xr.Dataset:
    """Simulate ``n_time`` steps of a scenario after ``burn_in`` steps started at zero.

    Returns
    -------
    xarray.Dataset
        One dimensionless variable per name in ``scm.variables``, each of shape
        ``(time,)`` with ``time = 0 .. n_time - 1`` (steps); attribute ``scenario``.
    """
    scm = get_scenario(scenario) if isinstance(scenario, str) else scenario
    if n_time < 1 or burn_in < 0:
        raise ConfigError(f"need n_time >= 1 and burn_in >= 0, got {n_time} and {burn_in}")
    column = {name: j for j, name in enumerate(scm.variables)}
    total, start = n_time + burn_in, scm.max_lag
    x = np.zeros((total + start, len(scm.variables)))
    x[start:] = scm.noise_std * rng.standard_normal((total, len(scm.variables)))
    terms = [(column[s], column[t], lag, c) for (s, t, lag), c in scm.coefficients.items()]
    for step in range(start, total + start):
        for source, target, lag, c in terms:
            x[step, target] += c * x[step - lag, source]
    kept = x[start + burn_in :]
    data = {name: ("time", kept[:, j], {"units": "1"}) for name, j in column.items()}
    return xr.Dataset(data, coords={"time": np.arange(n_time)}, attrs={"scenario": scm.name})


def lagged_correlation(x: np.ndarray, y: np.ndarray, max_lag: int) -> np.ndarray:
    """Pearson correlation of ``x(t - lag)`` with ``y(t)`` for ``lag = 0 .. max_lag``.

    ``x`` and ``y`` have shape ``(n,)``; returns shape ``(max_lag + 1,)``.
    """
    (x, y), _ = _validated({"x": x, "y": y}, max(max_lag, 1))
    n = len(x)
    return np.array([np.corrcoef(x[: n - lag], y[lag:])[0, 1] for lag in range(max_lag + 1)])


def min_time_steps(n_variables: int, tau_max: int) -> int:
    """Shortest series the methods accept: ``tau_max`` lost steps, then one regressor per
    (variable, lag) plus :data:`_SPARE_DOF` degrees of freedom."""
    return tau_max + n_variables * tau_max + _SPARE_DOF


def _validated(series: Mapping[str, Any], tau_max: int) -> tuple[list[np.ndarray], list[str]]:
    """The series as equally long, finite, non-constant float arrays, with their names."""
    if isinstance(tau_max, bool) or not isinstance(tau_max, int | np.integer) or tau_max < 1:
        raise ConfigError(f"tau_max must be an integer >= 1 (time steps), got {tau_max!r}")
    names = [str(name) for name in series]
    if len(names) < 2:
        raise DataFormatError(f"need at least two series to find links, got {names}")
    arrays = [np.asarray(series[name], dtype=float) for name in series]
    for name, arr in zip(names, arrays, strict=True):
        if arr.ndim != 1:
            raise DataFormatError(f"series {name!r} must be 1-D (time,), got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise DataFormatError(f"series {name!r} has NaN or infinite values; fill them first")
    lengths = {name: len(arr) for name, arr in zip(names, arrays, strict=True)}
    if len(set(lengths.values())) > 1:
        raise DataFormatError(f"the series have different lengths {lengths}; align them first")
    needed = min_time_steps(len(names), tau_max)
    if arrays[0].shape[0] < needed:
        raise DataFormatError(
            f"series of {arrays[0].shape[0]} steps are too short for tau_max={tau_max} with "
            f"{len(names)} variables: need at least {needed}; use longer series or a smaller "
            "tau_max"
        )
    for name, arr in zip(names, arrays, strict=True):
        if np.ptp(arr) <= 1e-12 * max(1.0, float(np.abs(arr).max())):
            raise DataFormatError(f"series {name!r} is constant; it carries no information")
    return arrays, names


def _check_alpha(alpha: float, name: str = "alpha") -> None:
    if not 0.0 < alpha < 1.0:
        raise ConfigError(f"{name} must lie in (0, 1) (a significance level), got {alpha}")


@dataclass(frozen=True)
class DiscoveredGraph:
    """The cross-links a method keeps, with the statistic and p-value of every tested one.

    Attributes
    ----------
    method:
        Name of the method (a key of :data:`METHODS`).
    variables:
        Variable names of the input.
    links:
        The kept cross-links ``(source, target, lag)``.
    strength:
        Per tested cross-link: correlation (naive), partial correlation (PCMCI, innovation).
    p_value:
        Per tested cross-link; links missing here were not tested (e.g. dropped by the
        sparse fit of the innovation method).
    """

    method: str
    variables: tuple[str, ...]
    links: frozenset[Link]
    strength: Mapping[Link, float] = field(default_factory=dict)
    p_value: Mapping[Link, float] = field(default_factory=dict)


def _cross_candidates(names: list[str], tau_max: int) -> list[Link]:
    return [
        (s, t, lag) for s, t in itertools.permutations(names, 2) for lag in range(1, tau_max + 1)
    ]


def naive_lagged_regression(
    series: Mapping[str, Any], tau_max: int, alpha: float
) -> DiscoveredGraph:
    """The pitfall: regress ``target(t)`` on ``source(t - lag)`` alone, pair by pair.

    Every ordered pair of different variables and every lag ``1 .. tau_max`` gets a
    simple least-squares regression (:func:`scipy.stats.linregress`); a link is kept when
    the slope's two-sided p-value is below ``alpha``. Nothing is conditioned on, so
    common drivers and each variable's memory produce links that are not causal.

    Parameters
    ----------
    series:
        Name -> series of shape ``(time,)`` (a mapping or an :class:`xarray.Dataset`).
    tau_max:
        Longest lag tested (steps).
    alpha:
        Significance level of each test.
    """
    arrays, names = _validated(series, tau_max)
    _check_alpha(alpha)
    column = dict(zip(names, arrays, strict=True))
    n = len(arrays[0])
    strength, p_value = {}, {}
    for link in _cross_candidates(names, tau_max):
        source, target, lag = link
        fit = stats.linregress(column[source][: n - lag], column[target][lag:])
        strength[link], p_value[link] = float(fit.rvalue), float(fit.pvalue)
    links = frozenset(link for link, p in p_value.items() if p < alpha)
    return DiscoveredGraph("naive", tuple(names), links, strength, p_value)


def pcmci_links(
    series: Mapping[str, Any], tau_max: int, alpha: float, *, pc_alpha: float = 0.05
) -> DiscoveredGraph:
    """PCMCI (tigramite) with partial-correlation (ParCorr) tests, lags ``1 .. tau_max``.

    The PC stage selects each variable's parents at level ``pc_alpha``; the MCI stage
    tests every lagged link conditioned on the parents of both ends, and a link is kept
    when its p-value is below ``alpha`` (no false-discovery correction). Self-links are
    part of the search but not of the result.

    Raises
    ------
    MissingExtra
        If tigramite (GPL-3.0, the ``causal`` extra) is not installed.
    """
    arrays, names = _validated(series, tau_max)
    _check_alpha(alpha)
    _check_alpha(pc_alpha, "pc_alpha")
    try:
        from tigramite import data_processing
        from tigramite.independence_tests.parcorr import ParCorr
        from tigramite.pcmci import PCMCI
    except ImportError:
        raise MissingExtra("tigramite", "causal") from None
    frame = data_processing.DataFrame(np.column_stack(arrays), var_names=names)
    pcmci = PCMCI(dataframe=frame, cond_ind_test=ParCorr(significance="analytic"), verbosity=0)
    result = pcmci.run_pcmci(tau_min=1, tau_max=tau_max, pc_alpha=pc_alpha, alpha_level=alpha)
    index = {name: i for i, name in enumerate(names)}
    strength, p_value = {}, {}
    for link in _cross_candidates(names, tau_max):
        i, j, lag = index[link[0]], index[link[1]], link[2]
        strength[link] = float(result["val_matrix"][i, j, lag])
        p_value[link] = float(result["p_matrix"][i, j, lag])
    links = frozenset(link for link, p in p_value.items() if p < alpha)
    return DiscoveredGraph("pcmci", tuple(names), links, strength, p_value)


def _lag_matrix(x: np.ndarray, tau_max: int) -> np.ndarray:
    """``x(t - lag)`` for ``t = tau_max .. n - 1`` and ``lag = 1 .. tau_max``: ``(n - tau_max,
    tau_max)``."""
    n = len(x)
    return np.column_stack([x[tau_max - lag : n - lag] for lag in range(1, tau_max + 1)])


class _StackedNetworks(torch.nn.Module):
    """``b`` independent networks ``n_in -> hidden -> 1`` (tanh), or linear maps if hidden
    is 0, evaluated together: input ``(b, m, n_in)`` -> output ``(b, m)``."""

    def __init__(self, b: int, n_in: int, hidden: int) -> None:
        super().__init__()
        width = hidden or 1
        bound = 1.0 / np.sqrt(n_in)
        first = torch.empty(b, width, n_in).uniform_(-bound, bound)
        self.first = torch.nn.Parameter(first)
        self.first_bias = torch.nn.Parameter(torch.zeros(b, width, 1))
        self.hidden = hidden
        if hidden:
            last = torch.empty(b, 1, hidden).uniform_(-1 / np.sqrt(hidden), 1 / np.sqrt(hidden))
            self.last = torch.nn.Parameter(last)
            self.last_bias = torch.nn.Parameter(torch.zeros(b, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply model ``k`` to ``x[k]`` for every ``k``: ``(b, m, n_in) -> (b, m)``."""
        h = self.first @ x.transpose(1, 2) + self.first_bias
        if self.hidden:
            h = self.last @ torch.tanh(h) + self.last_bias
        return h.squeeze(1)


def _fit_least_squares(
    model: _StackedNetworks, inputs: torch.Tensor, target: torch.Tensor, *, epochs: int, lr: float
) -> None:
    """Full-batch Adam on the mean squared error of ``model(inputs)`` against ``target``."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        optimizer.zero_grad()
        torch.mean((model(inputs) - target) ** 2).backward()
        optimizer.step()


def _partial_correlation_test(
    y: np.ndarray, x: np.ndarray, conditions: np.ndarray
) -> tuple[float, float]:
    """Partial correlation of ``y`` and ``x`` (each ``(m,)``) given ``conditions`` ``(m, k)``
    and its two-sided p-value (Student t with ``m - 2 - k`` degrees of freedom)."""
    design = np.column_stack([np.ones(len(y)), conditions])
    residuals = [v - design @ np.linalg.lstsq(design, v, rcond=None)[0] for v in (y, x)]
    r = float(np.corrcoef(*residuals)[0, 1])
    dof = len(y) - 2 - conditions.shape[1]
    t = r * np.sqrt(dof / max(1.0 - r * r, 1e-300))
    return r, float(2 * stats.t.sf(abs(t), dof))


def innovation_links(
    series: Mapping[str, Any],
    tau_max: int,
    alpha: float,
    *,
    hidden: int = 8,
    epochs: int = 300,
    lr: float = 0.02,
    sparsity: float = 0.1,
    seed: int = 0,
) -> DiscoveredGraph:
    """Neural innovation method: remove each variable's own past, explain the rest sparsely.

    For every target ``x_j`` (all series standardised to zero mean and unit variance):

    1. an MLP ``g_j`` on the target's own lags ``x_j(t-1 .. t-tau_max)`` is fitted by least
       squares (Adam); the innovation is ``e_j(t) = x_j(t) - g_j(...)``;
    2. a linear model of the other variables' lags is fitted to ``e_j`` with an L1 penalty
       ``sparsity * sum |w|`` (one weight per ``(source, lag)``, scikit-learn's Lasso);
       a weight at zero drops its link;
    3. each surviving ``(source, lag)`` is kept if the partial correlation of ``e_j`` and
       ``source(t - lag)`` given the target's own lags and the other survivors has a
       p-value below ``alpha``. Conditioning on the own lags removes the memory that an
       imperfect step 1 leaves in ``e_j``.

    Parameters
    ----------
    series:
        Name -> series of shape ``(time,)``.
    tau_max:
        Longest lag (steps).
    alpha:
        Significance level of the final test of each link.
    hidden:
        Hidden units of the autoregressive MLPs (0: linear autoregression).
    epochs, lr:
        Full-batch Adam steps and learning rate of the autoregressive fit.
    sparsity:
        L1 weight of step 2 (dimensionless: the data are standardised). A weight stays at
        zero unless its input's covariance with the residual exceeds ``sparsity / 2``.
    seed:
        Seed of the network initialisation (``torch.manual_seed``).
    """
    arrays, names = _validated(series, tau_max)
    _check_alpha(alpha)
    if hidden < 0 or epochs < 1 or lr <= 0 or sparsity < 0:
        raise ConfigError(
            "need hidden >= 0, epochs >= 1, lr > 0 and sparsity >= 0; got "
            f"hidden={hidden}, epochs={epochs}, lr={lr}, sparsity={sparsity}"
        )
    torch.manual_seed(seed)
    z = [(arr - arr.mean()) / arr.std() for arr in arrays]
    own = np.stack([_lag_matrix(x, tau_max) for x in z])  # (k, m, tau_max)
    present = np.stack([x[tau_max:] for x in z])  # (k, m)
    others = [
        [(s, lag) for s in range(len(z)) if s != j for lag in range(1, tau_max + 1)]
        for j in range(len(z))
    ]
    crossed = np.stack([np.column_stack([own[s][:, lag - 1] for s, lag in o]) for o in others])
    innovation = _innovations(own, present, hidden=hidden, epochs=epochs, lr=lr)
    survivors = _sparse_survivors(crossed, innovation, sparsity)
    strength, p_value = {}, {}
    for j, target in enumerate(names):
        for k in survivors[j]:
            rest = [crossed[j][:, other] for other in survivors[j] if other != k]
            source, lag = others[j][k]
            link = (names[source], target, lag)
            strength[link], p_value[link] = _partial_correlation_test(
                innovation[j], crossed[j][:, k], np.column_stack([own[j], *rest])
            )
    links = frozenset(link for link, p in p_value.items() if p < alpha)
    return DiscoveredGraph("innovation", tuple(names), links, strength, p_value)


def _innovations(
    own: np.ndarray, present: np.ndarray, *, hidden: int, epochs: int, lr: float
) -> np.ndarray:
    """``present - g(own)`` for each variable after fitting its autoregressive network ``g``.

    ``own`` ``(k, m, tau_max)`` holds each variable's lags, ``present`` ``(k, m)`` its values;
    returns ``(k, m)``.
    """
    inputs = torch.as_tensor(own, dtype=torch.float32)
    target = torch.as_tensor(present, dtype=torch.float32)
    model = _StackedNetworks(own.shape[0], own.shape[2], hidden)
    _fit_least_squares(model, inputs, target, epochs=epochs, lr=lr)
    with torch.no_grad():
        return present - model(inputs).double().numpy()


def _sparse_survivors(
    crossed: np.ndarray, innovation: np.ndarray, penalty: float
) -> list[list[int]]:
    """Per target, the columns of ``crossed`` ``(k, m, c)`` with a non-zero weight in an
    L1-penalised linear model of ``innovation`` ``(k, m)`` (scikit-learn's Lasso).

    The objective ``mean((e - X w)^2) + penalty * sum |w|`` is scikit-learn's with
    ``alpha = penalty / 2``.
    """
    from sklearn.linear_model import Lasso

    survivors = []
    for inputs, target in zip(crossed, innovation, strict=True):
        if penalty == 0:
            survivors.append(list(range(inputs.shape[1])))
            continue
        weights = Lasso(alpha=penalty / 2, max_iter=10_000).fit(inputs, target).coef_
        survivors.append([int(c) for c in np.flatnonzero(weights)])
    return survivors


#: The discovery methods by name; each takes ``(series, tau_max, alpha, **options)``.
METHODS: dict[str, Callable[..., DiscoveredGraph]] = {
    "naive": naive_lagged_regression,
    "pcmci": pcmci_links,
    "innovation": innovation_links,
}


def discover(
    method: str, series: Mapping[str, Any], tau_max: int, alpha: float, **options: Any
) -> DiscoveredGraph:
    """Run the method called ``method`` (a key of :data:`METHODS`) with its ``options``."""
    if method not in METHODS:
        raise UnknownNameError("causal discovery method", method, METHODS)
    return METHODS[method](series, tau_max, alpha, **options)


@dataclass(frozen=True)
class LinkScore:
    """Counts of found against true cross-links, and precision and recall from them.

    A found link counts as a true positive only if source, target and lag all match a
    true link; self-links are not scored (callers pass cross-links only). Scores of
    several runs add up (``a + b``), which pools them (micro-averaging).
    """

    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        """``TP / (TP + FP)``; 1 when nothing was found (no false claim was made)."""
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        """``TP / (TP + FN)``; 1 when the true graph has no links."""
        true = self.true_positives + self.false_negatives
        return self.true_positives / true if true else 1.0

    @property
    def exact(self) -> bool:
        """Whether the found graph equals the true one (no false and no missed link)."""
        return self.false_positives == 0 and self.false_negatives == 0

    def __add__(self, other: LinkScore) -> LinkScore:
        return LinkScore(
            self.true_positives + other.true_positives,
            self.false_positives + other.false_positives,
            self.false_negatives + other.false_negatives,
        )


def score_links(found: Iterable[Link], truth: Iterable[Link]) -> LinkScore:
    """Score found cross-links against the true ones; lags must match exactly.

    Raises
    ------
    DataFormatError
        If either set contains a self-link (``source == target``), which is not scored.
    """
    found, truth = set(found), set(truth)
    selfs = sorted(link for link in found | truth if link[0] == link[1])
    if selfs:
        raise DataFormatError(f"self-links are not scored, drop them first: {selfs}")
    return LinkScore(len(found & truth), len(found - truth), len(truth - found))
