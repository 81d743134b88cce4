"""The labs as the cockpit shows them: summaries of their last results and their figures."""

from __future__ import annotations

import re
from pathlib import Path

from wxai.cockpit.schemas import AcceptanceOut, LabOut, LabRunOut, finite
from wxai.core.errors import WxaiError
from wxai.core.paths import configs_dir
from wxai.core.settings import Settings
from wxai.labs.framework.registry import LabSpec, get_lab, list_labs
from wxai.labs.framework.result import LabResult
from wxai.labs.framework.store import latest_results

#: A figure name the API serves: one plain PNG file name, no directories.
FIGURE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.png$")
DEFAULT_PRESETS = ("smoke", "full")


class FigureNotFoundError(WxaiError, LookupError):
    """The lab has no figure of that name in its last result."""


def invalid_figure_name(filename: str) -> bool:
    """Whether ``filename`` could leave the figures directory or is not a PNG name."""
    return (
        ".." in filename or "/" in filename or "\\" in filename or not FIGURE_NAME.match(filename)
    )


def lab_presets(name: str) -> list[str]:
    """The presets of lab ``name`` (files of its ``preset/`` config group), smoke first."""
    try:
        found = {path.stem for path in (configs_dir() / "labs" / name / "preset").glob("*.yaml")}
    except WxaiError:
        found = set()
    if not found:
        return list(DEFAULT_PRESETS)
    order = {preset: i for i, preset in enumerate(DEFAULT_PRESETS)}
    return sorted(found, key=lambda preset: (order.get(preset, len(order)), preset))


def figure_url(result: LabResult, path: str) -> str:
    """URL path of a figure of ``result`` (the run in the query keeps browser caches honest)."""
    return f"/api/labs/{result.lab}/figures/{Path(path).name}?run={Path(result.run_dir).name}"


def tracking_url(result: LabResult, settings: Settings) -> str | None:
    """Link to the run in the MLflow UI when ``WXAI_TRACKING_UI_URL`` is set."""
    if not (settings.tracking_ui_url and result.run_id and result.experiment_id):
        return None
    base = settings.tracking_ui_url.rstrip("/")
    return f"{base}/#/experiments/{result.experiment_id}/runs/{result.run_id}"


def summarize_result(result: LabResult, settings: Settings) -> LabRunOut:
    """The API view of a stored lab result."""
    acceptance = result.acceptance
    return LabRunOut(
        preset=result.preset,
        metrics=finite(dict(result.metrics)),
        acceptance=AcceptanceOut(
            metric=acceptance.metric,
            value=finite(float(acceptance.value)),
            comparison=acceptance.comparison,
            threshold=finite(float(acceptance.threshold)),
            baseline=acceptance.baseline,
            baseline_value=finite(acceptance.baseline_value),
            passed=acceptance.passed,
            description=acceptance.describe(),
        ),
        passed=result.passed,
        summary=result.summary,
        figures=[figure_url(result, path) for path in result.figures],
        run_id=result.run_id,
        experiment_id=result.experiment_id,
        tracking_url=tracking_url(result, settings),
        started_at=result.started_at,
        duration_s=result.duration_s,
    )


def lab_summary(spec: LabSpec, result: LabResult | None, settings: Settings) -> LabOut:
    """The API view of one lab."""
    return LabOut(
        name=spec.name,
        title=spec.title,
        topic=spec.topic,
        day=spec.day,
        presets=lab_presets(spec.name),
        last_result=None if result is None else summarize_result(result, settings),
    )


def all_labs(settings: Settings) -> list[LabOut]:
    """Every registered lab with its last result, by course day and name."""
    results = latest_results()
    return [lab_summary(spec, results.get(spec.name), settings) for spec in list_labs()]


def one_lab(name: str, settings: Settings) -> LabOut:
    """Lab ``name`` with its last result; raises UnknownNameError for an unknown name."""
    spec = get_lab(name)
    return lab_summary(spec, latest_results().get(spec.name), settings)


def figure_path(name: str, filename: str) -> Path:
    """The file of figure ``filename`` in the last result of lab ``name``.

    Raises
    ------
    UnknownNameError
        If there is no lab ``name``.
    FigureNotFoundError
        If the lab has no result yet, or its last result has no such figure.
    """
    spec = get_lab(name)
    result = latest_results().get(spec.name)
    if result is None:
        raise FigureNotFoundError(f"lab {name!r} has no result yet; run it first")
    run_dir = Path(result.run_dir).resolve()
    for stored in result.figures:
        path = Path(stored).resolve()
        if path.name == filename and path.is_relative_to(run_dir) and path.is_file():
            return path
    names = ", ".join(Path(stored).name for stored in result.figures) or "none"
    raise FigureNotFoundError(
        f"the last result of lab {name!r} has no figure {filename!r}; its figures: {names}"
    )
