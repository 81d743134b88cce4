"""Discovering equations from data: SINDy with finite-difference or neural derivatives.

SINDy (sparse identification of nonlinear dynamics) writes ``dx/dt = Theta(x) Xi`` with a
library ``Theta`` of candidate terms and finds a sparse coefficient matrix ``Xi`` by
sequentially thresholded least squares. The regression is PySINDy's (``pysindy.SINDy``
with ``pysindy.STLSQ``); this module supplies the data, the derivatives and the checks:

- :func:`lorenz63_trajectory` integrates :class:`wxai.da.models.Lorenz63` with its RK4 step;
- :func:`fit_sindy` fits with PySINDy's finite differences, or with given derivatives;
- :func:`neural_sindy` first fits a smooth network ``x_theta(t)`` to noisy observations
  (:func:`fit_smooth_trajectory`, derivative penalty, autograd derivatives), then runs
  the same SINDy fit on ``(x_theta, dx_theta/dt)``;
- :func:`lorenz63_coefficients`, :func:`coefficient_error`, :func:`compare_support`
  score a discovery against the true Lorenz-63 equations;
- :func:`noise_sweep` compares both derivative estimates over noise levels and seeds.

Time is in Lorenz-63 model units, states in the model's (dimensionless) units.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pysindy as ps

from wxai.core.errors import ConfigError, DataFormatError
from wxai.core.progress import null_progress, scaled
from wxai.da.models import Lorenz63, rk4_step
from wxai.physics.rollout import integrate
from wxai.physics.smoothing import (
    Progress,
    SmootherSettings,
    SmoothFit,
    check_trajectory,
    fit_smooth_trajectory,
)

__all__ = [
    "LORENZ63_VARIABLES",
    "Discovery",
    "MethodResult",
    "NoisyComparison",
    "SupportComparison",
    "add_noise",
    "coefficient_error",
    "compare_on_noisy_data",
    "compare_support",
    "finite_difference_derivatives",
    "fit_sindy",
    "lorenz63_coefficients",
    "lorenz63_library",
    "lorenz63_trajectory",
    "max_relative_error",
    "neural_sindy",
    "noise_sweep",
    "valid_time",
]

LORENZ63_VARIABLES = ("x", "y", "z")


# --------------------------------------------------------------------------- data


def lorenz63_trajectory(
    n_samples: int,
    dt: float,
    *,
    x0: Sequence[float] = (-8.0, 8.0, 27.0),
    spin_up: float = 5.0,
    substeps: int = 5,
    model: Lorenz63 | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A Lorenz-63 trajectory sampled every ``dt`` after a spin-up onto the attractor.

    Parameters
    ----------
    n_samples:
        Number of samples.
    dt:
        Sampling interval (model time units); each interval is ``substeps`` RK4 steps.
    x0:
        State at the start of the spin-up, shape ``(3,)``.
    spin_up:
        Model time integrated (and discarded) before the first sample.

    Returns
    -------
    t, states:
        Times ``(n_samples,)`` starting at 0 and states ``(n_samples, 3)``.
    """
    if n_samples < 1 or not dt > 0 or substeps < 1 or spin_up < 0:
        raise ConfigError(
            f"need n_samples >= 1, dt > 0, substeps >= 1 and spin_up >= 0; got {n_samples}, "
            f"{dt}, {substeps} and {spin_up}"
        )
    model = model or Lorenz63()
    state = np.asarray(x0, dtype=float)
    if state.shape != (3,):
        raise DataFormatError(f"x0 must have shape (3,), got {state.shape}")
    h = dt / substeps
    start = integrate(model, state, round(spin_up / h), h)[-1]
    states = integrate(model, start, (n_samples - 1) * substeps, h)[::substeps]
    return dt * np.arange(n_samples), states


def add_noise(states: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """``states`` plus independent Gaussian noise of standard deviation ``sigma`` (same units)."""
    if sigma < 0:
        raise ConfigError(f"noise standard deviation must be >= 0, got {sigma}")
    return states + sigma * rng.standard_normal(states.shape)


def finite_difference_derivatives(t: np.ndarray, states: np.ndarray) -> np.ndarray:
    """Second-order finite differences of ``states (n, d)`` in time (PySINDy's), ``(n, d)``."""
    t, states = check_trajectory(t, states)
    return np.asarray(ps.FiniteDifference(axis=-2)(states, t))


# --------------------------------------------------------------------------- SINDy


def lorenz63_library() -> ps.PolynomialLibrary:
    """PySINDy's polynomial library of degree 2 without squares: ``1, x, y, z, xy, xz, yz``."""
    return ps.PolynomialLibrary(degree=2, interaction_only=True, include_bias=True)


@dataclass(frozen=True)
class Discovery:
    """A fitted SINDy model.

    Attributes
    ----------
    estimator:
        The fitted ``pysindy.SINDy``.
    variables:
        Names of the state variables, e.g. ``("x", "y", "z")``.
    """

    estimator: ps.SINDy
    variables: tuple[str, ...]

    @property
    def coefficients(self) -> np.ndarray:
        """``Xi`` with shape ``(n_variables, n_terms)``: row i gives ``d variables[i] / dt``."""
        return np.asarray(self.estimator.coefficients())

    @property
    def terms(self) -> tuple[str, ...]:
        """Names of the library terms (PySINDy's, e.g. ``"x z"``), one per column."""
        return tuple(self.estimator.get_feature_names())

    def equations(self, precision: int = 3) -> list[str]:
        """The discovered equations as text, one per variable."""
        rhs = [
            re.sub(r"\s+", " ", eq).strip().replace("+ -", "- ")
            for eq in self.estimator.equations(precision)
        ]
        return [f"d{v}/dt = {eq}" for v, eq in zip(self.variables, rhs, strict=True)]

    def rhs(self, x: np.ndarray, t: float = 0.0) -> np.ndarray:
        """Discovered tendency at states ``(..., d)``, shape ``(..., d)``."""
        x = np.asarray(x, dtype=float)
        library = self.estimator.feature_library
        if isinstance(library, ps.PolynomialLibrary):
            # The library's own exponents evaluate Theta(x) without PySINDy's per-call overhead.
            theta = np.prod(x[..., None, :] ** library.powers_, axis=-1)
            return theta @ self.coefficients.T
        flat = self.estimator.predict(x.reshape(-1, x.shape[-1]))
        return np.asarray(flat).reshape(x.shape)

    def simulate(self, x0: np.ndarray, t: np.ndarray, substeps: int = 1) -> np.ndarray:
        """Integrate the discovered model with RK4 (:func:`wxai.da.models.rk4_step`).

        Parameters
        ----------
        x0:
            Initial state ``(d,)`` at ``t[0]``.
        t:
            Output times ``(n,)``, increasing; each interval is ``substeps`` RK4 steps.

        Returns
        -------
        numpy.ndarray
            States ``(n, d)``; NaN from the first non-finite state on (a model that blows up).
        """
        t, state = np.asarray(t, dtype=float), np.asarray(x0, dtype=float)
        if state.shape != (len(self.variables),) or t.ndim != 1 or t.size == 0 or substeps < 1:
            raise DataFormatError(
                f"simulate needs x0 of shape ({len(self.variables)},), non-empty 1-D times and "
                f"substeps >= 1; got {state.shape}, {t.shape} and {substeps}"
            )
        out = np.full((t.size, len(self.variables)), np.nan)
        out[0] = state
        with np.errstate(over="ignore", invalid="ignore"):
            for i in range(1, t.size):
                h = (t[i] - t[i - 1]) / substeps
                for k in range(substeps):
                    state = rk4_step(self.rhs, state, t[i - 1] + k * h, h)
                if not np.isfinite(state).all():
                    break
                out[i] = state
        return out


def fit_sindy(
    t: np.ndarray,
    states: np.ndarray,
    *,
    derivatives: np.ndarray | None = None,
    threshold: float = 0.5,
    ridge: float = 0.0,
    library: ps.feature_library.base.BaseFeatureLibrary | None = None,
    variables: Sequence[str] = LORENZ63_VARIABLES,
) -> Discovery:
    """Fit SINDy (PySINDy, STLSQ) to one trajectory.

    Parameters
    ----------
    t:
        Sample times ``(n,)``, strictly increasing.
    states:
        States ``(n, d)``.
    derivatives:
        ``d states / dt`` at the samples ``(n, d)``; None: PySINDy's second-order finite
        differences of ``states``.
    threshold:
        STLSQ threshold: coefficients smaller in magnitude are set to zero.
    ridge:
        STLSQ ridge (L2) weight.
    library:
        PySINDy feature library (default :func:`lorenz63_library`).
    variables:
        Names of the ``d`` state variables.
    """
    t, states = check_trajectory(t, states)
    if derivatives is not None:
        derivatives = np.asarray(derivatives, dtype=float)
        if derivatives.shape != states.shape:
            raise DataFormatError(
                f"derivatives have shape {derivatives.shape}, must match states {states.shape}"
            )
        if not np.isfinite(derivatives).all():
            raise DataFormatError("derivatives contain NaN or infinite values")
    variables = tuple(variables)
    if len(variables) != states.shape[1]:
        raise ConfigError(f"{len(variables)} variable names for {states.shape[1]} state columns")
    if threshold < 0 or ridge < 0:
        raise ConfigError(f"threshold and ridge must be >= 0, got {threshold} and {ridge}")
    library = library if library is not None else lorenz63_library()
    n_terms = _library_size(library, states)
    if states.shape[0] <= n_terms:
        raise DataFormatError(
            f"the trajectory has {states.shape[0]} samples for {n_terms} library terms; "
            "SINDy needs more samples than terms"
        )
    estimator = ps.SINDy(
        optimizer=ps.STLSQ(threshold=threshold, alpha=ridge),
        feature_library=library,
        differentiation_method=ps.FiniteDifference(axis=-2),
    )
    with warnings.catch_warnings():
        # STLSQ warns when a threshold removes every term of an equation; the support
        # comparison reports that outcome instead.
        warnings.filterwarnings("ignore", module="pysindy")
        estimator.fit(states, t=t, x_dot=derivatives, feature_names=list(variables))
    return Discovery(estimator, variables)


def _library_size(library, states: np.ndarray) -> int:
    """Number of terms ``library`` produces for ``states``; an error when it has none."""
    try:
        names = library.fit(states[:3]).get_feature_names()
    except ValueError as error:  # e.g. PolynomialLibrary(degree=0, include_bias=False)
        raise ConfigError(f"the feature library produces no terms ({error})") from error
    if len(names) == 0:
        raise ConfigError("the feature library has no terms; give SINDy at least one candidate")
    return len(names)


# --------------------------------------------------------------------------- scoring


def _monomial(term: str, variables: Sequence[str]) -> tuple[int, ...]:
    """Exponents of a PySINDy polynomial term name (``"1"``, ``"x z"``, ``"y^2"``)."""
    powers = [0] * len(variables)
    if term.strip() == "1":
        return tuple(powers)
    for factor in term.split():
        match = re.fullmatch(r"(\w+)(?:\^(\d+))?", factor)
        if match is None or match.group(1) not in variables:
            raise ConfigError(
                f"term {term!r} is not a monomial of the variables {', '.join(variables)}"
            )
        powers[variables.index(match.group(1))] += int(match.group(2) or 1)
    return tuple(powers)


def lorenz63_coefficients(
    terms: Sequence[str],
    model: Lorenz63 | None = None,
    variables: Sequence[str] = LORENZ63_VARIABLES,
) -> np.ndarray:
    """True Lorenz-63 coefficient matrix ``(3, len(terms))`` on the library ``terms``.

    ``dx/dt = -sigma x + sigma y``, ``dy/dt = rho x - y - x z``, ``dz/dt = x y - beta z``;
    every other term is zero. An error if ``terms`` lacks one of these monomials.
    """
    model = model or Lorenz63()
    variables = tuple(variables)
    true = (
        {(1, 0, 0): -model.sigma, (0, 1, 0): model.sigma},
        {(1, 0, 0): model.rho, (0, 1, 0): -1.0, (1, 0, 1): -1.0},
        {(1, 1, 0): 1.0, (0, 0, 1): -model.beta},
    )
    columns = [_monomial(term, variables) for term in terms]
    for row in true:
        for powers in row:
            if powers not in columns:
                needed = " ".join(v for v, p in zip(variables, powers, strict=True) if p)
                raise ConfigError(f"the library lacks the term {needed!r} of Lorenz-63")
    return np.array([[row.get(powers, 0.0) for powers in columns] for row in true])


def coefficient_error(estimated: np.ndarray, true: np.ndarray) -> float:
    """Relative Frobenius error ``||Xi - Xi_true|| / ||Xi_true||``."""
    estimated, true = _same_shape(estimated, true)
    return float(np.linalg.norm(estimated - true) / np.linalg.norm(true))


def max_relative_error(estimated: np.ndarray, true: np.ndarray) -> float:
    """Largest ``|Xi - Xi_true| / |Xi_true|`` over the true nonzero coefficients."""
    estimated, true = _same_shape(estimated, true)
    support = true != 0
    return float(np.max(np.abs(estimated[support] - true[support]) / np.abs(true[support])))


def _same_shape(estimated: np.ndarray, true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    estimated, true = np.asarray(estimated, dtype=float), np.asarray(true, dtype=float)
    if estimated.shape != true.shape:
        raise DataFormatError(
            f"coefficient matrices differ in shape: {estimated.shape} vs {true.shape}"
        )
    if not np.any(true):
        raise DataFormatError("the true coefficient matrix is all zero")
    return estimated, true


def valid_time(t: np.ndarray, truth: np.ndarray, simulated: np.ndarray, tolerance: float) -> float:
    """Time from ``t[0]`` until ``|simulated - truth|`` (Euclidean) first exceeds ``tolerance``.

    ``t (n,)``, ``truth`` and ``simulated (n, d)``; NaN (a blown-up model) counts as exceeding.
    Returns ``t[-1] - t[0]`` if the tolerance is never exceeded.
    """
    error = np.linalg.norm(np.asarray(simulated) - np.asarray(truth), axis=-1)
    beyond = np.flatnonzero(~(error <= tolerance))
    return float(t[beyond[0]] - t[0]) if beyond.size else float(t[-1] - t[0])


@dataclass(frozen=True)
class SupportComparison:
    """Sparsity pattern of a discovery against the truth.

    ``false_terms`` are kept terms that are zero in the truth, ``missing_terms`` true terms
    that were dropped; each entry reads ``"dy/dt: x z"``.
    """

    false_terms: tuple[str, ...]
    missing_terms: tuple[str, ...]

    @property
    def exact(self) -> bool:
        """Whether the discovered support equals the true one."""
        return not self.false_terms and not self.missing_terms


def compare_support(
    estimated: np.ndarray,
    true: np.ndarray,
    terms: Sequence[str],
    variables: Sequence[str] = LORENZ63_VARIABLES,
) -> SupportComparison:
    """False and missing terms of ``estimated (d, n_terms)`` against ``true``."""
    estimated, true = _same_shape(estimated, true)
    if true.shape != (len(variables), len(terms)):
        raise DataFormatError(
            f"coefficients {true.shape} do not match {len(variables)} variables x "
            f"{len(terms)} terms"
        )

    def names(mask: np.ndarray) -> tuple[str, ...]:
        return tuple(f"d{variables[i]}/dt: {terms[j]}" for i, j in np.argwhere(mask))

    kept, real = estimated != 0, true != 0
    return SupportComparison(names(kept & ~real), names(real & ~kept))


# --------------------------------------------------------------------------- neural SINDy


def neural_sindy(
    t: np.ndarray,
    observations: np.ndarray,
    settings: SmootherSettings | None = None,
    *,
    trim: int = 40,
    threshold: float = 0.5,
    ridge: float = 0.0,
    library: ps.feature_library.base.BaseFeatureLibrary | None = None,
    variables: Sequence[str] = LORENZ63_VARIABLES,
    seed: int = 0,
    progress: Progress | None = None,
) -> tuple[Discovery, SmoothFit]:
    """Neural SINDy: smooth ``x_theta(t)``, then SINDy on ``(x_theta, dx_theta/dt)``.

    ``trim`` samples at each end, where the fit is least constrained, are left out of
    the regression. Other parameters as in :func:`fit_sindy` and
    :func:`fit_smooth_trajectory`.
    """
    t, observations = check_trajectory(t, observations, "observations")
    if trim < 0 or t.size - 2 * trim < 3:
        raise ConfigError(f"trim = {trim} leaves fewer than 3 of {t.size} samples")
    smooth = fit_smooth_trajectory(t, observations, settings, seed=seed, progress=progress)
    kept = slice(trim, t.size - trim)
    discovery = fit_sindy(
        t[kept],
        smooth.states[kept],
        derivatives=smooth.derivatives[kept],
        threshold=threshold,
        ridge=ridge,
        library=library,
        variables=variables,
    )
    return discovery, smooth


# --------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class MethodResult:
    """Score of one discovery against the true coefficients."""

    discovery: Discovery
    coefficient_error: float
    max_relative_error: float
    support: SupportComparison

    @classmethod
    def score(cls, discovery: Discovery, true: np.ndarray) -> MethodResult:
        """Score ``discovery`` against ``true (d, n_terms)``."""
        xi = discovery.coefficients
        return cls(
            discovery,
            coefficient_error(xi, true),
            max_relative_error(xi, true),
            compare_support(xi, true, discovery.terms, discovery.variables),
        )


@dataclass(frozen=True)
class NoisyComparison:
    """Finite-difference and neural SINDy on one noisy realisation."""

    noise: float
    seed: int
    observations: np.ndarray
    finite_differences: MethodResult
    neural: MethodResult
    smooth: SmoothFit


def compare_on_noisy_data(
    t: np.ndarray,
    truth: np.ndarray,
    noise: float,
    seed: int,
    settings: SmootherSettings | None = None,
    *,
    trim: int = 40,
    threshold: float = 0.5,
    model: Lorenz63 | None = None,
    progress: Progress | None = None,
) -> NoisyComparison:
    """Add noise ``noise`` (seeded by ``seed``) to Lorenz-63 ``truth (n, 3)``; fit both ways."""
    observations = add_noise(np.asarray(truth, dtype=float), noise, np.random.default_rng(seed))
    fd = fit_sindy(t, observations, threshold=threshold)
    true = lorenz63_coefficients(fd.terms, model)
    neural, smooth = neural_sindy(
        t, observations, settings, trim=trim, threshold=threshold, seed=seed, progress=progress
    )
    return NoisyComparison(
        noise,
        seed,
        observations,
        MethodResult.score(fd, true),
        MethodResult.score(neural, true),
        smooth,
    )


def noise_sweep(
    t: np.ndarray,
    truth: np.ndarray,
    noise_levels: Sequence[float],
    seeds: Sequence[int],
    settings: SmootherSettings | None = None,
    *,
    progress: Progress | None = None,
    **options: Any,
) -> list[NoisyComparison]:
    """:func:`compare_on_noisy_data` for every noise level and seed (noise-major order).

    ``options`` (``trim``, ``threshold``, ``model``) go to :func:`compare_on_noisy_data`.
    """
    cases = [(noise, seed) for noise in noise_levels for seed in seeds]
    if not cases:
        raise ConfigError("the sweep needs at least one noise level and one seed")
    report = progress or null_progress
    return [
        compare_on_noisy_data(
            t,
            truth,
            noise,
            seed,
            settings,
            progress=scaled(report, i / len(cases), (i + 1) / len(cases)),
            **options,
        )
        for i, (noise, seed) in enumerate(cases)
    ]
