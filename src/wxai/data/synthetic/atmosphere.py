"""One synthetic mid-latitude atmosphere: moving, deepening cyclones with fronts.

:class:`SyntheticAtmosphere` evaluates near-surface weather at any points
(a regular latitude/longitude grid or the cells of an unstructured grid) and
times, deterministically from a seed. The fields are built so that the usual
textbook relations hold and can be tested:

* mean-sea-level pressure: a zonal background (subtropical high, subpolar low),
  a few slow large-scale waves and one Gaussian low per cyclone that moves
  east(-north-east) and deepens with age;
* 10 m wind: the geostrophic wind of the *analytic* pressure gradient
  (``f = 2 Omega sin(lat)``, ``rho = 1.25 kg m-3``, ``|f|`` floored at its 20
  degree value), turned by :data:`CROSS_ISOBAR_ANGLE` toward low pressure and
  reduced by :data:`FRICTION_FACTOR` (surface friction), speeds softly capped;
* 2 m temperature: a meridional gradient, a warm sector between a warm front
  (east of the low) and a cold front (trailing south-west), both sharp
  frontal zones; at later stages the warm sector near the centre is lifted
  (occlusion) and a narrow warm tongue remains along the occluded front;
  a diurnal cycle, stronger over (synthetic) land;
* humidity moist in the warm sector and in rain, dry behind the cold front;
  ``td2m`` from ``rh2m`` with the Magnus formula (so ``td2m <= t2m``);
* precipitation in a broad band ahead of the warm front, a narrow band at the
  cold front, near the low centre and along the occlusion; ``tp`` accumulates
  it from :attr:`SyntheticAtmosphere.start` (hourly trapezoidal rule);
* gusts = wind speed x gust factor (higher in the cold air), cloud cover
  from humidity and rain, ``front`` labels (0 none, 1 warm, 2 cold, 3
  occluded) and a synthetic land fraction ``frland`` (not real geography).

Only the dataset attributes say the data are synthetic (``synthetic = "true"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from wxai.core.errors import ConfigError
from wxai.data.synthetic._relations import (
    CROSS_ISOBAR_ANGLE,
    FRICTION_FACTOR,
    RHO_AIR,
    dew_point,
    geostrophic_wind,
    wind_from_gradient,
)
from wxai.data.synthetic._sphere import (
    EARTH_RADIUS,
    SmoothModes,
    logistic,
    polar,
    wrap180,
)

__all__ = [
    "CROSS_ISOBAR_ANGLE",
    "FRICTION_FACTOR",
    "FRONT_LABELS",
    "RHO_AIR",
    "Cyclone",
    "Domain",
    "SyntheticAtmosphere",
    "geostrophic_wind",
]

#: ``front`` label values.
FRONT_LABELS = {0: "none", 1: "warm", 2: "cold", 3: "occluded"}

_W_FRONT = 40e3  # frontal-zone scale (m)
_L_SECTOR = 1600e3  # decay length of the frontal system (m)
_DT_SECTOR = 10.0  # warm-sector temperature excess (K)


@dataclass(frozen=True)
class Domain:
    """Where cyclones are spawned (degrees); fields can be evaluated anywhere."""

    lat_min: float = 35.0
    lat_max: float = 72.0
    lon_min: float = -30.0
    lon_max: float = 40.0


@dataclass(frozen=True)
class Cyclone:
    """One extratropical low.

    Attributes
    ----------
    lat0, lon0:
        Centre at the start time [degrees].
    u_move, v_move:
        Translation velocity, eastward and northward [m s-1].
    depth0:
        Central pressure deficit at the start [Pa].
    deepening:
        Deepening rate [Pa h-1], until ``max_depth`` [Pa].
    radius:
        e-folding radius of the Gaussian low [m].
    age0:
        Age at the start [h]; the occlusion starts at 18 h of age.
    warm_bearing, cold_bearing:
        Directions of the warm and cold fronts from the centre [degrees
        clockwise from north, Northern-Hemisphere sense; mirrored in the south].
    """

    lat0: float
    lon0: float
    u_move: float
    v_move: float
    depth0: float
    deepening: float
    max_depth: float
    radius: float
    age0: float
    warm_bearing: float = 100.0
    cold_bearing: float = 205.0

    def centre(self, hours: float) -> tuple[float, float]:
        """Centre (lat, lon) [degrees] ``hours`` after the start."""
        lat = self.lat0 + np.rad2deg(self.v_move * hours * 3600.0 / EARTH_RADIUS)
        mid = np.deg2rad(0.5 * (lat + self.lat0))
        lon = self.lon0 + np.rad2deg(self.u_move * hours * 3600.0 / (EARTH_RADIUS * np.cos(mid)))
        return float(lat), float(wrap180(lon))

    def depth(self, hours: float) -> float:
        """Central pressure deficit [Pa]."""
        return float(min(self.depth0 + self.deepening * hours, self.max_depth))

    def occlusion_radius(self, hours: float) -> float:
        """Radius [m] of the occluded core (0 before 18 h of age, growing 16 km h-1)."""
        return float(np.clip((self.age0 + hours - 18.0) * 16e3, 0.0, 600e3))


@dataclass
class _Geometry:
    """Frontal coordinates of points relative to one cyclone."""

    r: np.ndarray  # distance from the centre (m)
    d_warm: np.ndarray  # signed distance to the warm front, > 0 toward the warm sector
    d_cold: np.ndarray  # signed distance to the cold front, > 0 toward the warm sector
    d_occ: np.ndarray  # signed distance to the occluded front
    a_occ: np.ndarray  # angle to the occluded front (degrees)
    envelope: np.ndarray  # decay of the frontal system with distance
    core: np.ndarray  # 1 inside the occluded core, 0 far from it
    intensity: float  # depth / 2000 Pa


def _signed(r: np.ndarray, angle: np.ndarray) -> np.ndarray:
    return r * np.sin(np.deg2rad(np.clip(wrap180(angle), -90.0, 90.0)))


@dataclass
class SyntheticAtmosphere:
    """Plausible mid-latitude weather from a seed (see the module docstring).

    Parameters
    ----------
    seed:
        Everything (cyclones, waves, land) follows from it.
    n_cyclones:
        Number of lows spawned in ``domain`` (staggered west to east).
    domain:
        Spawning region.
    start:
        Start time; ``tp`` accumulates from it and fields exist from it on.
    frontal_trough:
        Depth [Pa] of the pressure trough along each front (0: none). Isobars then
        kink at the fronts and the wind turns across them, as on a real chart; the
        wind stays geostrophic to the whole pressure field.
    """

    seed: int = 0
    n_cyclones: int = 2
    domain: Domain = field(default_factory=Domain)
    start: np.datetime64 = field(default_factory=lambda: np.datetime64("2024-01-15T00:00", "ns"))
    frontal_trough: float = 0.0

    def __post_init__(self) -> None:
        self.start = np.datetime64(self.start, "ns")
        rng = np.random.default_rng(self.seed)
        d = self.domain
        width, height = d.lon_max - d.lon_min, d.lat_max - d.lat_min
        cyclones = []
        for k in range(self.n_cyclones):
            frac = (k + 0.5) / max(self.n_cyclones, 1)
            cyclones.append(
                Cyclone(
                    lat0=d.lat_min + height * rng.uniform(0.35, 0.65),
                    lon0=d.lon_min + width * (0.05 + 0.7 * frac + rng.uniform(-0.05, 0.05)),
                    u_move=rng.uniform(9.0, 14.0),
                    v_move=rng.uniform(0.5, 3.0),
                    depth0=rng.uniform(2000.0, 2800.0),
                    deepening=rng.uniform(40.0, 80.0),
                    max_depth=rng.uniform(4500.0, 5500.0),
                    radius=rng.uniform(450e3, 600e3),
                    age0=rng.uniform(10.0, 20.0),
                    warm_bearing=rng.uniform(90.0, 110.0),
                    cold_bearing=rng.uniform(195.0, 215.0),
                )
            )
        self.cyclones: tuple[Cyclone, ...] = tuple(cyclones)
        self._p_waves = SmoothModes(rng, 4, 150.0, speed=8.0)
        self._t_waves = SmoothModes(rng, 4, 1.5, speed=8.0)
        self._q_waves = SmoothModes(rng, 4, 8.0, speed=8.0)
        self._land = SmoothModes(rng, 6, 1.0)

    # ------------------------------------------------------------------ time

    def hours(self, times: np.ndarray) -> np.ndarray:
        """Hours since :attr:`start`, shape (n_times,); raises for earlier times."""
        t = np.atleast_1d(np.asarray(times, dtype="datetime64[ns]"))
        h = (t - self.start) / np.timedelta64(1, "h")
        if (h < 0).any():
            raise ConfigError(
                f"times before the atmosphere's start {self.start} requested; ask for later times "
                "or build the atmosphere with an earlier start"
            )
        return h.astype(float)

    def tracks(self, times: np.ndarray) -> xr.Dataset:
        """Cyclone centres and depths, dims (cyclone, time): lat, lon [deg], depth [Pa]."""
        h = self.hours(times)
        lat = [[c.centre(x)[0] for x in h] for c in self.cyclones]
        lon = [[c.centre(x)[1] for x in h] for c in self.cyclones]
        depth = [[c.depth(x) for x in h] for c in self.cyclones]
        dims = ("cyclone", "time")
        return xr.Dataset(
            {
                "lat": (dims, np.array(lat).reshape(-1, h.size), {"units": "degrees_north"}),
                "lon": (dims, np.array(lon).reshape(-1, h.size), {"units": "degrees_east"}),
                "depth": (dims, np.array(depth).reshape(-1, h.size), {"units": "Pa"}),
            },
            coords={"time": np.atleast_1d(np.asarray(times, dtype="datetime64[ns]"))},
        )

    # ------------------------------------------------------------------ pieces

    def _geometry(self, c: Cyclone, lat: np.ndarray, lon: np.ndarray, h: float) -> _Geometry:
        clat, clon = c.centre(h)
        r, bearing, _ = polar(lat, lon, clat, clon)
        if clat < 0:  # mirror the frontal pattern in the Southern Hemisphere
            bearing = (180.0 - bearing) % 360.0
        km = r / 1e3
        warm = c.warm_bearing + 8.0 * km / 1000.0  # warm front bends south with distance
        cold = c.cold_bearing + 20.0 * km / 1000.0  # cold front bends west with distance
        occ = 0.5 * (c.warm_bearing + c.cold_bearing)
        r_occ = c.occlusion_radius(h)
        core = np.exp(-((r / r_occ) ** 2)) if r_occ > 0 else np.zeros_like(r)
        return _Geometry(
            r=r,
            d_warm=_signed(r, bearing - warm),
            d_cold=_signed(r, cold - bearing),
            d_occ=_signed(r, bearing - occ),
            a_occ=wrap180(bearing - occ),
            envelope=np.exp(-((r / _L_SECTOR) ** 2)),
            core=core,
            intensity=c.depth(h) / 2000.0,
        )

    def _pressure(self, lat, lon, h):
        """msl [Pa] and its gradient (d/dx, d/dy) [Pa m-1]."""
        phi0 = np.deg2rad(15.0)
        x = (np.abs(np.deg2rad(lat)) - np.deg2rad(50.0)) / phi0
        p = 101300.0 - 600.0 * np.tanh(x) + self._p_waves.value(lat, lon, h)
        gx, gy = self._p_waves.gradient(lat, lon, h)
        gy = gy - 600.0 / np.cosh(x) ** 2 * np.sign(lat) / (phi0 * EARTH_RADIUS)
        for c in self.cyclones:
            clat, clon = c.centre(h)
            r, _, back = polar(lat, lon, clat, clon)
            g = np.exp(-0.5 * (r / c.radius) ** 2)
            p = p - c.depth(h) * g
            dpdr = c.depth(h) * r / c.radius**2 * g  # > 0: pressure rises away from the low
            gx = gx - dpdr * np.sin(back)
            gy = gy - dpdr * np.cos(back)
        if self.frontal_trough > 0:
            p = p - self._trough(lat, lon, h)
            tx, ty = self._trough_gradient(lat, lon, h)
            gx, gy = gx - tx, gy - ty
        return p, gx, gy

    def _trough(self, lat, lon, h) -> np.ndarray:
        """Pressure deficit [Pa] along the warm, cold and occluded fronts (>= 0)."""
        width = 3.0 * _W_FRONT
        total = np.zeros(np.shape(lat))
        for c in self.cyclones:
            g = self._geometry(c, np.asarray(lat, float), np.asarray(lon, float), h)
            open_ = 1.0 - g.core
            ahead = 0.5 * (1.0 + np.tanh(4.0 * np.cos(np.deg2rad(g.a_occ))))
            along = np.maximum.reduce(
                [
                    np.exp(-((g.d_warm / width) ** 2)) * logistic(g.d_cold / _W_FRONT) * open_,
                    np.exp(-((g.d_cold / width) ** 2)) * logistic(g.d_warm / _W_FRONT) * open_,
                    np.exp(-((g.d_occ / width) ** 2)) * g.core * ahead,
                ]
            )
            total = np.maximum(total, self.frontal_trough * g.envelope * along)
        return total

    def _trough_gradient(self, lat, lon, h) -> tuple[np.ndarray, np.ndarray]:
        """(d/dx, d/dy) [Pa m-1] of :meth:`_trough` by central differences over ~1 km."""
        lat, lon = np.asarray(lat, float), np.asarray(lon, float)
        step = 0.01  # degrees
        coslat = np.maximum(np.cos(np.deg2rad(lat)), 1e-3)
        dx = (self._trough(lat, lon + step, h) - self._trough(lat, lon - step, h)) / (
            2 * np.deg2rad(step) * EARTH_RADIUS * coslat
        )
        dy = (self._trough(lat + step, lon, h) - self._trough(lat - step, lon, h)) / (
            2 * np.deg2rad(step) * EARTH_RADIUS
        )
        return dx, dy

    def _rain_rate(self, geos: list[_Geometry]) -> np.ndarray:
        """Precipitation rate [mm h-1]."""
        rate = 0.0
        for g in geos:
            warm_band = np.exp(-(((g.d_warm + 150e3) / 130e3) ** 2)) * logistic(g.d_cold / 200e3)
            cold_band = np.exp(-(((g.d_cold + 15e3) / 35e3) ** 2)) * logistic(g.d_warm / 100e3)
            centre = np.exp(-((g.r / 350e3) ** 2))
            occluded = np.exp(-((g.d_occ / 100e3) ** 2)) * g.core * (np.abs(g.a_occ) < 90)
            rate = rate + 0.7 * g.intensity * (
                g.envelope * (1.6 * warm_band * (1 - g.core) + 3.0 * cold_band * (1 - g.core))
                + 1.2 * centre
                + 2.0 * occluded
            )
        return np.maximum(np.asarray(rate) - 0.05, 0.0)

    def _accumulated(self, lat, lon, hours: np.ndarray) -> dict[float, np.ndarray]:
        """Precipitation [kg m-2] since the start at each of ``hours``.

        Trapezoidal rule on the hourly grid from the start, plus a last partial
        step to ``h``; so the value at ``h`` does not depend on the other times
        requested.
        """
        rate_at: dict[float, np.ndarray] = {}

        def rate(t: float) -> np.ndarray:
            if t not in rate_at:
                rate_at[t] = self._rain_rate(
                    [self._geometry(c, lat, lon, t) for c in self.cyclones]
                )
            return rate_at[t]

        out: dict[float, np.ndarray] = {}
        total, node = np.zeros(np.shape(lat)), 0.0
        for h in sorted({float(x) for x in hours}):
            while node + 1.0 <= h:
                total = total + 0.5 * (rate(node) + rate(node + 1.0))
                rate_at.pop(node, None)
                node += 1.0
            out[h] = total + 0.5 * (rate(node) + rate(h)) * (h - node)
        return out

    # ------------------------------------------------------------------ fields

    def land_fraction(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Synthetic land fraction in [0, 1] (smooth blobs; not real geography)."""
        s = self._land.value(lat, lon) / np.maximum(np.cos(np.deg2rad(lat)) ** 2, 0.05)
        return logistic(6.0 * s)

    def _evaluate(self, lat: np.ndarray, lon: np.ndarray, time, h: float) -> dict:
        geos = [self._geometry(c, lat, lon, h) for c in self.cyclones]
        p, gx, gy = self._pressure(lat, lon, h)
        u, v = wind_from_gradient(lat, gx, gy)
        speed = np.hypot(u, v)

        # temperature
        t = 300.0 - 45.0 * np.sin(np.deg2rad(lat)) ** 2 + self._t_waves.value(lat, lon, h)
        frland = self.land_fraction(lat, lon)
        hour_utc = (np.datetime64(time, "m") - np.datetime64(time, "D")) / np.timedelta64(1, "h")
        solar = (hour_utc + np.asarray(lon) / 15.0) % 24.0
        t = t + (0.8 + 3.2 * frland) * np.cos(2 * np.pi * (solar - 15.0) / 24.0)
        front = np.zeros(np.shape(lat), dtype=np.uint8)
        cold_air = np.zeros(np.shape(lat))
        moist = np.zeros(np.shape(lat))
        for g in geos:
            sector = logistic(g.d_warm / _W_FRONT) * logistic(g.d_cold / _W_FRONT)
            tongue = np.exp(-((g.d_occ / 70e3) ** 2)) * (np.abs(g.a_occ) < 90)
            warmth = g.envelope * (sector * (1 - g.core) + 0.7 * tongue * g.core)
            t = t + _DT_SECTOR * (warmth - 0.35 * g.envelope)
            behind = logistic(-g.d_cold / _W_FRONT) * logistic(g.d_warm / 300e3)
            cold_air = np.maximum(cold_air, g.envelope * behind)
            moist = np.maximum(moist, warmth)
            system = g.envelope > 0.25
            open_ = g.core < 0.5
            warm_f = system & open_ & (np.abs(g.d_warm) < _W_FRONT) & (g.d_cold > _W_FRONT)
            cold_f = system & open_ & (np.abs(g.d_cold) < _W_FRONT) & (g.d_warm > _W_FRONT)
            occ_f = (g.core >= 0.5) & (np.abs(g.d_occ) < 60e3) & (np.abs(g.a_occ) < 90)
            front[warm_f] = 1
            front[cold_f] = 2
            front[occ_f] = 3

        # rain, humidity, clouds, gusts
        rate = self._rain_rate(geos)
        rh = 70.0 + 18.0 * moist - 20.0 * cold_air + self._q_waves.value(lat, lon, h)
        rh = rh + 30.0 * (1.0 - np.exp(-rate / 0.5))
        rh = np.clip(rh, 20.0, 100.0)
        td = dew_point(t, rh)
        tcc = 100.0 * np.clip(np.maximum((rh - 65.0) / 30.0, 1.0 - np.exp(-rate / 0.3)), 0, 1)
        gust = speed * (1.45 + 0.3 * cold_air + 0.1 * frland) + 1.5 * np.sqrt(rate)
        return {
            "msl": p,
            "u10": u,
            "v10": v,
            "t2m": t,
            "td2m": td,
            "rh2m": rh,
            "rr": rate / 3600.0,
            "gust": gust,
            "tcc": tcc,
            "front": front,
        }

    def fields_at_points(
        self, lat: np.ndarray, lon: np.ndarray, times, dim: str = "cell", *, with_tp: bool = True
    ) -> xr.Dataset:
        """Weather at arbitrary points (e.g. ICON cells or stations).

        Parameters
        ----------
        lat, lon:
            Point coordinates [degrees], shape (n,).
        times:
            datetime64 value(s), not before :attr:`start`.
        dim:
            Name of the point dimension.
        with_tp:
            Compute the accumulated precipitation ``tp`` (hourly steps from the start).

        Returns
        -------
        xr.Dataset
            Dims (time, ``dim``); see :meth:`fields` for the variables.
        """
        lat = np.asarray(lat, dtype=float).ravel()
        lon = np.asarray(lon, dtype=float).ravel()
        times = np.atleast_1d(np.asarray(times, dtype="datetime64[ns]"))
        hours = self.hours(times)
        rows = [self._evaluate(lat, lon, t, h) for t, h in zip(times, hours, strict=True)]
        if with_tp:
            tp = self._accumulated(lat, lon, hours)
            for row, h in zip(rows, hours, strict=True):
                row["tp"] = tp[float(h)]
        data = {
            name: (("time", dim), np.stack([r[name] for r in rows]), _attrs(name))
            for name in rows[0]
        }
        data["frland"] = ((dim,), self.land_fraction(lat, lon), _attrs("frland"))
        ds = xr.Dataset(
            data,
            coords={
                "time": times,
                "latitude": ((dim,), lat, {"units": "degrees_north"}),
                "longitude": ((dim,), lon, {"units": "degrees_east"}),
            },
        )
        ds.attrs = self.metadata()
        return ds

    def fields(self, lat: np.ndarray, lon: np.ndarray, times) -> xr.Dataset:
        """Weather on a regular latitude/longitude grid.

        Parameters
        ----------
        lat, lon:
            1D grid coordinates [degrees] (any order; longitudes in any convention).
        times:
            datetime64 value(s), not before :attr:`start`.

        Returns
        -------
        xr.Dataset
            Dims (time, latitude, longitude): ``msl`` [Pa], ``u10``, ``v10``,
            ``gust`` [m s-1], ``t2m``, ``td2m`` [K], ``rh2m``, ``tcc`` [%],
            ``rr`` [kg m-2 s-1], ``tp`` [kg m-2, accumulated since start],
            ``front`` (uint8, :data:`FRONT_LABELS`); ``frland`` [1] on
            (latitude, longitude). Attribute ``synthetic = "true"``.
        """
        lat = np.asarray(lat, dtype=float)
        lon = np.asarray(lon, dtype=float)
        lat2, lon2 = np.meshgrid(lat, lon, indexing="ij")
        flat = self.fields_at_points(lat2.ravel(), lon2.ravel(), times)
        shape = (lat.size, lon.size)
        data = {}
        for name, da in flat.data_vars.items():
            values = da.values.reshape(da.shape[:-1] + shape)
            data[name] = ((*da.dims[:-1], "latitude", "longitude"), values, da.attrs)
        ds = xr.Dataset(
            data,
            coords={
                "time": flat["time"].values,
                "latitude": ("latitude", lat, {"units": "degrees_north"}),
                "longitude": ("longitude", lon, {"units": "degrees_east"}),
            },
        )
        ds.attrs = flat.attrs
        return ds

    def metadata(self) -> dict[str, str | int]:
        """Global attributes marking data from this atmosphere as synthetic."""
        return {
            "synthetic": "true",
            "title": "SYNTHETIC weather from wxai.data.synthetic (not observed, not a forecast)",
            "source": "wxai.data.synthetic.SyntheticAtmosphere",
            "synthetic_seed": int(self.seed),
            "synthetic_n_cyclones": int(self.n_cyclones),
            "synthetic_start": str(np.datetime64(self.start, "s")),
            "synthetic_frontal_trough_pa": float(self.frontal_trough),
        }


_ATTRS = {
    "front": {
        "long_name": "front type",
        "flag_values": np.array([0, 1, 2, 3], dtype=np.uint8),
        "flag_meanings": "none warm cold occluded",
    },
    "frland": {"units": "1", "long_name": "land fraction (synthetic, not real geography)"},
    "rr": {"units": "kg m-2 s-1", "long_name": "precipitation rate"},
    "tp": {"units": "kg m-2", "long_name": "total precipitation accumulated since start"},
}


def _attrs(name: str) -> dict:
    if name in _ATTRS:
        return dict(_ATTRS[name])
    from wxai.vocab import get_variable

    var = get_variable(name)
    return {"units": var.units, "long_name": var.long_name}
