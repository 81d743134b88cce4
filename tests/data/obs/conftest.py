"""Fixtures for the observation tests: small DWD-style feedback files (real fdbk layout)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import netCDF4
import numpy as np
import pytest


def make_feedback(
    path: Path,
    l_body: np.ndarray,
    *,
    base: int = 1,
    gap: int = 0,
    seed: int = 0,
    run_types: tuple[int, ...] = (1, 3),
    members: tuple[int, ...] | None = None,
    forecast_times: tuple[int, ...] | None = None,
) -> dict[str, np.ndarray]:
    """Write a feedback file; reports are stored in the body in shuffled order.

    ``gap`` unused body entries are placed before each report's slice. Returns
    the arrays written (header and body) for building oracles.
    """
    rng = np.random.default_rng(seed)
    l_body = np.asarray(l_body, dtype=np.int64)
    n_hdr = l_body.size
    order = rng.permutation(n_hdr)
    i_body = np.zeros(n_hdr, dtype=np.int64)
    pos = 0
    for r in order:  # layout of the file (the oracle builds it with a loop on purpose)
        pos += gap
        i_body[r] = pos
        pos += l_body[r]
    n_body = max(pos, 1)
    n_veri = len(run_types)
    members = members or tuple([-1] * n_veri)
    forecast_times = forecast_times or tuple(300 if t == 1 else 0 for t in run_types)
    arrays = {
        "i_body": i_body + base,
        "l_body": l_body,
        "obstype": rng.choice([1, 2, 5], n_hdr).astype(np.int32),
        "codetype": rng.choice([11, 141, 35], n_hdr).astype(np.int32),
        "lat": rng.uniform(-90, 90, n_hdr).astype(np.float32),
        "lon": rng.uniform(-180, 180, n_hdr).astype(np.float32),
        "time": rng.integers(-180, 0, n_hdr).astype(np.int32),
        "r_state": rng.choice([1, 5, 7], n_hdr).astype(np.int32),
        "varno": rng.choice([2, 3, 4, 29], n_body).astype(np.int32),
        "level": rng.uniform(10000, 100000, n_body).astype(np.float32),
        "obs": rng.normal(250, 10, n_body).astype(np.float32),
        "bcor": rng.normal(0, 0.1, n_body).astype(np.float32),
        "state": rng.choice([0, 1, 5, 7], n_body).astype(np.int32),
        "flags": rng.integers(0, 2**20, n_body).astype(np.int32),
        "check": rng.choice([32, 16, 18], n_body).astype(np.int32),
        "veri_data": rng.normal(250, 10, (n_veri, n_body)).astype(np.float32),
    }
    statids = np.array([f"ST{r:04d}" for r in range(n_hdr)], dtype="S10")
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        nc.createDimension("d_hdr", n_hdr)
        nc.createDimension("d_body", n_body)
        nc.createDimension("d_veri", n_veri)
        nc.createDimension("d_stat", 10)
        nc.createDimension("d_model", 8)
        nc.setncattr("verification_ref_date", 20240115)
        nc.setncattr("verification_ref_time", 1200)
        nc.setncattr("n_hdr", n_hdr)
        nc.setncattr("n_body", n_body)
        for name in ("i_body", "l_body", "obstype", "codetype", "lat", "lon", "time", "r_state"):
            arr = arrays[name]
            nc.createVariable(name, arr.dtype, ("d_hdr",))[:] = arr
        nc.variables["time"].units = "min"
        nc.createVariable("statid", "S1", ("d_hdr", "d_stat"))[:] = netCDF4.stringtochar(statids)
        for name in ("varno", "level", "obs", "bcor", "state", "flags", "check"):
            arr = arrays[name]
            nc.createVariable(name, arr.dtype, ("d_body",))[:] = arr
        nc.createVariable("veri_data", "f4", ("d_veri", "d_body"))[:] = arrays["veri_data"]
        for name, vals in (
            ("veri_run_type", run_types),
            ("veri_ens_member", members),
            ("veri_forecast_time", forecast_times),
        ):
            nc.createVariable(name, "i4", ("d_veri",))[:] = np.asarray(vals, dtype=np.int32)
        model = np.array(["ICON"] * n_veri, dtype="S8")
        nc.createVariable("veri_model", "S1", ("d_veri", "d_model"))[:] = netCDF4.stringtochar(
            model
        )
    arrays["statid"] = statids.astype(str)
    arrays["i_body0"] = i_body
    return arrays


@pytest.fixture
def feedback_file() -> Callable[..., dict[str, np.ndarray]]:
    """The :func:`make_feedback` factory."""
    return make_feedback
