"""Progress reporting shared by the CLI (rich) and the cockpit (task progress)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class ProgressReporter(Protocol):
    """Receives the fraction done (0..1) of a long piece of work and a short message."""

    def __call__(self, fraction: float, message: str = "") -> None: ...


def null_progress(fraction: float, message: str = "") -> None:
    """A progress reporter that ignores every report."""


def scaled(report: ProgressReporter, start: float, stop: float) -> ProgressReporter:
    """Map the 0..1 progress of a sub-step onto ``[start, stop]`` of ``report``."""

    def _report(fraction: float, message: str = "") -> None:
        report(start + (stop - start) * min(max(fraction, 0.0), 1.0), message)

    return _report


ProgressCallback = Callable[[float, str], None]
