"""Lab machinery: registration, Hydra configs, running, results and reports."""

from wxai.labs.framework.registry import LabSpec, get_lab, lab, list_labs
from wxai.labs.framework.result import Acceptance, LabOutcome, LabResult
from wxai.labs.framework.schema import LabConfig

__all__ = [
    "Acceptance",
    "LabConfig",
    "LabOutcome",
    "LabResult",
    "LabSpec",
    "get_lab",
    "lab",
    "list_labs",
]
