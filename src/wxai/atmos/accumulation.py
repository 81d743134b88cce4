"""Interval amounts and mean rates from fields accumulated since the run start.

NWP output such as total precipitation (ECMWF ``tp`` [m], ICON ``tp`` [kg m-2])
is accumulated from the start of the forecast: the amount that fell between two
lead times is the difference of the two fields. Decoded GRIB values carry
packing noise (a fraction of the packing step), so a dry interval can come out
slightly negative; :func:`interval_amounts` can clip such noise to zero while
refusing negatives larger than the stated tolerance, which mean the input is not
an accumulation.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from wxai.core.errors import ConfigError, DataFormatError

__all__ = ["interval_amounts", "mean_rates"]


def interval_amounts(
    accumulated: ArrayLike, *, axis: int = 0, clip_noise: float | None = None
) -> np.ndarray:
    """Amounts accumulated between consecutive lead times.

    Parameters
    ----------
    accumulated
        Field accumulated since the run start, lead time along ``axis`` (length
        ``n >= 2``), any units (e.g. mm or kg m-2).
    axis
        The lead-time axis.
    clip_noise
        ``None`` (default): return the raw differences, negatives included.
        A tolerance ``>= 0`` in the units of the field (e.g. twice the GRIB packing
        step): negative amounts down to ``-clip_noise`` are set to zero.

    Returns
    -------
    numpy.ndarray
        Interval amounts, shape of ``accumulated`` with ``n - 1`` along ``axis``;
        element ``i`` is the amount between lead times ``i`` and ``i + 1``.

    Raises
    ------
    ConfigError
        If fewer than two lead times are given or ``clip_noise`` is negative.
    DataFormatError
        If ``clip_noise`` is set and an amount is below ``-clip_noise``.
    """
    field = np.asarray(accumulated, dtype=float)
    if field.ndim == 0 or field.shape[axis] < 2:
        raise ConfigError("de-accumulation needs at least two lead times along the axis")
    amounts = np.diff(field, axis=axis)
    if clip_noise is None:
        return amounts
    if clip_noise < 0:
        raise ConfigError(f"clip_noise must be >= 0, got {clip_noise}")
    lowest = float(np.nanmin(amounts))
    if lowest < -clip_noise:
        raise DataFormatError(
            f"interval amount {lowest:.3g} is below -{clip_noise:g}: the field decreases "
            "with lead time and is not accumulated since the run start"
        )
    return np.maximum(amounts, 0.0, where=~np.isnan(amounts), out=amounts)


def mean_rates(
    accumulated: ArrayLike,
    lead_hours: ArrayLike,
    *,
    axis: int = 0,
    clip_noise: float | None = None,
) -> np.ndarray:
    """Mean rates over each interval between lead times [field units per hour].

    Parameters
    ----------
    accumulated
        Field accumulated since the run start, lead time along ``axis`` (``n``).
    lead_hours
        The ``n`` increasing lead times [h].
    axis, clip_noise
        As in :func:`interval_amounts`.

    Returns
    -------
    numpy.ndarray
        Interval amount divided by interval length, ``n - 1`` along ``axis``
        (mm over hours gives mm/h).

    Raises
    ------
    ConfigError
        If ``lead_hours`` does not match the axis or does not increase.
    """
    amounts = interval_amounts(accumulated, axis=axis, clip_noise=clip_noise)
    hours = np.diff(np.asarray(lead_hours, dtype=float))
    if hours.size != amounts.shape[axis] or np.any(hours <= 0):
        raise ConfigError(
            f"lead_hours must be {amounts.shape[axis] + 1} increasing values, got {lead_hours}"
        )
    shape = [1] * amounts.ndim
    shape[axis] = hours.size
    return amounts / hours.reshape(shape)
