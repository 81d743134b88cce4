"""Chat tools of the weather products: fronts and wind warnings on the ICON-EU forecast.

``weather_fronts`` ("show me the fronts over Europe tomorrow morning") and
``weather_warnings`` ("which warnings would the model issue for the storm on Friday")
resolve the time in words (the weather agent's calendar rules), fetch the ICON-EU
fields for it as the weather tool does (open-data server, the local cache, else the
synthetic atmosphere, and say which), and run :mod:`wxai.products`. Fronts are drawn
6 h before, at and 6 h after the time asked; warnings at the time asked. Without a
trained front detector the first call trains the small one of the lab's smoke preset
(about half a minute) and keeps it; warnings fall back to the gust-threshold baseline
until ``wxai lab run warning-polygons`` has registered a diagnoser.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from wxai.assistant.llm.tools.tool import Tool, tool
from wxai.cockpit.chat_tools import FigureStore, clock_now

__all__ = ["DEFAULT_DETECTOR", "product_tools"]

#: Folder (under the products' model folder) of the detector trained on first use.
DEFAULT_DETECTOR = "first-use-smoke"
_MODEL = "icon-eu"
_ORIGINS = {
    "server": "from the open-data server",
    "cache": "from the local download cache",
    "synthetic": "SYNTHETIC (wxai's synthetic atmosphere, no real data could be had)",
}


@dataclasses.dataclass
class _Fields:
    data: Any  # xr.Dataset on (time, latitude, longitude)
    origin: str
    runs: list[str]
    notes: list[str]


def _fetch(
    names: Sequence[str], valid_times: Sequence[datetime], now: datetime, offline: bool
) -> _Fields:
    """``names`` at ``valid_times`` from ICON-EU (server, cache or synthetic)."""
    import xarray as xr

    from wxai.assistant.agents.weather.fetch import fetch_fields
    from wxai.assistant.agents.weather.schedule import choose_run
    from wxai.data.fields import find_variable, on_time_lat_lon, open_fields

    pieces: dict[str, list[Any]] = {name: [] for name in names}
    origins, runs, notes = set(), [], []
    for valid in valid_times:
        choice = choose_run(_MODEL, valid, now=now)
        files = fetch_fields(choice, list(names), offline=offline)
        origins.add(_ORIGINS.get(files.origin, files.origin))
        runs.append(f"{files.run:%Y-%m-%d %H} UTC +{files.lead_hours} h")
        notes += [n for n in files.notes if n not in notes]
        opened = {p: open_fields(p) for p in {p for n in names for p in files.files[n]}}
        for name in names:
            for path in files.files[name]:
                da = on_time_lat_lon(find_variable(opened[path], name, str(path)), name)
                if "time" in da.dims:
                    target = choice.valid.replace(tzinfo=None)
                    da = da.sel(time=[target], method="nearest")
                pieces[name].append(da)
    data = xr.Dataset(
        {n: xr.concat(p, dim="time") if "time" in p[0].dims else p[0] for n, p in pieces.items()}
    )
    return _Fields(data, ", ".join(sorted(origins)), runs, notes)


def _detector(home: Path) -> tuple[Path, str]:
    """The front detector to use, training the small default one on first use."""
    from wxai.products.fronts.model import find_front_model, models_dir

    found = find_front_model(home)
    if found is not None:
        return found, ""
    from wxai.labs.framework.config import compose_config
    from wxai.labs.framework.registry import get_lab
    from wxai.labs.products_fronts import fit_front_detector, front_cases
    from wxai.products.fronts import save_detector

    cfg, _ = compose_config(get_lab("front-detection"), ["preset=smoke"])
    train, val, _ = front_cases(cfg, with_test=False)
    fit = fit_front_detector(cfg, train, val)
    path = models_dir(home) / DEFAULT_DETECTOR / "front-detector.pt"
    meta = {"grid_step": cfg.grid.step, "trained": "first use, smoke preset"}
    save_detector(fit.detector, path, meta)
    return path, (
        "No trained front detector was found, so a small one (the lab's smoke preset, "
        "1 degree charts) was trained now and kept; `wxai lab run front-detection` trains "
        "the full one."
    )


def _when(text: str, now: datetime, timezone: str) -> datetime:
    from wxai.assistant.agents.weather.when import resolve_time

    return resolve_time(text or "now", now, tz=timezone).utc


def _provenance(fields: _Fields) -> list[str]:
    lines = [f"- data: ICON-EU, {fields.origin}; runs {', '.join(fields.runs)}"]
    lines += [f"- {note}" for note in fields.notes]
    return lines


def product_tools(
    home: Path,
    figures: FigureStore,
    *,
    offline: bool,
    now: Callable[[], datetime] | None = None,
    timezone: str = "Europe/Berlin",
) -> list[Tool]:
    """``weather_fronts`` and ``weather_warnings`` for the user of ``figures``."""

    def current() -> datetime:
        return clock_now(now)

    @tool(
        requests=(
            "show me the fronts over Europe tomorrow morning",
            "where are the cold fronts on Saturday",
        )
    )
    def weather_fronts(when: str = "tomorrow morning") -> dict[str, Any]:
        """Detect warm, cold and occluded fronts over Europe and draw them on the isobars.

        Parameters
        ----------
        when:
            The time in words or ISO form, e.g. "tomorrow morning", "Friday 18 UTC".
        """
        from wxai.products.fronts.detect import chart_fields
        from wxai.products.fronts.service import fronts_for_charts

        moment = current()
        valid = _when(when, moment, timezone)
        times = [valid - timedelta(hours=6), valid, valid + timedelta(hours=6)]
        times = [t for t in times if t >= moment - timedelta(hours=6)] or [valid]
        fields = _fetch(("msl", "t2m", "rh2m", "u10", "v10"), times, moment, offline)
        model, trained_note = _detector(home)
        scratch = figures.scratch()
        try:
            charts = chart_fields(fields.data, "the ICON-EU fields")
            made = fronts_for_charts(
                charts, scratch, model=model, source="ICON-EU", max_times=3,
                title=f"Fronts over Europe around {valid:%a %d %b %H UTC}",
            )  # fmt: skip
            urls = [figures.adopt(made.paths["figure"])]
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        found = ", ".join(f"{n} {k}" for k, n in made.lines.items() if n) or "no fronts"
        lines = [
            f"**Fronts over Europe** at {', '.join(t + ' UTC' for t in made.times)}: "
            f"{found} front lines (red warm, blue cold, violet occluded, over isobars "
            "every 4 hPa).",
            "",
            *_provenance(fields),
            f"- detector: {made.model}",
        ]
        if made.grid_note:
            lines.append(f"- {made.grid_note}")
        if charts.attrs.get("land_fraction_source", "the file") != "the file":
            lines.append("- land fraction from the packaged GSHHS coastlines")
        if trained_note:
            lines += ["", trained_note]
        return {
            "times": made.times,
            "lines": made.lines,
            "origin": fields.origin,
            "detector": made.model,
            "text": "\n".join(lines),
            "figures": urls,
        }

    @tool(
        requests=(
            "which warnings would the model issue for the storm on Friday",
            "wind warnings for tomorrow evening",
        )
    )
    def weather_warnings(when: str = "tomorrow") -> dict[str, Any]:
        """Diagnose wind-gust warning regions over Europe (levels 1-4) with CAP alerts.

        Parameters
        ----------
        when:
            The time in words or ISO form, e.g. "Friday", "tomorrow 18 UTC".
        """
        from wxai.products.warnings.service import warning_fields, warnings_for_fields

        moment = current()
        valid = _when(when, moment, timezone)
        fields = _fetch(("gust", "u10", "v10", "msl"), [valid], moment, offline)
        scratch = figures.scratch()
        try:
            made = warnings_for_fields(
                warning_fields(fields.data, "the ICON-EU fields"), scratch, source="ICON-EU",
                max_times=1, area_name="ICON-EU domain",
            )  # fmt: skip
            pngs = [p for p in made.paths if p.suffix == ".png"]
            caps = [p.name for p in made.paths if p.name.endswith(".cap.xml")]
            urls = [figures.adopt(p) for p in pngs]
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        areas = made.warned_km2[0]
        warned = [f"{k}: {v:,.0f} km2" for k, v in areas.items() if v > 0]
        lines = [
            f"**Wind warnings** for {made.times[0]} UTC ({made.method} diagnoser): "
            + ("; ".join(warned) if warned else "no warning level reached")
            + ".",
            "",
            *_provenance(fields),
            f"- {len(caps)} CAP 1.2 alert(s), one per warned level, validated against the "
            "OASIS schema; `wxai products warnings FILE` writes them to disk",
        ]
        if made.note:
            lines += ["", made.note]
        return {
            "time": made.times[0],
            "method": made.method,
            "warned_km2": areas,
            "cap_alerts": caps,
            "origin": fields.origin,
            "text": "\n".join(lines),
            "figures": urls,
        }

    return [weather_fronts, weather_warnings]
