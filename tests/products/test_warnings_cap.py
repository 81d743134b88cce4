"""CAP 1.2 alerts: built, validated against the OASIS schema, broken ones rejected."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon

from wxai.core.errors import DataFormatError
from wxai.products.warnings import DWD_GUST_LEVELS, cap_alert, validate_cap
from wxai.products.warnings.cap import CAP_SCHEMA, cap_polygons, hole_free_parts

T0 = np.datetime64("2024-01-15T12:00:00")
HOLED = Polygon([(0, 45), (12, 45), (12, 55), (0, 55)], [[(4, 48), (8, 48), (8, 52), (4, 52)]])


def _alert(**kwargs):
    args = {"onset": T0, "expires": T0 + np.timedelta64(6, "h"), "sent": T0,
            "identifier": "wxai-test-1"}  # fmt: skip
    return cap_alert(HOLED, DWD_GUST_LEVELS[2], **(args | kwargs))


def test_the_schema_is_the_unmodified_oasis_file():
    text = CAP_SCHEMA.read_text()
    assert "urn:oasis:names:tc:emergency:cap:1.2" in text and "OASIS" in text
    digest = hashlib.sha256(CAP_SCHEMA.read_bytes()).hexdigest()
    assert digest == "b7798ef25868b068c97b268bda02d067c7d4ba9373adc5638bf37105804ee723"


def test_a_built_alert_is_valid_and_has_the_required_content():
    document = _alert()
    validate_cap(document)
    for snippet in ("<category>Met</category>", "<severity>Moderate</severity>",
                    "<onset>2024-01-15T12:00:00+00:00</onset>",
                    "<expires>2024-01-15T18:00:00+00:00</expires>", "<status>Draft</status>",
                    "<msgType>Alert</msgType>", "<areaDesc>"):  # fmt: skip
        assert snippet in document


def test_polygons_are_closed_lat_lon_rings_and_cover_the_holed_area():
    rings = cap_polygons(HOLED)
    assert len(rings) >= 2  # the hole is cut out into hole-free pieces
    pieces = []
    for ring in rings:
        points = [tuple(map(float, p.split(","))) for p in ring.split()]
        assert points[0] == points[-1] and len(points) >= 4
        assert all(44 <= lat <= 56 and -1 <= lon <= 13 for lat, lon in points)
        pieces.append(Polygon([(lon, lat) for lat, lon in points]))
    assert shapely.union_all(pieces).symmetric_difference(HOLED).area < 1e-6
    assert all(not p.interiors for p in hole_free_parts(HOLED))


def test_wrong_severity_is_rejected_with_a_clear_message():
    broken = _alert().replace("<severity>Moderate</severity>", "<severity>Huge</severity>")
    with pytest.raises(DataFormatError, match="severity") as error:
        validate_cap(broken)
    assert "/alert/info/severity" in str(error.value)
    assert "must be one of" in str(error.value) and "Moderate" in str(error.value)


def test_missing_element_is_rejected():
    document = _alert()
    start = document.index("<event>")
    end = document.index("</event>") + len("</event>")
    with pytest.raises(DataFormatError, match=r"not a valid CAP 1\.2 alert"):
        validate_cap(document[:start] + document[end:])


def test_open_polygon_and_bad_time_are_rejected():
    document = _alert()
    ring = cap_polygons(HOLED)[0]
    opened = document.replace(ring, ring.rsplit(" ", 1)[0], 1)
    with pytest.raises(DataFormatError, match="not closed"):
        validate_cap(opened)
    with pytest.raises(DataFormatError, match="sent"):
        validate_cap(document.replace("<sent>2024-01-15T12:00:00+00:00", "<sent>2024-01-15Z"))
