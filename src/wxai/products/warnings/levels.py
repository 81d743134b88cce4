"""Warning levels for wind gusts, after the thresholds of Deutscher Wetterdienst (DWD).

DWD warns for gusts in steps of the Beaufort scale; the four levels used here are

======  ===============================  ===========  =============  ============
level   event                            gust [m/s]   gust [km/h]    CAP severity
======  ===============================  ===========  =============  ============
1       wind gusts (Bft 7)               >= 14        >= 50          Minor
2       storm gusts (Bft 8)              >= 18        >= 65          Moderate
3       severe storm gusts (Bft 10)      >= 25        >= 89          Moderate
4       hurricane-force gusts (Bft 11)   >= 29        >= 104         Severe
======  ===============================  ===========  =============  ============

(DWD issues levels 2 and 3 both as "markante Wetterwarnung", CAP severity
Moderate, and gusts of Bft 11 as "Unwetterwarnung", Severe.) Levels are nested: an
area warned at a level is warned at every lower level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from wxai.core.errors import ConfigError

__all__ = ["DWD_GUST_LEVELS", "Severity", "WarningLevel", "check_levels"]

Severity = Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]


@dataclass(frozen=True)
class WarningLevel:
    """One warning level.

    Attributes
    ----------
    level:
        1-based rank (higher is more dangerous).
    event:
        What is warned of, e.g. ``"storm gusts"``.
    threshold:
        Gust speed from which the level applies [m s-1].
    severity:
        CAP 1.2 ``severity`` value.
    """

    level: int
    event: str
    threshold: float
    severity: Severity

    @property
    def label(self) -> str:
        """Short label, e.g. ``"2 storm gusts >= 18 m/s"``."""
        return f"{self.level} {self.event} >= {self.threshold:g} m/s"


DWD_GUST_LEVELS: tuple[WarningLevel, ...] = (
    WarningLevel(1, "wind gusts", 14.0, "Minor"),
    WarningLevel(2, "storm gusts", 18.0, "Moderate"),
    WarningLevel(3, "severe storm gusts", 25.0, "Moderate"),
    WarningLevel(4, "hurricane-force gusts", 29.0, "Severe"),
)


def check_levels(levels: Sequence[WarningLevel]) -> tuple[WarningLevel, ...]:
    """``levels`` as a tuple, checked: at least one, ranks 1..n, thresholds increasing."""
    levels = tuple(levels)
    if not levels:
        raise ConfigError("no warning levels given; pass e.g. DWD_GUST_LEVELS")
    ranks = [lv.level for lv in levels]
    thresholds = [lv.threshold for lv in levels]
    if ranks != list(range(1, len(levels) + 1)):
        raise ConfigError(f"warning levels must be ranked 1..{len(levels)} in order, got {ranks}")
    if any(b <= a for a, b in pairwise(thresholds)):
        raise ConfigError(f"gust thresholds must increase with the level, got {thresholds}")
    return levels
