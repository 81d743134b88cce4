"""Training fields from a gridded archive: statistics from the training period, forcings,
and patches whose targets are the change over one step."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from wxai.core.errors import ConfigError
from wxai.data.archive_samples import (
    land_fraction_forcing,
    local_time_forcing,
    random_patches,
    training_fields,
)


def _archive(n_times: int = 11) -> xr.Dataset:
    times = np.datetime64("2024-01-01T00") + np.arange(n_times) * np.timedelta64(3, "h")
    lat, lon = np.arange(40.0, 46.0), np.arange(-15.0, 15.0, 3.0)
    rng = np.random.default_rng(0)
    shape = (n_times, lat.size, lon.size)
    t2m = 280 + np.arange(n_times)[:, None, None] + rng.normal(size=shape)
    return xr.Dataset(
        {
            "t2m": (("time", "latitude", "longitude"), t2m.astype("float32")),
            "msl": (("time", "latitude", "longitude"), (1e5 + 100 * rng.normal(size=shape))),
            "frland": (("latitude", "longitude"), rng.random((lat.size, lon.size))),
        },
        coords={"time": times, "latitude": lat, "longitude": lon},
    )


def test_local_time_is_utc_plus_longitude_over_15():
    times = np.array(["2024-01-01T00", "2024-01-01T06"], dtype="datetime64[h]")
    forcing = local_time_forcing(times, np.array([0.0, 90.0, 180.0]), n_lat=2)
    assert forcing.shape == (2, 2, 2, 3)
    cos, sin = forcing[:, 0, 0], forcing[:, 1, 0]
    # 00 UTC at 0 E is midnight (angle 0); 90 E and 06 UTC at 0 E are both 06 local (quarter turn).
    np.testing.assert_allclose([cos[0, 0], sin[0, 0]], [1, 0], atol=1e-12)
    np.testing.assert_allclose([cos[0, 1], sin[0, 1]], [0, 1], atol=1e-12)
    np.testing.assert_allclose([cos[1, 0], sin[1, 0]], [0, 1], atol=1e-12)
    np.testing.assert_allclose(cos**2 + sin**2, 1.0)


def test_land_fraction_forcing_is_standardised_and_repeated():
    land = np.random.default_rng(1).random((4, 5))
    forcing = land_fraction_forcing(land, 3)
    assert forcing.shape == (3, 1, 4, 5)
    assert forcing[0, 0].mean() == pytest.approx(0, abs=1e-12)
    assert forcing[0, 0].std() == pytest.approx(1, abs=1e-4)
    np.testing.assert_array_equal(forcing[0], forcing[2])


def test_training_fields_use_training_statistics_and_append_forcings():
    archive = _archive()
    data = training_fields(archive, ["t2m", "msl"], train_fraction=0.7)
    assert data.n_train == 7  # round(0.7 * 10) step pairs
    assert data.fields.shape == (11, 2, 6, 10)
    assert data.inputs.shape == (11, 5, 6, 10) and data.inputs.dtype == np.float32
    train = data.inputs[: data.n_train + 1, :2]
    np.testing.assert_allclose(train.mean(axis=(0, 2, 3)), 0, atol=1e-4)
    np.testing.assert_allclose(train.std(axis=(0, 2, 3)), 1, atol=1e-4)
    # t2m rises by 1 K per step, so the held-out times are warmer than the training mean.
    assert data.inputs[-1, 0].mean() > 0.5
    np.testing.assert_allclose(data.to_units(data.inputs[:, 0]), data.fields[:, 0], rtol=1e-5)
    bare = training_fields(archive, ["t2m"], train_fraction=0.7, forcings=[])
    assert bare.inputs.shape[1] == 1
    with pytest.raises(ConfigError, match="unknown forcings"):
        training_fields(archive, ["t2m"], train_fraction=0.7, forcings=["moon_phase"])
    with pytest.raises(ConfigError, match="held-out"):
        training_fields(archive, ["t2m"], train_fraction=0.99)


def test_random_patches_target_the_change_of_the_first_channel():
    inputs = np.random.default_rng(2).normal(size=(6, 3, 12, 12)).astype("float32")
    x, change = random_patches(
        np.random.default_rng(3), inputs, n_train=4, patch=5, n_patches=20, target=0
    )
    assert x.shape == (20, 3, 5, 5) and change.shape == (20, 1, 5, 5)
    # Each patch is a window of the inputs at some t < n_train; find it and check its target.
    for k in range(20):
        matches = [
            (t, i, j)
            for t in range(4)
            for i in range(8)
            for j in range(8)
            if np.array_equal(inputs[t, :, i : i + 5, j : j + 5], x[k])
        ]
        assert len(matches) == 1
        t, i, j = matches[0]
        np.testing.assert_array_equal(
            change[k, 0],
            inputs[t + 1, 0, i : i + 5, j : j + 5] - inputs[t, 0, i : i + 5, j : j + 5],
        )
    with pytest.raises(ConfigError, match="smaller than patch"):
        random_patches(np.random.default_rng(0), inputs, n_train=4, patch=13, n_patches=1)
