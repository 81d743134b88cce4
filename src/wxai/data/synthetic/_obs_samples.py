"""Observation and product sample files drawn from a :class:`SyntheticAtmosphere`.

SYNOP NetCDF (BUFR-derived layout), a feedback file with AIREP and TEMP
reports, an ODIM_H5 reflectivity composite and a cloud-top-height NetCDF.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import netCDF4
import numpy as np
import xarray as xr

from wxai.data.formats._common import atomic_path
from wxai.data.formats.netcdf import write_netcdf
from wxai.data.formats.odim import bilinear_lonlat, write_odim
from wxai.data.synthetic.atmosphere import SyntheticAtmosphere

__all__ = ["upper_air", "write_cth", "write_feedback", "write_radar", "write_synop"]

_EUROPE = (36.0, 70.0, -12.0, 32.0)  # lat_min, lat_max, lon_min, lon_max of stations
_GERMANY = {"LL": (3.0, 46.0), "UL": (3.0, 56.0), "UR": (17.0, 56.0), "LR": (17.0, 46.0)}
_P_LEVELS = np.array([1000, 925, 850, 700, 500, 400, 300, 250, 200, 150, 100]) * 100.0


def _attrs(atmos: SyntheticAtmosphere, what: str) -> dict[str, str | int]:
    meta = atmos.metadata()
    meta["title"] = f"SYNTHETIC {what} from wxai.data.synthetic (not real observations)"
    return meta


def _stations(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    la0, la1, lo0, lo1 = _EUROPE
    return rng.uniform(la0, la1, n), rng.uniform(lo0, lo1, n)


def write_synop(
    atmos: SyntheticAtmosphere, path: Path, *, seed: int = 0, n_stations: int = 60, hours: int = 24
) -> Path:
    """Hourly SYNOP reports sampled from the fields with noise; ~4 % of values missing."""
    rng = np.random.default_rng(seed + 101)
    lat, lon = _stations(rng, n_stations)
    height = np.round(600.0 * atmos.land_fraction(lat, lon) * rng.uniform(0, 1, n_stations))
    times = atmos.start + np.arange(hours + 1).astype("timedelta64[h]")
    f = atmos.fields_at_points(lat, lon, times, dim="station", with_tp=False)
    n = times.size * n_stations

    def noisy(name: str, sigma: float) -> np.ndarray:
        return (f[name].values + rng.normal(0.0, sigma, f[name].shape)).ravel()

    t = noisy("t2m", 0.4)
    rh = np.clip(noisy("rh2m", 2.0), 5.0, 100.0)
    u, v = noisy("u10", 0.8), noisy("v10", 0.8)
    msl = noisy("msl", 40.0)
    z = np.tile(height, times.size)
    ps = msl * np.exp(-9.80665 * z / (287.05 * t))
    values = {
        "MTDBT": (t, "K"),
        "MTDNH": (np.minimum(_dew_point(t, rh), t), "K"),
        "MUUU": (rh, "%"),
        "MPPP": (ps, "Pa"),
        "MPPPP": (msl, "Pa"),
        "NDNDN": ((270.0 - np.rad2deg(np.arctan2(v, u))) % 360.0, "degree"),
        "NFNFN": (np.hypot(u, v), "m s-1"),
    }
    dim = "BUFR_records"
    data = {}
    for name, (raw, units) in values.items():
        arr = np.round(raw, 1).astype(np.float32)
        arr[rng.uniform(size=n) < 0.04] = np.nan  # missing values stay missing
        data[name] = ((dim,), arr, {"units": units})
    when = np.repeat(times, n_stations).astype("datetime64[m]").astype(object)
    parts = {
        "MJJJ": [w.year for w in when],
        "MMM": [w.month for w in when],
        "MYY": [w.day for w in when],
        "MGG": [w.hour for w in when],
        "NGG": [w.minute for w in when],
    }
    for name, arr in parts.items():
        data[name] = ((dim,), np.asarray(arr, dtype=np.int32), {})
    data["MLAH"] = ((dim,), np.tile(lat, times.size), {"units": "degrees_north"})
    data["MLOH"] = ((dim,), np.tile(lon, times.size), {"units": "degrees_east"})
    data["MHOSNN"] = ((dim,), z.astype(np.float32), {"units": "m"})
    ids = np.array([f"{10000 + 37 * k:05d}" for k in range(n_stations)])
    data["YSSOSN"] = ((dim,), np.tile(ids, times.size).astype(object), {})
    names = np.array([f"SYNTH-{k:03d}" for k in range(n_stations)])
    data["YSOSN"] = ((dim,), np.tile(names, times.size).astype(object), {})
    ds = xr.Dataset(data, attrs=_attrs(atmos, "SYNOP reports"))
    return write_netcdf(ds, path)


def _dew_point(t: np.ndarray, rh: np.ndarray) -> np.ndarray:
    from wxai.data.synthetic.atmosphere import dew_point

    return dew_point(t, rh)


def upper_air(
    atmos: SyntheticAtmosphere, lat: np.ndarray, lon: np.ndarray, p: np.ndarray, time
) -> dict[int, np.ndarray]:
    """Simple upper-air truth at points: feedback ``varno`` -> values.

    Temperature from ``t2m`` with a 6.5 K km-1 lapse rate (standard-atmosphere
    heights, floored at 215 K), wind = 10 m wind / 0.7 plus a westerly shear of
    35 m s-1 between the surface and 250 hPa, relative humidity drying aloft.
    """
    f = atmos.fields_at_points(lat, lon, time, dim="obs", with_tp=False).isel(time=0)
    z = 44330.8 * (1.0 - (p / 101325.0) ** 0.190263)
    shear = 35.0 * np.clip(np.log(101325.0 / p) / np.log(1000.0 / 250.0), 0.0, 1.2)
    return {
        2: np.maximum(f.t2m.values - 0.0065 * z, 215.0),
        3: f.u10.values / 0.7 + shear,
        4: f.v10.values / 0.7 * (1.0 + 0.5 * shear / 35.0),
        29: np.clip(f.rh2m.values / 100.0 * (p / 101325.0) ** 1.5, 0.03, 1.0),
    }


_SIGMA_O = {2: 0.6, 3: 1.5, 4: 1.5, 29: 0.05}  # observation error
_SIGMA_B = {2: 1.0, 3: 2.5, 4: 2.5, 29: 0.10}  # first-guess error
_BIAS_B = {2: 0.3, 3: -0.5, 4: 0.0, 29: -0.02}  # first-guess bias


def write_feedback(atmos: SyntheticAtmosphere, path: Path, *, seed: int = 0) -> Path:
    """fdbk file: AIREP (3 flights, T/U/V at many levels) and TEMP (6 ascents, 11 levels)."""
    rng = np.random.default_rng(seed + 202)
    ref = atmos.start + np.timedelta64(12, "h")
    reports = []  # (obstype, codetype, statid, lat, lon, minutes, p levels, varnos)
    for k in range(3):  # flights: climb, cruise, descend
        lat0, lon0 = _stations(rng, 1)
        lat1, lon1 = _stations(rng, 1)
        s = np.linspace(0.0, 1.0, 20)
        p = np.interp(s, [0, 0.25, 0.75, 1], [95000, 25000, 25000, 90000])
        p += rng.normal(0.0, 500.0, s.size)
        for j in range(s.size):
            lat = lat0[0] + (lat1[0] - lat0[0]) * s[j]
            lon = lon0[0] + (lon1[0] - lon0[0]) * s[j]
            minutes = int(-150 + 150 * s[j])
            reports.append((2, 145, f"AC{k:04d}", lat, lon, minutes, [p[j]], (2, 3, 4)))
    slat, slon = _stations(rng, 6)
    for k in range(6):
        reports.append((5, 35, f"{10100 + k:05d}", slat[k], slon[k], -60, _P_LEVELS, (2, 3, 4, 29)))

    hdr = {name: [] for name in ("obstype", "codetype", "lat", "lon", "time", "l_body")}
    statid, body = [], {name: [] for name in ("varno", "level", "obs", "fg", "an", "e_o")}
    for obstype, codetype, sid, lat, lon, minutes, p_levels, varnos in reports:
        levels = np.asarray(p_levels, dtype=float)
        truth = upper_air(atmos, np.full(levels.size, lat), np.full(levels.size, lon), levels, ref)
        n = 0
        for lev_i, lev in enumerate(levels):
            for vn in varnos:
                x = truth[vn][lev_i]
                body["varno"].append(vn)
                body["level"].append(lev)
                body["obs"].append(x + rng.normal(0.0, _SIGMA_O[vn]))
                body["fg"].append(x + _BIAS_B[vn] + rng.normal(0.0, _SIGMA_B[vn]))
                body["an"].append(x + rng.normal(0.0, 0.4 * _SIGMA_B[vn]))
                body["e_o"].append(_SIGMA_O[vn])
                n += 1
        for name, value in zip(
            ("obstype", "codetype", "lat", "lon", "time", "l_body"),
            (obstype, codetype, lat, lon, minutes, n),
            strict=True,
        ):
            hdr[name].append(value)
        statid.append(sid)
    l_body = np.asarray(hdr["l_body"], dtype=np.int32)
    i_body = (np.concatenate([[0], np.cumsum(l_body)[:-1]]) + 1).astype(np.int32)  # 1-based
    n_body = int(l_body.sum())
    obs = np.asarray(body["obs"])
    fg_dep = obs - np.asarray(body["fg"])
    e_o = np.asarray(body["e_o"])
    state = np.where(rng.uniform(size=n_body) < 0.05, 5, 1).astype(np.int32)  # some passive
    state[np.abs(fg_dep) > 4.0 * e_o * 2.0] = 7  # first-guess check rejects outliers
    with atomic_path(path) as tmp, netCDF4.Dataset(tmp, "w", format="NETCDF4") as nc:
        n_hdr = len(reports)
        for name, size in (("d_hdr", n_hdr), ("d_body", n_body), ("d_veri", 2)):
            nc.createDimension(name, size)
        nc.createDimension("d_stat", 10)
        nc.createDimension("d_model", 8)
        nc.setncatts(_attrs(atmos, "feedback file (AIREP, TEMP)"))
        date = np.datetime64(ref, "D").astype(object)
        nc.setncattr("verification_ref_date", int(date.strftime("%Y%m%d")))
        nc.setncattr(
            "verification_ref_time", int((ref - np.datetime64(ref, "D")) // 60e9 * 100 // 60)
        )
        nc.setncattr("n_hdr", n_hdr)
        nc.setncattr("n_body", n_body)

        def var(name, dtype, dims, values, **attrs):
            v = nc.createVariable(name, dtype, dims, zlib=True)
            v[...] = values
            for k, val in attrs.items():
                v.setncattr(k, val)

        var("i_body", "i4", ("d_hdr",), i_body)
        var("l_body", "i4", ("d_hdr",), l_body)
        var("obstype", "i4", ("d_hdr",), np.asarray(hdr["obstype"], dtype=np.int32))
        var("codetype", "i4", ("d_hdr",), np.asarray(hdr["codetype"], dtype=np.int32))
        var("lat", "f4", ("d_hdr",), np.asarray(hdr["lat"]), units="degrees_north")
        var("lon", "f4", ("d_hdr",), np.asarray(hdr["lon"]), units="degrees_east")
        var("time", "i4", ("d_hdr",), np.asarray(hdr["time"], dtype=np.int32), units="min")
        var("r_state", "i4", ("d_hdr",), np.ones(n_hdr, dtype=np.int32))
        chars = netCDF4.stringtochar(np.array(statid, dtype="S10"))
        var("statid", "S1", ("d_hdr", "d_stat"), chars)
        var("varno", "i4", ("d_body",), np.asarray(body["varno"], dtype=np.int32))
        var("level", "f4", ("d_body",), np.asarray(body["level"]), units="Pa")
        var("obs", "f4", ("d_body",), obs)
        var("bcor", "f4", ("d_body",), np.zeros(n_body))
        var("e_o", "f4", ("d_body",), e_o)
        var("state", "i4", ("d_body",), state)
        var("flags", "i4", ("d_body",), np.zeros(n_body, dtype=np.int32))
        var("check", "i4", ("d_body",), np.full(n_body, 32, dtype=np.int32))
        veri = np.stack([body["fg"], body["an"]])
        var("veri_data", "f4", ("d_veri", "d_body"), veri)
        var("veri_run_type", "i4", ("d_veri",), np.array([1, 3], dtype=np.int32))
        var("veri_ens_member", "i4", ("d_veri",), np.array([-1, -1], dtype=np.int32))
        var("veri_forecast_time", "i4", ("d_veri",), np.array([300, 0], dtype=np.int32))
        model = netCDF4.stringtochar(np.array(["SYNTH"] * 2, dtype="S8"))
        var("veri_model", "S1", ("d_veri", "d_model"), model)
    return Path(path)


def _grid_box(corners) -> tuple[float, float]:
    """(width, height) [m] of a lon/lat box."""
    lon0, lat0 = corners["LL"]
    lon1, lat1 = corners["UR"]
    mid = np.deg2rad(0.5 * (lat0 + lat1))
    return (lon1 - lon0) * 111.2e3 * np.cos(mid), (lat1 - lat0) * 111.2e3


def write_radar(atmos: SyntheticAtmosphere, path: Path, *, time, size: int = 300) -> Path:
    """ODIM_H5 DBZH composite: Z = 200 R**1.6 from the rain rate; no data beyond 150 km."""
    lon, lat = bilinear_lonlat(_GERMANY, size, size)
    f = atmos.fields_at_points(lat.ravel(), lon.ravel(), time, with_tp=False).isel(time=0)
    rate = f.rr.values.reshape(lat.shape) * 3600.0  # mm h-1
    dbz = 10.0 * np.log10(200.0 * np.maximum(rate, 1e-6) ** 1.6)
    sites = np.array(
        [
            [53.6, 10.0],
            [52.5, 13.4],
            [51.1, 6.9],
            [50.1, 8.7],
            [48.2, 11.6],
            [49.5, 9.0],
            [52.2, 8.0],
            [51.3, 12.4],
            [54.2, 12.1],
            [47.9, 8.5],
        ]
    )
    covered = np.zeros(lat.shape, dtype=bool)
    for slat, slon in sites:
        dx = (lon - slon) * 111.2e3 * np.cos(np.deg2rad(slat))
        covered |= np.hypot(dx, (lat - slat) * 111.2e3) < 150e3
    dbz[~covered] = np.nan
    width, height = _grid_box(_GERMANY)
    return write_odim(
        path,
        dbz,
        quantity="DBZH",
        time=time,
        corners=_GERMANY,
        projdef="+proj=longlat +ellps=WGS84 +no_defs",
        xscale=width / size,
        yscale=height / size,
        undetect_mask=covered & (rate < 0.1),
        source="ORG:wxai-synthetic",
        extra_attrs={"synthetic": "true", "comment": "SYNTHETIC radar composite (wxai)"},
    )


def write_cth(
    atmos: SyntheticAtmosphere, path: Path, *, time, writer: Callable = write_netcdf
) -> Path:
    """Cloud-top height ``CTH`` [m] on a 0.1 deg grid; NaN where there is no cloud."""
    lat = np.round(np.arange(46.0, 56.01, 0.1), 6)
    lon = np.round(np.arange(3.0, 17.01, 0.1), 6)
    f = atmos.fields(lat, lon, time).isel(time=0)
    cloud = f.tcc.values > 50.0
    rain = 1.0 - np.exp(-f.rr.values * 3600.0 / 1.5)
    cth = 1200.0 + 2500.0 * (f.tcc.values - 50.0) / 50.0 + 6500.0 * rain
    cth = np.where(cloud, cth, np.nan).astype(np.float32)
    ds = xr.Dataset(
        {"CTH": (("lat", "lon"), cth, {"units": "m", "long_name": "cloud top height above MSL"})},
        coords={"lat": lat, "lon": lon, "time": np.datetime64(time, "ns")},
        attrs=_attrs(atmos, "cloud-top height"),
    )
    return writer(ds, path)
