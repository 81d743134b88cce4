"""Area mean, retrieval scores and the linear baseline of :mod:`wxai.verify`."""

from __future__ import annotations

import numpy as np
import pytest

from wxai.core.errors import ConfigError
from wxai.verify.baselines import linear_regression_baseline
from wxai.verify.retrieval import cosine_similarity, target_margin, target_ranks, top_k_accuracy
from wxai.verify.spatial import area_mean


def test_area_mean_weights_by_cell_area() -> None:
    lat = np.array([0.0, 60.0])  # cos = 1 and 0.5
    field = np.array([[3.0, 3.0], [0.0, 0.0]])
    assert area_mean(field, lat) == pytest.approx(2.0)  # (1 * 3) / (1 + 0.5)
    # a field equal to cos(lat) on a fine global grid: mean = int cos^2 / int cos = pi / 4
    fine = np.linspace(-89.95, 89.95, 1800)
    values = np.repeat(np.cos(np.deg2rad(fine))[:, None], 4, axis=1)
    assert area_mean(values, fine) == pytest.approx(np.pi / 4, rel=1e-4)
    field[0, 1] = np.nan  # skipped, with its weight
    assert area_mean(field, lat) == pytest.approx(3.0 / 2.0)
    with pytest.raises(ConfigError):
        area_mean(field, lat[:1])


def test_cosine_similarity_and_ranks() -> None:
    a = np.array([[1.0, 0.0], [1.0, 1.0]])
    b = np.array([[2.0, 0.0], [0.0, 3.0], [-1.0, -1.0]])
    sim = cosine_similarity(a, b)
    np.testing.assert_allclose(sim, [[1, 0, -np.sqrt(0.5)], [np.sqrt(0.5), np.sqrt(0.5), -1]])
    targets = np.array([0, 1])
    # query 1 ties between items 0 and 1: the stable order puts item 0 first
    np.testing.assert_array_equal(target_ranks(sim, targets), [1, 2])
    assert top_k_accuracy(sim, targets, 1) == 0.5
    assert top_k_accuracy(sim, targets, 2) == 1.0
    assert target_margin(sim, targets) == pytest.approx((1.0 + 0.0) / 2)
    with pytest.raises(ConfigError):
        target_ranks(sim, [0, 3])
    with pytest.raises(ConfigError):
        cosine_similarity(a, b[:, :1])


def test_linear_baseline_recovers_a_plane() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(50, 2))
    y = (1.5 + x @ np.array([2.0, -3.0]))[:, None]
    x_test = rng.normal(size=(7, 2))
    prediction = linear_regression_baseline(x, y, x_test)
    assert prediction.shape == (7, 1)
    np.testing.assert_allclose(prediction[:, 0], 1.5 + x_test @ np.array([2.0, -3.0]))
    with pytest.raises(ConfigError):
        linear_regression_baseline(x, y[:10], x_test)
