"""The chat's tools, built per request for the calling user, and the user's figure folder.

Each tool returns a JSON-ready dict. Three keys have a meaning for the chat
(:mod:`wxai.cockpit.chat`): ``text`` (a short Markdown result shown with the
call), ``figures`` (URLs under ``/api/figures/``) and ``citations``. Figures are
written under ``<home>/figures/<user id>/<random id>.png``; no file name ever
comes from the user or the model.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import Field

from wxai.assistant.llm.tools.tool import Tool, ToolRegistry, tool
from wxai.cockpit.accounts import Principal
from wxai.cockpit.chat_rules import field_of as _attr
from wxai.core.errors import ConfigError, DataFormatError, UnknownNameError, WxaiError

if TYPE_CHECKING:
    from wxai.cockpit.image_tools import VisionRoute

__all__ = ["ChatToolbox", "FigureStore", "build_chat_tools", "chat_offline"]

FIGURE_ID = re.compile(r"^[0-9a-f]{32}$")
FIGURE_URL = "/api/figures/{}"


class ToolUnavailable(WxaiError, LookupError):
    """A chat tool needs a service this server does not run."""


def chat_offline() -> bool:
    """Whether the chat's weather tool uses only cached or synthetic data (``WXAI_OFFLINE=1``)."""
    return os.environ.get("WXAI_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def clock_now(now: Callable[[], datetime] | None) -> datetime:
    """``now()`` (a test's fixed clock) or the system time, timezone-aware (naive = UTC)."""
    moment = now() if now else datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class FigureStore:
    """One user's figures: ``<home>/figures/<user id>/<figure id>.png``."""

    home: Path
    user_id: str

    @property
    def folder(self) -> Path:
        return self.home / "figures" / self.user_id

    def adopt(self, path: str | Path) -> str:
        """Move a PNG written by a tool into the folder under a random id; its URL."""
        figure_id = uuid.uuid4().hex
        self.folder.mkdir(parents=True, exist_ok=True)
        shutil.move(str(path), self.folder / f"{figure_id}.png")
        return FIGURE_URL.format(figure_id)

    def scratch(self) -> Path:
        """A fresh folder for a tool to write into (removed by :meth:`clean`)."""
        folder = self.folder / f"tmp-{uuid.uuid4().hex}"
        folder.mkdir(parents=True)
        return folder

    def find(self, figure_id: str) -> Path | None:
        """The PNG of ``figure_id`` if this user has one."""
        if not FIGURE_ID.fullmatch(figure_id):
            return None
        path = self.folder / f"{figure_id}.png"
        return path if path.is_file() else None


@dataclass
class ChatToolbox:
    """The tools one request may run, and where their figures go."""

    registry: ToolRegistry
    figures: FigureStore
    principal: Principal


# ------------------------------------------------------------------ weather


def _figure_urls(figures: FigureStore, paths: list[str | None]) -> list[str]:
    return [figures.adopt(p) for p in paths if p and Path(p).is_file()]


def _weather_tool(
    figures: FigureStore, offline: bool, now: Callable[[], datetime] | None, timezone: str
) -> Tool:
    from wxai.assistant.agents.weather.graph import run_weather_workflow
    from wxai.assistant.agents.weather.tool import weather_forecast_tool

    base = weather_forecast_tool(offline=offline, now=now, timezone=timezone)

    def get_weather_forecast(
        question: str, model: Literal["auto", "icon-eu", "ifs"] = "auto"
    ) -> dict[str, Any]:
        scratch = figures.scratch()
        try:
            when = now() if now else None
            runs = [
                run_weather_workflow(
                    question, now=when, timezone=timezone, model=model, offline=offline,
                    figure_dir=scratch,
                )
            ]  # fmt: skip
            first = runs[0].to_dict()
            if first["ok"] and (first.get("variable") or {}).get("defaulted"):
                # "the weather": temperature, and wind and precipitation as well
                for extra in ("wind", "precipitation"):
                    runs.append(
                        run_weather_workflow(
                            f"{question} ({extra})", now=when, timezone=timezone, model=model,
                            offline=offline, figure_dir=scratch,
                        )
                    )  # fmt: skip
            results = [r.to_dict() for r in runs]
            urls = _figure_urls(figures, [r.get("figure") for r in results])
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        paragraphs = [p for p in first["answer"].split("\n\n") if not p.startswith("Map: ")]
        for extra in results[1:]:
            values = [p for p in extra["answer"].split("\n\n") if p.startswith("**") and "):" in p]
            if extra["ok"] and values:
                paragraphs.insert(-1 if len(paragraphs) > 1 else len(paragraphs), values[0])
        text = "\n\n".join(paragraphs)
        values = [v for r in results for v in r.get("values") or []]
        return {
            "ok": first["ok"],
            "place": first.get("place"),
            "time": first.get("time"),
            "run": first.get("run"),
            "values": values,
            "errors": [e for r in results for e in r.get("errors") or []],
            "text": text,
            "figures": urls,
        }

    return Tool(base.spec, get_weather_forecast, base.model, base.examples, base.requests)


# ------------------------------------------------------------------ dataspaces


def _dataspaces(app_state: Any) -> Any:
    store = getattr(app_state, "dataspaces", None)
    if store is None:
        raise ToolUnavailable("dataspaces are not set up on this server; ask an administrator")
    return store


#: Coordinate names the map and point tools expect, from common alternatives.
_COORD_NAMES = {
    "lat": "latitude",
    "lon": "longitude",
    "nav_lat": "latitude",
    "nav_lon": "longitude",
}


def _excerpt(text: str, limit: int = 320) -> str:
    """``text`` cut at a word boundary near ``limit`` characters, with an ellipsis."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0] + " …"


def _as_plain_markdown(text: str) -> str:
    """``text`` on one line with Markdown's special characters escaped (quoted passages).

    Parentheses and dots stay: an escaped ``\\(`` would open inline maths.
    """
    flat = " ".join(text.split())
    return re.sub(r"([\\`*_{}\[\]#+\-!|>~<$])", r"\\\1", flat)


def _dataspace_tools(app_state: Any, principal: Principal, figures: FigureStore) -> list[Tool]:
    @tool
    def search_dataspaces(query: str, k: Annotated[int, Field(ge=1, le=20)] = 5) -> dict[str, Any]:
        """Search the documents of the user's dataspaces and return passages with their sources.

        Parameters
        ----------
        query:
            What to look for, in words.
        k:
            How many passages to return.
        """
        hits = _dataspaces(app_state).search(principal, query, k=k)
        citations = [
            {
                "source": _attr(h, "source", ""),
                "dataspace": _attr(h, "dataspace_name", ""),
                "page": _attr(h, "page"),
                "url": _attr(h, "url", ""),
                "text": str(_attr(h, "text", ""))[:600],
                "score": _attr(h, "score"),
            }
            for h in hits
        ]
        lines = [
            f"{i}. **{c['source']}**" + (f", p. {c['page']}" if c["page"] else "")
            + f" ({c['dataspace']}): {_as_plain_markdown(_excerpt(c['text']))}"
            for i, c in enumerate(citations, 1)
        ]  # fmt: skip
        if not lines:
            text = f"No passage matches {query!r} in your dataspaces."
        else:
            text = "The passages of your dataspaces that match best:\n\n" + "\n".join(lines)
        return {"count": len(citations), "citations": citations, "text": text}

    def _open(file: str, variable: str, time: str | None) -> tuple[Any, str]:
        import xarray as xr

        record, path = _dataspaces(app_state).data_file(principal, file)
        path = Path(path)
        # stored files are named by id: the sniffed type, not a suffix, says GRIB
        if _attr(record, "media_type", "") == "application/x-grib":
            from wxai.data.formats.grib import read_grib_dataset

            ds = read_grib_dataset(path)
        else:
            ds = xr.open_dataset(path)
        ds = ds.rename({k: v for k, v in _COORD_NAMES.items() if k in ds.coords})
        if variable not in ds.data_vars:
            raise UnknownNameError("variable", variable, list(ds.data_vars))
        da = ds[variable]
        for dim in ("time", "valid_time", "step", "lead_time"):
            if dim in da.dims:
                if time:
                    try:
                        da = da.sel({dim: np.datetime64(time.replace("Z", ""))}, method="nearest")
                    except (ValueError, TypeError) as exc:
                        raise DataFormatError(f"time {time!r}: {exc}; give an ISO time") from None
                else:
                    da = da.isel({dim: 0})
        for dim in [d for d in da.dims if d not in ("latitude", "longitude")]:
            da = da.isel({dim: 0})
        name = str(_attr(record, "name", "") or _attr(record, "filename", "") or path.name)
        return da, name

    def _valid(da: Any) -> str:
        for name in ("valid_time", "time"):
            if name in da.coords and da[name].size == 1:
                return str(np.datetime_as_string(da[name].values, unit="m")) + " UTC"
        return "time not given in the file"

    @tool
    def field_value(
        file: str, variable: str, latitude: float, longitude: float, time: str | None = None
    ) -> dict[str, Any]:
        """The value of a variable of an uploaded GRIB or NetCDF file at a point.

        Parameters
        ----------
        file:
            The file's id or name in one of the user's dataspaces.
        variable:
            The variable's name in the file (e.g. t2m).
        latitude, longitude:
            The point [degrees north, east].
        time:
            ISO valid time; default the first in the file.
        """
        from wxai.assistant.agents.weather.point import point_value

        da, name = _open(file, variable, time)
        value = point_value(da, latitude, longitude, name=variable)
        units = str(da.attrs.get("units", ""))
        valid = _valid(da)
        text = (
            f"**{variable} = {value.bilinear:.2f} {units}** at {latitude:.3f}°N "
            f"{longitude:.3f}°E (interpolated; nearest grid point {value.nearest:.2f} {units}, "
            f"{value.distance_km:.0f} km away), valid {valid}, from `{name}`."
        )
        return {"file": name, "variable": variable, "units": units, "valid": valid,
                "value": value, "text": text}  # fmt: skip

    @tool
    def field_map(file: str, variable: str, time: str | None = None) -> dict[str, Any]:
        """Draw a map of a variable of an uploaded GRIB or NetCDF file.

        Parameters
        ----------
        file:
            The file's id or name in one of the user's dataspaces.
        variable:
            The variable's name in the file (e.g. t2m).
        time:
            ISO valid time; default the first in the file.
        """
        from wxai.viz.place_map import place_map

        da, name = _open(file, variable, time)
        units = str(da.attrs.get("units", ""))
        valid = _valid(da)
        scratch = figures.scratch()
        try:
            png = place_map(
                da, scratch / "map.png", title=f"{variable} [{units}], valid {valid}\n{name}"
            )
            urls = _figure_urls(figures, [str(png)])
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        text = f"Map of {variable} [{units}], valid {valid}, from `{name}`."
        return {"file": name, "variable": variable, "units": units, "valid": valid,
                "text": text, "figures": urls}  # fmt: skip

    return [search_dataspaces, field_value, field_map]


# ------------------------------------------------------------------ labs, reports, numbers


def _lab_tool(app_state: Any, principal: Principal) -> Tool:
    @tool
    def run_lab(name: str, preset: Literal["smoke", "full"] = "smoke") -> dict[str, Any]:
        """Start a course lab as a background task of the user.

        Parameters
        ----------
        name:
            The lab's name, as listed under Labs.
        preset:
            "smoke" (minutes) or "full".
        """
        from wxai.labs.framework.registry import get_lab

        get_lab(name)  # an unknown lab answers with the valid names
        data = {"type": "lab", "params": {"name": name, "overrides": [f"preset={preset}"]}}
        record = app_state.store.add("lab", data, owner_id=principal.id)
        app_state.worker.wake()
        text = f"Started lab **{name}** (preset {preset}) as task `{record.id}`; see Tasks."
        return {"task_id": record.id, "lab": name, "preset": preset, "text": text}

    return run_lab


def _report_tool() -> Tool:
    @tool
    def write_report(topic: str) -> dict[str, Any]:
        """Write a short weather report from notes (bullet points) with the offline model.

        Parameters
        ----------
        topic:
            The notes or topic of the report.
        """
        from wxai.assistant.agents.report import parse_bullets
        from wxai.assistant.agents.report import write_report as write
        from wxai.assistant.llm.registry import get_provider

        provider = get_provider("local-fast")
        roles = dict.fromkeys(("planner", "writer", "impact", "editor"), provider)
        bullets = parse_bullets(topic) or [topic]
        result = write(bullets, providers=roles).to_dict()
        markdown = str(result.get("markdown") or "")
        return {"markdown": markdown, "text": markdown}

    return write_report


def _number_tools() -> list[Tool]:
    from wxai.assistant.agents.weather.point import wind_speed_direction
    from wxai.assistant.llm.tools.weather import weather_tools
    from wxai.atmos.humidity import saturation_vapour_pressure

    kept = [t for t in weather_tools() if t.name in ("convert_units", "dew_point", "wind_chill")]

    @tool
    def wind_from_uv(u: float, v: float) -> dict[str, Any]:
        """Wind speed and the direction it blows from, from the u and v components [m/s].

        Parameters
        ----------
        u, v:
            Eastward and northward wind [m/s].
        """
        speed, direction = wind_speed_direction(u, v)
        text = f"wind {speed:.1f} m/s ({speed * 3.6:.1f} km/h) from {direction:.0f}°"
        return {"speed_ms": speed, "direction_deg": direction, "text": text}

    @tool
    def relative_humidity(temperature_c: float, dew_point_c: float) -> dict[str, Any]:
        """Relative humidity [%] from temperature and dew point [°C] (Magnus formula).

        Parameters
        ----------
        temperature_c, dew_point_c:
            Air temperature and dew point [°C].
        """
        if dew_point_c > temperature_c + 0.05:
            raise ConfigError("the dew point cannot be above the temperature; check the values")
        rh = float(
            100.0
            * saturation_vapour_pressure(dew_point_c)
            / saturation_vapour_pressure(temperature_c)
        )
        return {"relative_humidity_percent": rh, "text": f"relative humidity {rh:.0f} %"}

    return [*kept, wind_from_uv, relative_humidity]


def build_chat_tools(
    app_state: Any,
    principal: Principal,
    home: Path,
    *,
    offline: bool | None = None,
    now: Callable[[], datetime] | None = None,
    timezone: str = "Europe/Berlin",
    vision: VisionRoute | None = None,
) -> ChatToolbox:
    """The registry of chat tools for ``principal`` (``app_state``: the app's ``state``).

    ``vision`` is the session's model, which reads uploaded images when it can.
    """
    from wxai.cockpit.emulator_tools import emulator_tools  # they build on this module
    from wxai.cockpit.image_tools import image_tools
    from wxai.cockpit.product_tools import product_tools
    from wxai.cockpit.radar_tools import radar_tools

    figures = FigureStore(Path(home), principal.id)
    chosen = chat_offline() if offline is None else offline
    tools: list[Tool] = [
        _weather_tool(figures, chosen, now, timezone),
        *_dataspace_tools(app_state, principal, figures),
        _lab_tool(app_state, principal),
        _report_tool(),
        *_number_tools(),
        *emulator_tools(Path(home), figures),
        *product_tools(Path(home), figures, offline=chosen, now=now, timezone=timezone),
        *image_tools(app_state, principal, figures, vision),
        *radar_tools(figures, offline=chosen, now=now, vision=vision),
    ]
    return ChatToolbox(ToolRegistry(tools), figures, principal)
