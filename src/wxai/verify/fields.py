"""Deterministic scores of gridded forecasts, area-weighted over the grid cells.

Forecasts, truths and climatologies are arrays whose last axis is the grid cell (``N``
cells of a flattened regular/Gaussian lat/lon grid or of an unstructured grid such as
ICON's); leading axes such as (lead, variable) or (init, lead, variable) are kept, so
a (lead, variable, N) forecast scores as (lead, variable). Weights are one number per
cell, shape (N,): :func:`wxai.verify.spatial.cell_area_weights` for a lat/lon grid,
the cell areas for an unstructured one; their scale does not matter.

Cells where the forecast, the truth (or the climatology) is NaN are skipped and the
weights renormalised over the remaining cells; a score with no valid cell is NaN.

The definitions follow WeatherBench 2 (Rasp et al. 2024): scores are area-weighted
means over the globe for each forecast, and averages over many initialisation times
are taken of the mean squared error before the square root (``mean_axis``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from wxai.core.errors import ConfigError
from wxai.verify.spatial import check_weights, weighted_cell_mean

__all__ = [
    "Climatology",
    "anomaly_correlation",
    "climatology",
    "weighted_bias",
    "weighted_mae",
    "weighted_mse",
    "weighted_rmse",
]

Axes = int | tuple[int, ...] | None
Grouping = Literal["hour", "dayofyear_hour"] | None
GROUPINGS: tuple[str | None, ...] = (None, "hour", "dayofyear_hour")
GroupKey = int | tuple[int, int] | None  # hour, (day of year, hour) or None


def paired_fields(
    forecast: ArrayLike, truth: ArrayLike, weights: ArrayLike, name: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Forecast, truth and weights as float arrays, checked to belong together.

    ``forecast`` (..., N) and ``truth`` (..., N) must broadcast against each other
    (e.g. a (V, N) truth against a (lead, V, N) forecast) with the same number of
    cells ``N``, and ``weights`` must be (N,).

    Raises
    ------
    ConfigError
        Naming both shapes when they do not match.
    """
    f = np.asarray(forecast, dtype=float)
    t = np.asarray(truth, dtype=float)
    if f.ndim == 0 or t.ndim == 0 or f.shape[-1] != t.shape[-1]:
        raise ConfigError(
            f"{name} needs forecast and truth with the grid cell as last axis and the same "
            f"number of cells, got forecast {f.shape} and truth {t.shape}"
        )
    try:
        np.broadcast_shapes(f.shape, t.shape)
    except ValueError:
        raise ConfigError(
            f"{name}: forecast {f.shape} and truth {t.shape} do not broadcast against "
            f"each other; leading axes must agree or be 1"
        ) from None
    return f, t, check_weights(weights, f.shape[-1])


def mean_over(score: np.ndarray, mean_axis: Axes, name: str) -> np.ndarray:
    """``score`` averaged over ``mean_axis`` (axes of the score array); None: unchanged."""
    if mean_axis is None:
        return score
    try:
        return np.mean(score, axis=mean_axis)
    except (np.exceptions.AxisError, TypeError) as error:
        raise ConfigError(
            f"{name}: mean_axis {mean_axis!r} is not an axis of the score array of shape "
            f"{np.shape(score)} (the forecast's shape without the cell axis)"
        ) from error


def weighted_mse(
    forecast: ArrayLike, truth: ArrayLike, weights: ArrayLike, *, mean_axis: Axes = None
) -> np.ndarray:
    """Area-weighted mean squared error ``sum_i w_i (f_i - t_i)^2 / sum_i w_i``.

    Parameters
    ----------
    forecast, truth
        Fields, shapes (..., N) that broadcast against each other, same units.
    weights
        Area weights, shape (N,).
    mean_axis
        Axes of the result (the leading axes) to average over afterwards, e.g. 0 for
        the initialisation times of an (init, lead, variable, N) forecast.

    Returns
    -------
    numpy.ndarray
        Shape (...) without the cell axis (and ``mean_axis``), in squared input units.
    """
    f, t, w = paired_fields(forecast, truth, weights, "weighted_mse")
    return mean_over(weighted_cell_mean((f - t) ** 2, w), mean_axis, "weighted_mse")


def weighted_rmse(
    forecast: ArrayLike, truth: ArrayLike, weights: ArrayLike, *, mean_axis: Axes = None
) -> np.ndarray:
    """Area-weighted root-mean-square error ``sqrt(sum_i w_i (f_i - t_i)^2 / sum_i w_i)``.

    Parameters
    ----------
    forecast, truth
        Fields, shapes (..., N) that broadcast against each other, same units.
    weights
        Area weights, shape (N,).
    mean_axis
        Leading axes over which the *squared* error is averaged before the square root
        (WeatherBench 2 averages over initialisation times this way); None keeps all.

    Returns
    -------
    numpy.ndarray
        Shape (...) without the cell axis (and ``mean_axis``), in the input units.
    """
    return np.sqrt(weighted_mse(forecast, truth, weights, mean_axis=mean_axis))


def weighted_bias(forecast: ArrayLike, truth: ArrayLike, weights: ArrayLike) -> np.ndarray:
    """Area-weighted mean error ``sum_i w_i (f_i - t_i) / sum_i w_i``.

    Positive when the forecast is too high on average. Shapes and units as
    :func:`weighted_rmse`; returns shape (...) in the input units.
    """
    f, t, w = paired_fields(forecast, truth, weights, "weighted_bias")
    return weighted_cell_mean(f - t, w)


def weighted_mae(forecast: ArrayLike, truth: ArrayLike, weights: ArrayLike) -> np.ndarray:
    """Area-weighted mean absolute error ``sum_i w_i |f_i - t_i| / sum_i w_i``.

    Shapes and units as :func:`weighted_rmse`; returns shape (...) in the input units.
    """
    f, t, w = paired_fields(forecast, truth, weights, "weighted_mae")
    return weighted_cell_mean(np.abs(f - t), w)


def anomaly_correlation(
    forecast: ArrayLike, truth: ArrayLike, climatology: ArrayLike, weights: ArrayLike
) -> np.ndarray:
    """Anomaly correlation coefficient (ACC) of forecast and truth over the grid.

    With anomalies ``f' = f - c`` and ``t' = t - c`` against the climatology ``c`` at
    the valid time, ``ACC = sum w f' t' / sqrt(sum w f'^2 * sum w t'^2)``: the
    uncentred form of WeatherBench 2 (the area means of the anomalies are not removed).
    1 for a perfect forecast, -1 for flipped anomalies, about 0 for unrelated ones.

    Parameters
    ----------
    forecast, truth
        Fields, shapes (..., N) that broadcast against each other, same units.
    climatology
        Climatological mean at the valid times, broadcastable to the forecast, e.g.
        ``Climatology.at(valid_dates)`` of shape (lead, V, N) for a (lead, V, N) forecast.
    weights
        Area weights, shape (N,).

    Returns
    -------
    numpy.ndarray
        Dimensionless, shape (...) without the cell axis; NaN where either anomaly is
        zero everywhere (or no cell is valid).
    """
    f, t, w = paired_fields(forecast, truth, weights, "anomaly_correlation")
    c = np.asarray(climatology, dtype=float)
    try:
        shape = np.broadcast_shapes(f.shape, t.shape, c.shape)
    except ValueError:
        shape = None
    if c.ndim == 0 or shape is None or c.shape[-1] != f.shape[-1]:
        raise ConfigError(
            f"anomaly_correlation: climatology {c.shape} does not broadcast against "
            f"forecast {f.shape} and truth {t.shape} with the same number of cells"
        )
    f_anom = np.broadcast_to(f - c, shape)
    t_anom = np.broadcast_to(t - c, shape)
    valid = np.isfinite(f_anom) & np.isfinite(t_anom)
    f_anom = np.where(valid, f_anom, np.nan)
    t_anom = np.where(valid, t_anom, np.nan)
    covariance = weighted_cell_mean(f_anom * t_anom, w)
    scale = np.sqrt(weighted_cell_mean(f_anom**2, w) * weighted_cell_mean(t_anom**2, w))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale > 0.0, covariance / np.where(scale > 0.0, scale, 1.0), np.nan)


def as_datetimes(dates: ArrayLike | Sequence[object], name: str = "dates") -> np.ndarray:
    """``dates`` (datetime64, ``datetime`` or ISO strings) as a 1D ``datetime64[s]`` array."""
    try:
        values = np.asarray(dates)
        if values.dtype.kind != "M":
            values = np.asarray(dates, dtype="datetime64[s]")
        values = values.astype("datetime64[s]")
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{name} must be dates (datetime64, datetime or ISO text)") from error
    if values.ndim != 1:
        raise ConfigError(f"{name} must be a 1D sequence of dates, got shape {values.shape}")
    if np.isnat(values).any():
        raise ConfigError(f"{name} contains NaT (missing dates)")
    return values


def _hours(dates: np.ndarray) -> np.ndarray:
    return ((dates - dates.astype("datetime64[D]")) // np.timedelta64(1, "h")).astype(int)


def _days_of_year(dates: np.ndarray) -> np.ndarray:
    days = dates.astype("datetime64[D]")
    return (days - days.astype("datetime64[Y]")).astype(int) + 1


def _keys(dates: np.ndarray, by: Grouping) -> list[GroupKey]:
    if by is None:
        return [None] * len(dates)
    if by == "hour":
        return [int(h) for h in _hours(dates)]
    return [(int(d), int(h)) for d, h in zip(_days_of_year(dates), _hours(dates), strict=True)]


@dataclass(frozen=True)
class Climatology:
    """Mean fields per group of valid times (hour of day, or day of year and hour).

    Built by :func:`climatology`; :meth:`at` gives the climatological field at any
    valid dates, to verify a forecast against (anomaly correlation) or to serve as the
    climatology baseline forecast.

    Attributes
    ----------
    by
        The grouping: None (one mean), ``"hour"`` or ``"dayofyear_hour"``.
    window_days
        For ``"dayofyear_hour"``: samples of days within ``+- window_days`` (cyclic
        over 366 days) of a date's day of year, same hour, are pooled.
    sums, counts
        Per group key: sum of the finite training values and their number, each of
        the shape of one time step of the training fields, e.g. (V, N).
    """

    by: Grouping
    window_days: int
    sums: dict[GroupKey, np.ndarray] = field(repr=False)
    counts: dict[GroupKey, np.ndarray] = field(repr=False)

    @property
    def keys(self) -> list[GroupKey]:
        """The groups seen in training: hours, ``(day_of_year, hour)`` or ``[None]``."""
        return sorted(self.sums, key=lambda k: (k is not None, k))

    def _pooled(self, key: GroupKey) -> np.ndarray:
        if isinstance(key, tuple) and self.window_days > 0:
            day, hour = key
            near: list[GroupKey] = [
                k
                for k in self.sums
                if isinstance(k, tuple)
                and k[1] == hour
                and min(abs(k[0] - day), 366 - abs(k[0] - day)) <= self.window_days
            ]
        else:
            near = [key] if key in self.sums else []
        if not near:
            raise ConfigError(
                f"the climatology has no training samples for {self._describe(key)}; it "
                f"has {len(self.sums)} groups by {self.by!r}, e.g. {self.keys[:6]}"
            )
        total = sum(self.sums[k] for k in near)
        count = sum(self.counts[k] for k in near)
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)

    @staticmethod
    def _describe(key: GroupKey) -> str:
        if isinstance(key, tuple):
            return f"day of year {key[0]}, hour {key[1]}"
        return f"hour {key}" if key is not None else "any date"

    def at(self, dates: ArrayLike | Sequence[object]) -> np.ndarray:
        """The climatological fields at valid ``dates``.

        Parameters
        ----------
        dates
            Valid times, shape (T,): datetime64, ``datetime`` or ISO strings (UTC).

        Returns
        -------
        numpy.ndarray
            Shape (T, ...) with ``...`` the shape of one training time step, e.g.
            (T, V, N), in the units of the training fields; NaN where a cell had no
            finite training value.

        Raises
        ------
        ConfigError
            When a date falls in a group with no training sample.
        """
        keys = _keys(as_datetimes(dates), self.by)
        cache: dict[GroupKey, np.ndarray] = {}
        for key in keys:
            if key not in cache:
                cache[key] = self._pooled(key)
        if not keys:
            shape = next(iter(self.sums.values())).shape
            return np.empty((0, *shape))
        return np.stack([cache[key] for key in keys])


def climatology(
    fields: ArrayLike,
    dates: ArrayLike | Sequence[object],
    *,
    by: Grouping = "hour",
    window_days: int = 0,
) -> Climatology:
    """Climatological means of training fields, grouped by the time of day (or year).

    Parameters
    ----------
    fields
        Training fields, shape (T, ...), e.g. (T, V, N); NaNs are left out of the means.
        Which period to train on is the caller's choice.
    dates
        Valid time of each field, shape (T,) (UTC; minutes are ignored for grouping).
    by
        ``"hour"``: one mean per hour of the day (the diurnal cycle); None: one mean of
        all times; ``"dayofyear_hour"``: one mean per day of year (1-366) and hour, the
        seasonal and diurnal cycle (needs several years or ``window_days``).
    window_days
        With ``"dayofyear_hour"``: pool the samples within ``+- window_days`` days of
        year at the same hour (WeatherBench 2 smooths its climatology over a 61-day
        window, i.e. 30 here). Must be 0 for the other groupings.

    Returns
    -------
    Climatology
        Use ``.at(valid_dates)`` to get the climatology for a forecast.
    """
    if by not in GROUPINGS:
        raise ConfigError(f"climatology groups by one of {GROUPINGS}, got by={by!r}")
    if window_days < 0 or (window_days and by != "dayofyear_hour"):
        raise ConfigError(
            f"window_days must be >= 0 and only used with by='dayofyear_hour', got "
            f"{window_days} with by={by!r}"
        )
    values = np.asarray(fields, dtype=float)
    times = as_datetimes(dates)
    if values.ndim < 1 or len(values) == 0 or len(values) != len(times):
        raise ConfigError(
            f"climatology needs fields (T, ...) with one date each, got fields "
            f"{values.shape} and dates {times.shape}"
        )
    groups: dict[GroupKey, list[int]] = {}
    for index, key in enumerate(_keys(times, by)):
        groups.setdefault(key, []).append(index)
    sums: dict[GroupKey, np.ndarray] = {}
    counts: dict[GroupKey, np.ndarray] = {}
    for key, indices in groups.items():
        members = values[indices]
        finite = np.isfinite(members)
        sums[key] = np.where(finite, members, 0.0).sum(axis=0)
        counts[key] = finite.sum(axis=0)
    return Climatology(by=by, window_days=window_days, sums=sums, counts=counts)
