"""Static HTML gallery of the latest lab results (``wxai lab report``)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from wxai import __version__
from wxai.core.paths import ensure_dir, home_dir
from wxai.core.settings import get_settings
from wxai.labs.framework.registry import LabSpec, list_labs
from wxai.labs.framework.result import LabResult
from wxai.labs.framework.store import latest_results


def run_link(result: LabResult) -> str | None:
    """URL of the result's run in an MLflow UI, if ``WXAI_TRACKING_UI_URL`` is set."""
    base = get_settings().tracking_ui_url
    if not base or not result.run_id:
        return None
    return f"{base.rstrip('/')}/#/experiments/{result.experiment_id}/runs/{result.run_id}"


def lab_entries() -> list[tuple[LabSpec, LabResult | None]]:
    """Every registered lab (by day and name) with its latest stored result, or None.

    The one source of this report and of the docs site's lab gallery.
    """
    results = latest_results()
    return [(spec, results.get(spec.name)) for spec in list_labs()]


def figure_files(result: LabResult) -> list[Path]:
    """The figures of ``result`` that still exist on disk, in the order the lab wrote them."""
    return [path for path in map(Path, result.figures) if path.is_file()]


def build_report(out_dir: Path | None = None) -> Path:
    """Write the gallery to ``out_dir`` (default ``<wxai home>/report``); return index.html.

    Figures are copied next to the page, so the folder can be moved or published.
    """
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    out = ensure_dir(out_dir or home_dir() / "report")
    entries = []
    for spec, result in lab_entries():
        figures = []
        if result is not None:
            target = ensure_dir(out / "figures" / spec.name)
            for source in figure_files(result):
                shutil.copy2(source, target / source.name)
                figures.append(f"figures/{spec.name}/{source.name}")
        entries.append(
            {
                "spec": spec,
                "result": result,
                "figures": figures,
                "link": run_link(result) if result else None,
            }
        )
    env = Environment(
        loader=FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=select_autoescape(["html", "j2"]),
    )
    html = env.get_template("report.html.j2").render(
        entries=entries,
        version=__version__,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        tracking_uri=get_settings().resolved_tracking_uri,
        passed=sum(1 for e in entries if e["result"] and e["result"].passed),
        ran=sum(1 for e in entries if e["result"]),
    )
    index = out / "index.html"
    tmp = index.with_suffix(".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(index)
    return index
