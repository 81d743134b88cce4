"""What a lab returns (:class:`LabOutcome`) and what a run records (:class:`LabResult`)."""

from __future__ import annotations

import json
import math
import operator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Comparison = Literal["<", "<=", ">", ">=", "=="]
_OPERATORS = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
}


@dataclass(frozen=True)
class Acceptance:
    """A lab's headline figure checked against its threshold.

    Attributes
    ----------
    metric:
        Name of the figure, e.g. ``"rmse"``.
    value:
        The value reached.
    comparison:
        How ``value`` must relate to ``threshold``.
    threshold:
        The bound, e.g. ``0.05`` or ``0.2 * persistence_rmse``.
    baseline:
        Human-readable statement of the criterion and where it comes from.
    baseline_value:
        The baseline's own figure where there is one (e.g. the persistence RMSE).
    """

    metric: str
    value: float
    comparison: Comparison
    threshold: float
    baseline: str
    baseline_value: float | None = None

    @property
    def passed(self) -> bool:
        """Whether ``value`` satisfies the criterion (NaN never does)."""
        if math.isnan(self.value):
            return False
        return bool(_OPERATORS[self.comparison](self.value, self.threshold))

    def describe(self) -> str:
        """One line: value, criterion and verdict."""
        verdict = "PASS" if self.passed else "FAIL"
        return (
            f"{self.metric} = {self.value:.4g} {self.comparison} {self.threshold:.4g} "
            f"({self.baseline}): {verdict}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, including ``passed``."""
        return {**asdict(self), "passed": self.passed}


@dataclass(frozen=True)
class LabOutcome:
    """What a lab function computes: metrics, the acceptance check, a model reference."""

    metrics: dict[str, float]
    acceptance: Acceptance
    model_uri: str | None = None
    summary: str = ""


@dataclass(frozen=True)
class LabResult:
    """A finished lab run as stored, reported and returned by ``wxai lab run --json``."""

    lab: str
    title: str
    topic: str
    day: int
    preset: str
    metrics: dict[str, float]
    acceptance: Acceptance
    figures: list[str] = field(default_factory=list)
    model_uri: str | None = None
    summary: str = ""
    run_id: str | None = None
    experiment_id: str | None = None
    tracking_uri: str | None = None
    run_dir: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    started_at: str = ""
    duration_s: float = 0.0

    @property
    def passed(self) -> bool:
        """Whether the acceptance figure was reached."""
        return self.acceptance.passed

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = asdict(self)
        data["acceptance"] = self.acceptance.to_dict()
        data["passed"] = self.passed
        return data

    def to_json(self) -> str:
        """Indented JSON."""
        return json.dumps(self.to_dict(), indent=2, default=str)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabResult:
        """Inverse of :meth:`to_dict`."""
        data = dict(data)
        data.pop("passed", None)
        acceptance = dict(data.pop("acceptance"))
        acceptance.pop("passed", None)
        return cls(acceptance=Acceptance(**acceptance), **data)

    @classmethod
    def load(cls, path: Path) -> LabResult:
        """Read a ``result.json`` written by the runner."""
        return cls.from_dict(json.loads(Path(path).read_text()))
