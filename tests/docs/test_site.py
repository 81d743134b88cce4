"""The documentation site: ``mkdocs build --strict`` with a live lab gallery, and gallery.py.

The site is built once per module (about 30 s on 2 cores) into a temporary folder, with
``WXAI_HOME`` pointing at a home that holds one stored lab result made through the
store API, so that the gallery must show that run's metric and figure.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from wxai.core.errors import ConfigError
from wxai.core.settings import reload_settings
from wxai.labs.framework import gallery
from wxai.labs.framework.registry import get_lab, list_labs
from wxai.labs.framework.result import Acceptance, LabResult
from wxai.labs.framework.store import new_run_dir, save_result

REPO = Path(__file__).resolve().parents[2]
LAB = "sine-regression"
METRIC_VALUE = 0.012345
FIGURE = "fit_docs_test.png"


def stored_result(run_dir: Path, figures: list[str]) -> LabResult:
    """A result of ``sine-regression`` as the runner would store it."""
    spec = get_lab(LAB)
    return LabResult(
        lab=LAB,
        title=spec.title,
        topic=spec.topic,
        day=spec.day,
        preset="smoke",
        metrics={"rmse": METRIC_VALUE, "val_rmse_marker": 0.98765},
        acceptance=Acceptance("rmse", METRIC_VALUE, "<", 0.05, "RMSE below 0.05 on [0, 2 pi]"),
        figures=figures,
        summary="docs test run",
        run_id="0123abcd",
        run_dir=str(run_dir),
        started_at="2026-01-02T03:04:05+00:00",
        duration_s=1.5,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built with --strict from a home holding one stored run of ``sine-regression``."""
    home = tmp_path_factory.mktemp("docs-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WXAI_HOME", str(home))
        reload_settings()
        run_dir = new_run_dir(LAB, "20260102-030405")
        fig, ax = plt.subplots(figsize=(2, 2))
        ax.plot([0, 1], [0, 1])
        fig.savefig(run_dir / FIGURE)
        plt.close(fig)
        save_result(stored_result(run_dir, [str(run_dir / FIGURE)]))
    reload_settings()
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "WXAI_HOME": str(home), "NO_MKDOCS_2_WARNING": "1"}
    env.pop("WXAI_TRACKING_UI_URL", None)
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)]
    done = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    problems = [line for line in done.stderr.splitlines() if not line.startswith("INFO")]
    assert done.returncode == 0, "\n".join(problems)[-4000:]
    return out


def page_text(site: Path, path: str) -> str:
    """The text of a built page with tags stripped (``path`` relative to the site)."""
    html = (site / path).read_text(encoding="utf-8")
    return re.sub(r"<[^>]+>", " ", html)


def test_landing_page_and_guides_are_built(site: Path) -> None:
    landing = page_text(site, "index.html")
    assert "observations" in landing and "services" in landing
    assert "Lab gallery" in landing
    assert "make test" in page_text(site, "getting-started/index.html")
    assert "read_grib" in page_text(site, "data/index.html")
    assert "MlflowTracker" in page_text(site, "mlops/index.html")
    assert "ecCodes" in page_text(site, "grib/index.html")  # an existing guide


def test_api_reference_is_generated_from_docstrings(site: Path) -> None:
    data = (site / "reference/data/index.html").read_text(encoding="utf-8")
    assert 'id="wxai.data.formats.grib.read_grib"' in data
    assert ":func:<code>" not in data and ":mod:<code>" not in data  # roles made plain
    labs = page_text(site, "reference/labs/index.html")
    assert "index_page" in labs and "Markdown index of all labs" in labs  # a docstring


def test_gallery_lists_every_lab_and_the_stored_run(site: Path) -> None:
    index = page_text(site, "gallery/index.html")
    for spec in list_labs():
        assert spec.name in index
        assert (site / "gallery" / spec.name / "index.html").is_file()
    assert "1 have a stored run" in index
    page = (site / f"gallery/{LAB}/index.html").read_text(encoding="utf-8")
    assert "0.012345" in page and "0.98765" in page and "PASS" in page
    assert f"figures/{LAB}/{FIGURE}" in page
    assert (site / "gallery/figures" / LAB / FIGURE).stat().st_size > 100
    assert gallery.NOT_RUN in page_text(site, "gallery/ddpm/index.html")


def test_site_fetches_nothing_from_the_web(site: Path) -> None:
    html = (site / "index.html").read_text(encoding="utf-8")
    assert "fonts.googleapis.com" not in html
    assert not re.search(r'<script[^>]+src="https?://', html)


# -- gallery.py ------------------------------------------------------------------------


def test_lab_page_without_a_run_says_not_run_yet() -> None:
    spec = get_lab(LAB)
    text = gallery.lab_page(spec, None)
    assert text.startswith(f"# {LAB}\n")
    assert gallery.NOT_RUN in text and f"Course day **{spec.day}**" in text
    assert spec.topic in text and "## Last run" not in text


def test_lab_page_shows_acceptance_metrics_and_figures(tmp_path: Path) -> None:
    spec = get_lab(LAB)
    result = stored_result(tmp_path, [])
    text = gallery.lab_page(spec, result, ["gallery/figures/sine-regression/a.png"])
    assert "**rmse = 0.01235** (must be < 0.05): **PASS**" in text
    assert "- Baseline: RMSE below 0.05 on [0, 2 pi]" in text
    assert "| val_rmse_marker | 0.98765 |" in text
    assert "](figures/sine-regression/a.png)" in text
    failed = replace(result, acceptance=replace(result.acceptance, value=math.nan))
    assert "**FAIL**" in gallery.lab_page(spec, failed)


def test_lab_page_rejects_the_result_of_another_lab(tmp_path: Path) -> None:
    other = replace(stored_result(tmp_path, []), lab="ddpm")
    with pytest.raises(ConfigError, match=r"'ddpm'.*'sine-regression'"):
        gallery.lab_page(get_lab(LAB), other)


def test_index_groups_by_day_with_verdicts(tmp_path: Path) -> None:
    specs = list_labs()
    result = stored_result(tmp_path, [])
    entries = [(spec, result if spec.name == LAB else None) for spec in specs]
    text = gallery.index_page(entries)
    days = sorted({spec.day for spec in specs})
    headings = re.findall(r"^## Day (\d)", text, flags=re.MULTILINE)
    assert [int(day) for day in headings] == days
    assert f"{len(specs)} labs; 1 have a stored run, 1 of them" in text
    assert f"| [{LAB}]({LAB}.md) |" in text and "PASS (rmse = 0.01235)" in text
    assert text.count(gallery.NOT_RUN) == len(specs) - 1


def test_nav_section_and_figure_targets(tmp_path: Path) -> None:
    specs = list_labs()
    section = gallery.nav_section([(spec, None) for spec in specs])
    assert section[0] == gallery.INDEX_PAGE
    pages = [page for group in section[1:] for pages in group.values() for page in pages]
    assert pages == [gallery.lab_page_path(spec.name) for spec in specs]
    present = tmp_path / "a.png"
    present.write_bytes(b"png")
    result = stored_result(tmp_path, [str(present), str(tmp_path / "gone.png")])
    assert gallery.figure_targets(result) == [(present, f"gallery/figures/{LAB}/a.png")]


def test_cells_and_numbers_are_safe() -> None:
    assert gallery.cell("a | b\nc") == "a \\| b c"
    assert gallery.number(None) == "-" and gallery.number(math.nan) == "nan"
    assert gallery.number(123456.0) == "1.235e+05"
