"""Polygon <-> mask conversion on regular grids: round trips, holes, parts, grid orders."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon

from wxai.core.errors import DataFormatError
from wxai.products.geometry import mask_from_polygons, polygons_from_mask
from wxai.products.roundtrip import random_shapes, round_trip, round_trip_scores

LAT = np.arange(35.0, 71.0, 0.5)  # 72 rows, south to north
LON = np.arange(-30.0, 38.0, 0.5)  # 136 columns
CELL = 0.5


@pytest.mark.parametrize("lat", [LAT, LAT[::-1]], ids=["south-north", "north-south"])
def test_round_trip_iou_over_300_random_shapes(lat):
    shapes = random_shapes(np.random.default_rng(7), 300, lat, LON)
    assert {kind for kind, _ in shapes} == {"star", "holed", "multi"}
    assert sum(isinstance(g, MultiPolygon) for _, g in shapes) >= 50
    assert sum(len(g.interiors) for _, g in shapes if isinstance(g, Polygon)) >= 90
    scores = round_trip_scores(shapes, lat, LON, simplify=0.3 * CELL)
    # mask -> polygon (simplified by 0.3 cells) -> mask keeps the cells
    assert scores["mask_iou"].min() >= 0.95
    assert scores["mask_iou"].mean() >= 0.995
    # against the original polygons the grid itself limits the agreement (~half a cell
    # along the outline): 0.9 on average for shapes of 3..12 cells radius
    assert scores["area_iou"].mean() >= 0.88


def test_large_shapes_recover_the_original_polygon_area():
    shapes = random_shapes(np.random.default_rng(3), 60, LAT, LON, min_cells=12, max_cells=20)
    scores = round_trip_scores(shapes, LAT, LON, simplify=0.3 * CELL)
    assert scores["area_iou"].mean() >= 0.95


@pytest.mark.parametrize("method", ["contour", "edges"])
def test_without_simplification_the_mask_comes_back_exactly(method):
    rng = np.random.default_rng(0)
    mask = rng.random((LAT.size, LON.size)) < 0.35  # noise: many parts, holes, saddles
    mask[:, 0] = True  # touching the grid's edge
    geom = polygons_from_mask(mask, LAT, LON, method=method)
    np.testing.assert_array_equal(mask_from_polygons(geom, LAT, LON), mask)


def test_contour_outlines_are_closer_to_the_shapes_than_staircases():
    shapes = random_shapes(np.random.default_rng(11), 90, LAT, LON)
    contour = round_trip_scores(shapes, LAT, LON, method="contour")["area_iou"].mean()
    edges = round_trip_scores(shapes, LAT, LON, method="edges")["area_iou"].mean()
    assert contour > edges


def test_holes_and_separate_parts_are_kept():
    mask = np.zeros((LAT.size, LON.size), bool)
    mask[10:30, 10:30] = True
    mask[17:23, 17:23] = False  # a hole
    mask[40:50, 60:80] = True  # a second part
    geom = polygons_from_mask(mask, LAT, LON)
    assert isinstance(geom, MultiPolygon)
    parts = sorted(shapely.get_parts(geom), key=lambda p: p.area, reverse=True)
    assert len(parts) == 2
    assert len(parts[0].interiors) == 1
    assert len(parts[1].interiors) == 0


def test_latitude_order_does_not_change_the_polygon():
    trip = round_trip(Polygon([(0, 40), (10, 42), (8, 55), (-5, 50)]), LAT, LON)
    mask_sn = trip.reference_mask
    geom_sn = polygons_from_mask(mask_sn, LAT, LON)
    geom_ns = polygons_from_mask(mask_sn[::-1], LAT[::-1], LON)
    assert geom_sn.symmetric_difference(geom_ns).area < 1e-9
    np.testing.assert_array_equal(mask_from_polygons(geom_sn, LAT[::-1], LON), mask_sn[::-1])


def test_min_area_drops_small_parts():
    mask = np.zeros((LAT.size, LON.size), bool)
    mask[10:30, 10:30] = True
    mask[50, 100] = True
    assert len(shapely.get_parts(polygons_from_mask(mask, LAT, LON))) == 2
    assert len(shapely.get_parts(polygons_from_mask(mask, LAT, LON, min_area=1.0))) == 1


def test_bad_grids_and_shapes_are_clear_errors():
    with pytest.raises(DataFormatError, match="not monotonic"):
        mask_from_polygons(Polygon(), np.array([1.0, 3.0, 2.0]), LON)
    with pytest.raises(DataFormatError, match="regularly spaced"):
        mask_from_polygons(Polygon(), np.array([1.0, 2.0, 4.0]), LON)
    with pytest.raises(DataFormatError, match="does not match the grid"):
        polygons_from_mask(np.zeros((3, 3)), LAT, LON)


def test_round_trip_figure_shows_reference_converted_and_difference():
    from wxai.viz.warnings import round_trip_figure

    _, geom = random_shapes(np.random.default_rng(1), 2, LAT, LON)[1]
    trip = round_trip(geom, LAT, LON, simplify=0.5)
    fig = round_trip_figure(
        LAT, LON, trip.reference_mask, trip.converted_mask, polygon=geom,
        recovered=trip.recovered,
    )  # fmt: skip
    assert len(fig.axes) == 3
    assert "IoU" in fig.axes[2].get_title()
