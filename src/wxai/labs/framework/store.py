"""Lab run directories and the results saved in them."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from wxai.core.paths import ensure_dir, lab_runs_dir
from wxai.labs.framework.result import LabResult

RESULT_FILE = "result.json"


def new_run_dir(lab: str, stamp: str) -> Path:
    """A fresh directory ``<home>/labs/<lab>/<stamp>`` for one run."""
    return ensure_dir(lab_runs_dir() / lab / stamp)


def save_result(result: LabResult) -> Path:
    """Write ``result.json`` into the run directory atomically; return its path."""
    run_dir = ensure_dir(Path(result.run_dir))
    fd, tmp = tempfile.mkstemp(dir=run_dir, prefix=".result-", suffix=".json")
    with os.fdopen(fd, "w") as handle:
        handle.write(result.to_json())
    target = run_dir / RESULT_FILE
    Path(tmp).replace(target)
    return target


def latest_results() -> dict[str, LabResult]:
    """The most recent stored result of each lab that has one."""
    latest: dict[str, LabResult] = {}
    for path in sorted(lab_runs_dir().glob(f"*/*/{RESULT_FILE}")):
        try:
            result = LabResult.load(path)
        except (OSError, ValueError, TypeError, KeyError, json.JSONDecodeError):
            continue  # a foreign or damaged file is skipped, never fatal
        current = latest.get(result.lab)
        if current is None or result.started_at >= current.started_at:
            latest[result.lab] = result
    return latest
