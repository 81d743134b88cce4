"""Vertical bins for profiles of observations."""

from __future__ import annotations

import numpy as np

from wxai.core.errors import ConfigError

__all__ = ["pressure_bin_edges"]


def pressure_bin_edges(top_hpa: float, bottom_hpa: float, step_hpa: float) -> np.ndarray:
    """Increasing pressure bin edges [Pa] from ``top_hpa`` to ``bottom_hpa`` every ``step_hpa``.

    The last edge is ``bottom_hpa`` when the range is a whole number of steps, else
    the last step below it. Shape (n_bins + 1,).

    Raises
    ------
    ConfigError
        If the top is not above the bottom (lower pressure) or the step is not positive.
    """
    if not 0 < top_hpa < bottom_hpa or step_hpa <= 0:
        raise ConfigError(
            f"need 0 < top_hpa < bottom_hpa and step_hpa > 0, got {top_hpa}, {bottom_hpa}, "
            f"{step_hpa}"
        )
    return np.arange(top_hpa, bottom_hpa + step_hpa / 2, step_hpa) * 100.0
