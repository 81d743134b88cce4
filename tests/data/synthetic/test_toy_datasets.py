"""Toy data sets: shapes, seeded repeatability and the defining property of each."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from wxai.core.errors import ConfigError, UnknownNameError
from wxai.data.synthetic.toy_datasets import (
    ANOMALY_KINDS,
    FUNCTION_SHAPES,
    ellipse_labels,
    ellipse_points,
    function_shapes,
    mixture_samples,
    moving_blobs,
    ring_fields,
    sensor_sequences,
    shape_2d,
    sine_mixture,
    sine_samples,
    sparse_sine_fields,
)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_sine_samples_lie_on_the_sine_without_noise():
    x, y = sine_samples(rng(), 50)
    assert x.shape == y.shape == (50, 1) and x.dtype == torch.float32
    assert float(x.min()) >= 0 and float(x.max()) <= 2 * math.pi
    torch.testing.assert_close(y, torch.sin(x))
    _, noisy = sine_samples(rng(), 2000, noise_std=0.1)
    x2, _ = sine_samples(rng(), 2000)
    assert float((noisy - torch.sin(x2)).std()) == pytest.approx(0.1, rel=0.1)


def test_sine_mixture_is_the_sum_of_its_terms():
    x = torch.linspace(0, 6, 7)
    expected = 2 * torch.sin(x) - 0.5 * torch.sin(3 * x)
    torch.testing.assert_close(sine_mixture(x, [1, 3], [2, -0.5]), expected)
    with pytest.raises(ConfigError):
        sine_mixture(x, [1, 3], [2])


def test_mixture_samples_follow_the_component_weights():
    values = mixture_samples(rng(), 20_000, means=[-5, 5], stds=[0.5, 0.5], weights=[1, 3])
    assert values.shape == (20_000,) and values.dtype == np.float32
    assert np.mean(values > 0) == pytest.approx(0.75, abs=0.02)
    assert np.mean(values[values > 0]) == pytest.approx(5, abs=0.05)


def test_shape_2d_ring_has_radius_two_and_moons_two_arcs():
    ring = shape_2d(rng(), 500, "ring", 0.0)
    assert ring.shape == (500, 2)
    np.testing.assert_allclose(np.hypot(ring[:, 0], ring[:, 1]), 2.0, rtol=1e-5)
    moons = shape_2d(rng(), 500, "moons", 0.0)
    upper = moons[:, 1] >= 0.5 - 1e-6  # the lower moon spans y in [-0.5, 0.5]
    np.testing.assert_allclose(np.hypot(*moons[upper].T), 1.0, rtol=1e-5)
    with pytest.raises(UnknownNameError, match="moons"):
        shape_2d(rng(), 5, "square", 0.0)


def test_ellipse_labels_inside_outside_and_rotation():
    points = np.array([[0.0, 0.0], [1.9, 0.0], [0.0, 1.9], [3.0, 3.0]])
    # One ellipse at the origin, semi-axes 2 and 0.5, major axis along x ...
    np.testing.assert_array_equal(ellipse_labels(points, [[0, 0]], [[2, 0.5]], [0]), [1, 1, 0, 0])
    # ... turned by 90 degrees its major axis is along y.
    np.testing.assert_array_equal(ellipse_labels(points, [[0, 0]], [[2, 0.5]], [90]), [1, 0, 1, 0])
    x, y = ellipse_points(rng(), 300, 1.0, centres=[[0, 0]], semi_axes=[[2, 0.5]], angles_deg=[0])
    assert x.shape == (300, 2) and y.shape == (300,)
    np.testing.assert_array_equal(y, ellipse_labels(x, [[0, 0]], [[2, 0.5]], [0]))


def test_function_shapes_classes_and_repeatability():
    curves, labels = function_shapes(rng(1), 60, 64, 0.0)
    assert curves.shape == (60, 1, 64) and curves.dtype == np.float32
    assert set(labels) == set(range(len(FUNCTION_SHAPES)))
    again, _ = function_shapes(rng(1), 60, 64, 0.0)
    np.testing.assert_array_equal(curves, again)
    # Polynomials are scaled to a peak of |amplitude| <= 1.5; every curve is non-trivial.
    peaks = np.abs(curves[:, 0]).max(axis=1)
    assert (peaks > 0.1).all() and (peaks <= 1.5 + 1e-6).all()


def test_sensor_sequences_normal_and_anomalous():
    common = {"seq_len": 64, "period_range": (10, 20), "noise_std": 0.0}
    normal, kinds = sensor_sequences(rng(), 30, **common)
    assert normal.shape == (30, 64, 1) and (kinds == -1).all()
    assert np.abs(normal).max() <= 1.0 + 1e-6  # a clean unit sine
    odd, kinds = sensor_sequences(rng(), 200, **common, anomaly_size=3.0, anomalous=True)
    assert set(kinds) == set(range(len(ANOMALY_KINDS)))
    spikes = odd[kinds == 0, :, 0]
    assert (np.abs(spikes).max(axis=1) > 2.0).all()  # 1.5 x 3 added to a unit sine


def test_moving_blobs_later_is_the_shifted_field():
    now, later = moving_blobs(
        rng(), 5, n_points=64, domain_length=10.0, shift_points=3.0, width_range=(0.3, 0.5)
    )
    assert now.shape == later.shape == (5, 1, 64)
    np.testing.assert_allclose(np.roll(now, 3, axis=-1), later, atol=1e-5)


def test_ring_fields_move_by_the_shift_and_wrap():
    now, later = ring_fields(rng(), 4, 32, 3, shift=2.0)
    assert now.shape == later.shape == (4, 32)
    np.testing.assert_allclose(np.roll(now, 2, axis=1), later, atol=1e-5)
    same, full_turn = ring_fields(rng(), 4, 32, 3, shift=32.0)
    np.testing.assert_allclose(same, full_turn, atol=1e-5)


def test_sparse_sine_fields_observe_at_least_one_point():
    position = np.linspace(0, math.pi, 40)
    truth, observed = sparse_sine_fields(
        rng(),
        200,
        position,
        wavenumbers=(1.0, 3.0),
        n_modes=2,
        anomaly_amplitude=0.0,
        background_amplitude=1.0,
        background_wavenumber=2.0,
        obs_fraction=0.01,
    )
    assert truth.shape == observed.shape == (200, 40) and observed.dtype == bool
    assert observed.any(axis=1).all()
    # Without anomalies every sample is the shared background cos(2 x).
    np.testing.assert_allclose(truth, np.broadcast_to(np.cos(2 * position), truth.shape))
