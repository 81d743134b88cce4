"""Held-Suarez benchmark runs with Google's ``dinosaur`` dynamical core (JAX, CPU).

Primitive equations on equidistant sigma levels, spectral truncation T21 by
default (64 x 32 Gaussian grid, 2048 columns), Held & Suarez (1994) forcing
(Newtonian cooling to a zonally symmetric equilibrium temperature, Rayleigh
friction below sigma = 0.7), semi-implicit IMEX RK3 time stepping with an
exponential spectral filter. The initial state is an isothermal (288 K) rest
atmosphere at 1000 hPa with a 50 hPa surface-pressure bump whose position is
drawn from ``seed``; a run is deterministic given the seed.

Output: nodal u, v (m s-1), t (K) on each sigma level and surface pressure
``sp`` (Pa), flattened to cells latitude-major, north to south, longitudes
0..360 east. :meth:`HeldSuarezSimulator.blocks` yields blocks of snapshots so
memory stays bounded by one block.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from wxai.core.errors import ConfigError, DataFormatError, MissingExtra
from wxai.emulator.datasets.recipe import SimulatorSource

__all__ = ["HeldSuarezSimulator", "SimulatorBlock", "simulator_for"]


def _dinosaur() -> Any:
    try:
        import dinosaur  # noqa: F401
        import jax  # noqa: F401
    except ImportError as exc:
        raise MissingExtra(exc.name or "dinosaur", "emulator") from exc
    from dinosaur import (
        coordinate_systems,
        held_suarez,
        primitive_equations,
        primitive_equations_states,
        scales,
        sigma_coordinates,
        spherical_harmonic,
        time_integration,
        xarray_utils,
    )

    return {
        "coordinate_systems": coordinate_systems,
        "held_suarez": held_suarez,
        "primitive_equations": primitive_equations,
        "primitive_equations_states": primitive_equations_states,
        "scales": scales,
        "sigma_coordinates": sigma_coordinates,
        "spherical_harmonic": spherical_harmonic,
        "time_integration": time_integration,
        "xarray_utils": xarray_utils,
    }


@dataclass(frozen=True)
class SimulatorBlock:
    """Snapshots of one block.

    Attributes
    ----------
    steps:
        Snapshot numbers after the spin-up (0 = first saved snapshot), shape (B,).
    fields:
        ``{"u": (B, L, N), "v": (B, L, N), "t": (B, L, N), "sp": (B, N)}`` float32,
        m s-1, K, Pa; N cells latitude-major (north to south), L sigma levels top first.
    """

    steps: np.ndarray
    fields: dict[str, np.ndarray]


class HeldSuarezSimulator:
    """A Held-Suarez run saved every ``snapshot_hours`` after ``spin_up_days``.

    Parameters
    ----------
    params:
        The recipe's simulator source.
    snapshot_hours:
        Hours between saved snapshots (a multiple of the time step).
    """

    def __init__(self, params: SimulatorSource, snapshot_hours: float) -> None:
        m = _dinosaur()
        self._m = m
        self.params = params
        units = m["scales"].units
        grid = getattr(m["spherical_harmonic"].Grid, f"T{params.truncation}")()
        vertical = m["sigma_coordinates"].SigmaCoordinates.equidistant(params.layers)
        self.coords = m["coordinate_systems"].CoordinateSystem(horizontal=grid, vertical=vertical)
        self.specs = m["primitive_equations"].PrimitiveEquationsSpecs.from_si()
        init_fn, aux = m["primitive_equations_states"].isothermal_rest_atmosphere(
            self.coords, self.specs, p0=1e5 * units.pascal, p1=5e3 * units.pascal
        )
        self._init_fn = init_fn
        self.reference_temperature = aux[m["xarray_utils"].REF_TEMP_KEY]
        orography = self.coords.horizontal.to_modal(aux[m["xarray_utils"].OROGRAPHY])
        equation = m["primitive_equations"].PrimitiveEquations(
            self.reference_temperature, orography, self.coords, self.specs
        )
        forcing = m["held_suarez"].HeldSuarezForcing(
            coords=self.coords,
            physics_specs=self.specs,
            reference_temperature=self.reference_temperature,
        )
        ti = m["time_integration"]
        dt = self.specs.nondimensionalize(params.time_step_minutes * units.minute)
        step = ti.imex_rk_sil3(ti.compose_equations([equation, forcing]), dt)
        # spectral filter settings of dinosaur's Held-Suarez example
        self._step = ti.step_with_filters(
            step,
            [
                ti.exponential_step_filter(
                    self.coords.horizontal, dt, tau=0.0087504, order=1.5, cutoff=0.8
                )
            ],
        )
        steps = snapshot_hours * 60 / params.time_step_minutes
        if steps != round(steps) or steps < 1:
            raise ConfigError(
                f"snapshot interval {snapshot_hours} h is not a multiple of the time step "
                f"({params.time_step_minutes} min)"
            )
        self.steps_per_snapshot = round(steps)
        self.spin_up_intervals = math.ceil(params.spin_up_days * 24 / snapshot_hours - 1e-9)
        lon, sin_lat = self.coords.horizontal.nodal_axes
        self._lat_order = np.argsort(-sin_lat)  # north to south
        lat = np.rad2deg(np.arcsin(sin_lat))[self._lat_order]
        lon = np.rad2deg(lon)
        self.latitudes = np.repeat(lat, lon.size)
        self.longitudes = np.tile(lon, lat.size)
        self.field_shape = (lat.size, lon.size)

    @property
    def n_cells(self) -> int:
        return int(self.latitudes.size)

    @functools.cached_property
    def _scales(self) -> dict[str, float]:
        units = self._m["scales"].units
        dim = self.specs.dimensionalize
        return {
            "u": float(dim(1.0, units.meter / units.second).magnitude),
            "t": float(dim(1.0, units.degK).magnitude),
            "sp": float(dim(1.0, units.pascal).magnitude),
        }

    @functools.cached_property
    def _advance(self) -> Any:
        """One snapshot interval of time steps (jitted once, reused for every call)."""
        import jax

        ti = self._m["time_integration"]
        return jax.jit(ti.repeated(self._step, self.steps_per_snapshot))

    @functools.cached_property
    def _nodal(self) -> Any:
        import jax

        return jax.jit(self._post)

    def initial_state(self) -> Any:
        """The model state at the end of the spin-up (spectral, nondimensional).

        The spin-up is rounded to whole snapshot intervals.
        """
        import jax

        state = self._init_fn(jax.random.PRNGKey(self.params.seed))
        for _ in range(self.spin_up_intervals):
            state = self._advance(state)
        return state

    def _post(self, state: Any) -> tuple[Any, ...]:
        import jax.numpy as jnp

        grid = self.coords.horizontal
        u, v = self._m["spherical_harmonic"].vor_div_to_uv_nodal(
            grid, state.vorticity, state.divergence
        )
        t = self.reference_temperature[:, None, None] + grid.to_nodal(state.temperature_variation)
        sp = jnp.exp(grid.to_nodal(state.log_surface_pressure))[0]
        return u, v, t, sp

    def _cells(self, nodal: np.ndarray) -> np.ndarray:
        """(..., lon, lat) nodal -> (..., N) latitude-major north to south."""
        ordered = np.swapaxes(nodal, -1, -2)[..., self._lat_order, :]
        return ordered.reshape(*nodal.shape[:-2], -1)

    def blocks(
        self, start: int, stop: int, block_size: int, state: Any = None
    ) -> Iterator[tuple[SimulatorBlock, Any]]:
        """Snapshots ``start`` .. ``stop - 1`` in blocks of at most ``block_size``.

        Snapshot ``i`` is the state ``i`` snapshot intervals after the end of the
        spin-up (:meth:`initial_state`). ``state``, when given, must be the state
        at snapshot ``start`` (what a previous call yielded last).
        Yields ``(block, state at the first snapshot after the block)``.
        """
        if state is None:
            state = self.initial_state()
            for _ in range(start):
                state = self._advance(state)
        s = self._scales
        for first in range(start, stop, block_size):
            n = min(block_size, stop - first)
            frames: list[tuple[np.ndarray, ...]] = []
            for _ in range(n):
                frames.append(tuple(np.asarray(a) for a in self._nodal(state)))
                state = self._advance(state)
            u, v, t, sp = (np.stack(parts) for parts in zip(*frames, strict=True))
            fields = {
                "u": self._cells(u) * s["u"],
                "v": self._cells(v) * s["u"],
                "t": self._cells(t) * s["t"],
                "sp": self._cells(sp) * s["sp"],
            }
            fields = {k: a.astype(np.float32) for k, a in fields.items()}
            for name, values in fields.items():
                if not np.isfinite(values).all():
                    raise DataFormatError(
                        f"Held-Suarez run blew up: non-finite {name} in snapshots "
                        f"{first}..{first + n - 1}; use a shorter time_step_minutes"
                    )
            yield SimulatorBlock(np.arange(first, first + n), fields), state

    def save_state(self, state: Any) -> dict[str, np.ndarray]:
        """The model state as plain arrays (to resume a run bit for bit)."""
        return {
            f.name: np.asarray(getattr(state, f.name))
            for f in state.fields
            if f.name not in ("tracers", "sim_time")
        }

    def load_state(self, arrays: dict[str, np.ndarray]) -> Any:
        """Inverse of :meth:`save_state`."""
        import jax.numpy as jnp

        return self._m["primitive_equations"].State(
            **{name: jnp.asarray(value) for name, value in arrays.items()}
        )


@functools.lru_cache(maxsize=4)
def _core(truncation: int, layers: int, minutes: float, hours: float) -> HeldSuarezSimulator:
    params = SimulatorSource(
        truncation=truncation, layers=layers, time_step_minutes=minutes, spin_up_days=0
    )
    sim = HeldSuarezSimulator(params, hours)
    _ = sim._advance, sim._nodal  # create the jitted functions once; copies share them
    return sim


def simulator_for(params: SimulatorSource, snapshot_hours: float) -> HeldSuarezSimulator:
    """A simulator sharing compiled steps with earlier ones of the same grid and time step.

    Only the seed and the spin-up differ between the copies, so resuming, appending
    or building several datasets in one process compiles once.
    """
    core = _core(params.truncation, params.layers, params.time_step_minutes, snapshot_hours)
    sim = copy.copy(core)
    sim.params = params
    sim.spin_up_intervals = math.ceil(params.spin_up_days * 24 / snapshot_hours - 1e-9)
    return sim
