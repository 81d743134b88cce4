"""Mask scores against brute force: IoU per class and tolerance-aware counts."""

from __future__ import annotations

import numpy as np
import pytest

from wxai.core.errors import ConfigError
from wxai.verify.masks import class_iou, iou, neighbourhood_scores


def test_iou_of_two_rectangles_is_their_overlap_over_their_union():
    a = np.zeros((10, 10), bool)
    b = np.zeros((10, 10), bool)
    a[0:4, 0:5] = True  # 20 cells
    b[2:6, 0:5] = True  # 20 cells, 10 shared
    assert iou(a, b) == pytest.approx(10 / 30)
    assert np.isnan(iou(np.zeros(4, bool), np.zeros(4, bool)))


def test_class_iou_pools_cases_and_marks_absent_classes():
    rng = np.random.default_rng(0)
    pred = rng.integers(0, 3, (5, 8, 8))
    true = rng.integers(0, 3, (5, 8, 8))
    got = class_iou(pred, true, 4)
    for k in range(3):
        inter = sum(np.sum((p == k) & (t == k)) for p, t in zip(pred, true, strict=True))
        union = sum(np.sum((p == k) | (t == k)) for p, t in zip(pred, true, strict=True))
        assert got[k] == pytest.approx(inter / union)
    assert np.isnan(got[3])


def _brute(pred, true, label, radius):
    """Loop over every cell: is a cell of the other map within radius (same case)?"""
    found = missed = hits = false = 0
    for c in range(pred.shape[0]):
        p_cells = np.argwhere(pred[c] == label)
        t_cells = np.argwhere(true[c] == label)

        def near(cell, cells):
            return len(cells) > 0 and np.min(np.hypot(*(cells - cell).T)) <= radius

        for cell in t_cells:
            found, missed = (found + 1, missed) if near(cell, p_cells) else (found, missed + 1)
        for cell in p_cells:
            hits, false = (hits + 1, false) if near(cell, t_cells) else (hits, false + 1)
    return found, missed, hits, false


@pytest.mark.parametrize("radius", [0, 1, 1.5, 2])
def test_neighbourhood_counts_match_brute_force(radius):
    rng = np.random.default_rng(int(radius * 10))
    pred = (rng.random((3, 12, 14)) < 0.1).astype(int) * 2
    true = (rng.random((3, 12, 14)) < 0.1).astype(int) * 2
    s = neighbourhood_scores(pred, true, 2, radius)
    assert (s.found, s.missed, s.hits, s.false_alarms) == _brute(pred, true, 2, radius)
    pod, sr = s.found / (s.found + s.missed), s.hits / (s.hits + s.false_alarms)
    assert s.csi == pytest.approx(1 / (1 / pod + 1 / sr - 1))


def test_a_front_one_cell_off_is_missed_cell_by_cell_but_found_with_tolerance():
    true = np.zeros((20, 20), int)
    pred = np.zeros((20, 20), int)
    true[:, 10] = 1
    pred[:, 11] = 1
    assert neighbourhood_scores(pred, true, 1, 0).csi == 0.0
    assert neighbourhood_scores(pred, true, 1, 1).csi == pytest.approx(1.0)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ConfigError, match="shapes differ"):
        iou(np.zeros(3), np.zeros(4))
    with pytest.raises(ConfigError, match="radius"):
        neighbourhood_scores(np.zeros((3, 3)), np.zeros((3, 3)), 1, -1)
