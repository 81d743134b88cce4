"""Markdown pages of the docs site's lab gallery.

The same data as ``wxai lab report`` (:func:`wxai.labs.framework.report.lab_entries`):
every registered lab with its latest stored result. The functions here only format;
``docs/hooks/gallery.py`` calls them while MkDocs builds and copies the figures.

Layout of the generated pages, relative to the site root::

    gallery/index.md                  all labs, grouped by course day
    gallery/<lab>.md                  one lab: description, acceptance, last run
    gallery/figures/<lab>/<file>      the figures of the lab's last run
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from pathlib import Path

from wxai.core.errors import ConfigError
from wxai.labs.framework.registry import LabSpec
from wxai.labs.framework.report import figure_files, run_link
from wxai.labs.framework.result import Acceptance, LabResult

#: Folder of the gallery inside the site, and its index page.
GALLERY_DIR = "gallery"
INDEX_PAGE = f"{GALLERY_DIR}/index.md"

#: What each course day covers (headings of the index page).
DAY_THEMES: dict[int, str] = {
    1: "Data formats, maps, observations and neural-network foundations",
    2: "Networks, retrieval and multimodal models",
    3: "Agents, generative models, products and MLOps",
    4: "The graph emulator and MLOps",
    5: "Data assimilation, physics and AI, emulator II",
}

NOT_RUN = "not run yet"

Entry = tuple[LabSpec, LabResult | None]


def number(value: float | None, digits: int = 4) -> str:
    """``value`` with ``digits`` significant digits; ``-`` for None, ``nan``/``inf`` as such."""
    if value is None:
        return "-"
    if math.isnan(value) or math.isinf(value):
        return str(value)
    return f"{value:.{digits}g}"


def cell(text: str) -> str:
    """``text`` made safe for one cell of a Markdown table (one line, ``|`` escaped)."""
    return " ".join(text.split()).replace("|", "\\|")


def verdict(result: LabResult | None) -> str:
    """``PASS``, ``FAIL`` or "not run yet"."""
    if result is None:
        return NOT_RUN
    return "PASS" if result.passed else "FAIL"


def lab_page_path(name: str) -> str:
    """Site path of the page of lab ``name``, e.g. ``gallery/ddpm.md``."""
    return f"{GALLERY_DIR}/{name}.md"


def figure_uri(lab: str, figure: Path) -> str:
    """Site path a figure of lab ``lab`` is copied to."""
    return f"{GALLERY_DIR}/figures/{lab}/{figure.name}"


def figure_targets(result: LabResult) -> list[tuple[Path, str]]:
    """``(source file, site path)`` of each figure of ``result`` that still exists."""
    return [(path, figure_uri(result.lab, path)) for path in figure_files(result)]


def description(spec: LabSpec) -> str:
    """The lab function's docstring, or its title where it has none."""
    return inspect.getdoc(spec.func) or spec.title


def acceptance_lines(acceptance: Acceptance) -> list[str]:
    """Markdown bullets of the acceptance figure, its threshold and its baseline."""
    lines = [
        f"- **{acceptance.metric} = {number(acceptance.value)}** "
        f"(must be {acceptance.comparison} {number(acceptance.threshold)}): "
        f"**{'PASS' if acceptance.passed else 'FAIL'}**",
        f"- Baseline: {' '.join(acceptance.baseline.split())}",
    ]
    if acceptance.baseline_value is not None:
        lines.append(f"- Baseline value: {number(acceptance.baseline_value)}")
    return lines


def metrics_table(metrics: dict[str, float]) -> list[str]:
    """A two-column Markdown table of ``metrics`` (empty list for no metrics)."""
    if not metrics:
        return []
    rows = [f"| {cell(key)} | {number(value, 5)} |" for key, value in metrics.items()]
    return ["| metric | value |", "| --- | ---: |", *rows]


def run_lines(result: LabResult) -> list[str]:
    """One line on the run itself: preset, start, duration, MLflow run and model."""
    run = f"`{result.run_id}`" if result.run_id else "-"
    link = run_link(result)
    if link:
        run = f"[{result.run_id}]({link})"
    parts = [
        f"preset **{result.preset}**",
        f"started {result.started_at[:19].replace('T', ' ') or '-'}",
        f"{result.duration_s:.1f} s",
        f"run {run}",
    ]
    if result.model_uri:
        parts.append(f"model `{result.model_uri}`")
    return [" · ".join(parts)]


def lab_page(spec: LabSpec, result: LabResult | None, figures: Sequence[str] = ()) -> str:
    """Markdown page of one lab.

    Parameters
    ----------
    spec:
        The registered lab.
    result:
        Its latest stored run, or None if it has not run.
    figures:
        Site paths of the run's figures (see :func:`figure_targets`); linked relative
        to the page, which lives in ``gallery/``.
    """
    if result is not None and result.lab != spec.name:
        raise ConfigError(f"result of lab {result.lab!r} given for lab {spec.name!r}")
    lines = [
        f"# {spec.name}",
        "",
        f"*{spec.title}*",
        "",
        f"Course day **{spec.day}** · {spec.topic} · run it with `wxai lab run {spec.name}` "
        f"(`preset=smoke` for a quick check)",
        "",
        description(spec),
        "",
        "## Acceptance figure and baseline",
        "",
    ]
    if result is None:
        lines += [
            f"**{NOT_RUN}.** The acceptance figure, its threshold and the baseline it is "
            "compared with are measured and recorded by a run; run the lab, then rebuild "
            "the site.",
        ]
        return "\n".join(lines) + "\n"
    lines += [*acceptance_lines(result.acceptance), "", "## Last run", ""]
    lines += [*run_lines(result), ""]
    if result.summary:
        lines += [result.summary.strip(), ""]
    lines += [*metrics_table(result.metrics), ""]
    for uri in figures:
        name = Path(uri).name
        relative = uri.removeprefix(f"{GALLERY_DIR}/")
        lines += [f"[![{spec.name}: {name}]({relative})]({relative})", ""]
    return "\n".join(lines)


def nav_section(entries: Sequence[Entry]) -> list[str | dict[str, list[str]]]:
    """MkDocs nav of the gallery: the index, then the lab pages under one heading per day."""
    section: list[str | dict[str, list[str]]] = [INDEX_PAGE]
    for day in sorted({spec.day for spec, _ in entries}):
        pages = [lab_page_path(spec.name) for spec, _ in entries if spec.day == day]
        section.append({f"Day {day}": pages})
    return section


def index_page(entries: Sequence[Entry]) -> str:
    """Markdown index of all labs, one table per course day, with each lab's last verdict."""
    ran = [result for _, result in entries if result is not None]
    passed = sum(1 for result in ran if result.passed)
    lines = [
        "# Lab gallery",
        "",
        f"{len(entries)} labs; {len(ran)} have a stored run, {passed} of them reached "
        "their acceptance figure. The pages are built from the lab registry and the results "
        "stored in the wxai home (`WXAI_HOME`) when the site is built, the same data as "
        "`wxai lab report` and the cockpit's labs page. Run a lab with "
        "`wxai lab run NAME`, then rebuild the site (`make docs`).",
        "",
    ]
    for day in sorted({spec.day for spec, _ in entries}):
        theme = DAY_THEMES.get(day, "")
        lines += [f"## Day {day}" + (f": {theme}" if theme else ""), ""]
        lines += ["| lab | what it does | topic | last run |", "| --- | --- | --- | --- |"]
        for spec, result in entries:
            if spec.day != day:
                continue
            last = verdict(result)
            if result is not None:
                last += f" ({result.acceptance.metric} = {number(result.acceptance.value)})"
            link = f"[{spec.name}]({spec.name}.md)"
            lines.append(f"| {link} | {cell(spec.title)} | {cell(spec.topic)} | {cell(last)} |")
        lines.append("")
    return "\n".join(lines)
