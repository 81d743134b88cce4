"""The 2D (x, z) toy atmosphere of lectures 18 and 20.

A tracer (or heat) field ``phi(x, z, t)`` is advected by a constant wind, diffused,
fed by a pulsed source near the bottom left and removed by linear damping and a
sponge below the top. The domain is periodic in x and closed (zero flux) in z.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from wxai.core.errors import ConfigError


@dataclass(frozen=True)
class Budget:
    """Heat-content budget of a run, one entry per recorded time.

    Attributes
    ----------
    times:
        Recorded times, shape ``(T,)``.
    content:
        ``C(t) = integral of phi dx dz``, shape ``(T,)``.
    injected, lost:
        Accumulated source input ``int A(t) S dx dz dt`` and damping loss
        ``int (lambda + lambda_top) phi dx dz dt`` since the start, shape ``(T,)``.
    """

    times: np.ndarray
    content: np.ndarray
    injected: np.ndarray
    lost: np.ndarray

    @property
    def residual(self) -> np.ndarray:
        """``C(t) - C(0) - (injected - lost)``: zero up to round-off for a closed budget."""
        return self.content - self.content[0] - (self.injected - self.lost)


@dataclass(frozen=True)
class Toy2D:
    """Advection-diffusion with pulsed source, damping and a top sponge; RK4 in time.

    ``dphi/dt = -u dphi/dx - w dphi/dz + K lap(phi) + A(t) S(x, z) - (lambda + lambda_top(z)) phi``

    The spatial scheme is finite-volume (first-order upwind advection, centred
    diffusion fluxes) on cell centres, so transport conserves ``sum(phi)`` exactly and
    the budget closes to round-off. States are flattened ``iz * nx + ix``: shape
    ``(..., nz * nx)``; :meth:`field` reshapes to ``(..., nz, nx)``.

    Parameters
    ----------
    nx, nz:
        Cells in x (periodic) and z.
    length_x, length_z:
        Domain size (dimensionless length units).
    u, w:
        Wind components (length / time).
    diffusivity:
        ``K`` (length^2 / time).
    damping:
        ``lambda`` (1 / time).
    sponge_rate, sponge_depth:
        ``lambda_top`` rises quadratically from 0 to ``sponge_rate`` over the top
        ``sponge_depth`` of the domain.
    source_amplitude, source_center, source_width:
        Gaussian source ``S`` (centre and widths as fractions of the domain) scaled by
        the pulse ``A(t) = amplitude * cos^4(pi t / pulse_period)``.
    """

    nx: int = 96
    nz: int = 32
    length_x: float = 10.0
    length_z: float = 3.0
    u: float = 1.0
    w: float = 0.04
    diffusivity: float = 0.004
    damping: float = 0.05
    sponge_rate: float = 0.8
    sponge_depth: float = 0.25
    source_amplitude: float = 2.0
    source_center: tuple[float, float] = (0.12, 0.15)
    source_width: tuple[float, float] = (0.04, 0.08)
    pulse_period: float = 2.5
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.nx < 4 or self.nz < 3:
            raise ConfigError(f"Toy2D needs nx >= 4 and nz >= 3, got {self.nx}, {self.nz}")

    @property
    def state_size(self) -> int:
        """``nz * nx``."""
        return self.nz * self.nx

    @property
    def dx(self) -> float:
        """Cell width in x."""
        return self.length_x / self.nx

    @property
    def dz(self) -> float:
        """Cell height."""
        return self.length_z / self.nz

    @property
    def x(self) -> np.ndarray:
        """Cell-centre x coordinates, ``(nx,)``."""
        return (np.arange(self.nx) + 0.5) * self.dx

    @property
    def z(self) -> np.ndarray:
        """Cell-centre heights, ``(nz,)``."""
        return (np.arange(self.nz) + 0.5) * self.dz

    def field(self, x: np.ndarray) -> np.ndarray:
        """Reshape flattened states ``(..., nz * nx)`` to ``(..., nz, nx)``."""
        return np.reshape(x, (*np.shape(x)[:-1], self.nz, self.nx))

    def source(self) -> np.ndarray:
        """The source shape ``S``, ``(nz, nx)``, peak 1."""
        cx, cz = self.source_center
        wx, wz = self.source_width
        sx = np.exp(-0.5 * ((self.x - cx * self.length_x) / (wx * self.length_x)) ** 2)
        sz = np.exp(-0.5 * ((self.z - cz * self.length_z) / (wz * self.length_z)) ** 2)
        return sz[:, None] * sx[None, :]

    def pulse(self, t: float) -> float:
        """The source amplitude ``A(t)``."""
        return self.source_amplitude * np.cos(np.pi * t / self.pulse_period) ** 4

    def sink_rate(self) -> np.ndarray:
        """``lambda + lambda_top(z)``, shape ``(nz, 1)`` (1 / time)."""
        top = self.length_z * (1 - self.sponge_depth)
        ramp = np.clip((self.z - top) / (self.sponge_depth * self.length_z), 0.0, 1.0)
        return (self.damping + self.sponge_rate * ramp**2)[:, None]

    def _parts(self, phi: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Tendency ``(..., nz, nx)``, injection rate and loss rate (each ``(...)``)."""
        if "source" not in self._cache:
            self._cache["source"] = self.source()
            self._cache["sink"] = self.sink_rate()
        src, sink = self._cache["source"], self._cache["sink"]
        up_x, dn_x = max(self.u, 0.0), min(self.u, 0.0)
        up_z, dn_z = max(self.w, 0.0), min(self.w, 0.0)
        k = self.diffusivity
        east = np.roll(phi, -1, axis=-1)
        flux_x = up_x * phi + dn_x * east - k * (east - phi) / self.dx  # at face i + 1/2
        dphi = -(flux_x - np.roll(flux_x, 1, axis=-1)) / self.dx
        upper = phi[..., 1:, :]
        lower = phi[..., :-1, :]
        flux_z = up_z * lower + dn_z * upper - k * (upper - lower) / self.dz  # interior faces
        zero = np.zeros_like(phi[..., :1, :])
        flux_z = np.concatenate([zero, flux_z, zero], axis=-2)
        dphi = dphi - (flux_z[..., 1:, :] - flux_z[..., :-1, :]) / self.dz
        forcing = self.pulse(t) * src
        loss = sink * phi
        dphi = dphi + forcing - loss
        area = self.dx * self.dz
        injected = np.broadcast_to(forcing.sum() * area, phi.shape[:-2])
        return dphi, injected, loss.sum(axis=(-2, -1)) * area

    def rhs(self, x: np.ndarray, t: float) -> np.ndarray:
        """Tendency of flattened states ``(..., nz * nx)``."""
        return self._parts(self.field(x), t)[0].reshape(np.shape(x))

    def step(self, x: np.ndarray, t: float, dt: float) -> np.ndarray:
        """One RK4 step for flattened states ``(..., nz * nx)``."""
        return self._step_budget(x, t, dt)[0]

    def _step_budget(self, x: np.ndarray, t: float, dt: float) -> tuple[np.ndarray, float, float]:
        phi = self.field(np.asarray(x, dtype=float))
        k1, i1, l1 = self._parts(phi, t)
        k2, i2, l2 = self._parts(phi + 0.5 * dt * k1, t + 0.5 * dt)
        k3, i3, l3 = self._parts(phi + 0.5 * dt * k2, t + 0.5 * dt)
        k4, i4, l4 = self._parts(phi + dt * k3, t + dt)
        new = phi + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        injected = dt / 6 * (i1 + 2 * i2 + 2 * i3 + i4)
        lost = dt / 6 * (l1 + 2 * l2 + 2 * l3 + l4)
        return new.reshape(np.shape(x)), injected, lost

    def content(self, x: np.ndarray) -> np.ndarray:
        """Heat content ``sum(phi) dx dz`` of flattened states ``(..., nz * nx)``."""
        return np.sum(x, axis=-1) * self.dx * self.dz

    def run(
        self, x0: np.ndarray, n_steps: int, dt: float, *, t0: float = 0.0, every: int = 1
    ) -> tuple[np.ndarray, Budget]:
        """Integrate one state and monitor its budget.

        Parameters
        ----------
        x0:
            Initial flattened state, ``(nz * nx,)``.
        n_steps, dt:
            Number and length of RK4 steps; ``u dt / dx`` should stay below about 1.
        every:
            Record every ``every``-th step (and the initial state).

        Returns
        -------
        tuple
            Snapshots ``(T, nz * nx)`` and their :class:`Budget`, ``T = n_steps // every + 1``.
        """
        if max(abs(self.u) * dt / self.dx, abs(self.w) * dt / self.dz) > 1.0:
            raise ConfigError(f"dt = {dt} breaks the advective CFL limit; reduce it")
        x = np.asarray(x0, dtype=float)
        states, times, content = [x], [t0], [float(self.content(x))]
        injected, lost = [0.0], [0.0]
        acc_in = acc_out = 0.0
        for i in range(1, n_steps + 1):
            x, d_in, d_out = self._step_budget(x, t0 + (i - 1) * dt, dt)
            acc_in += float(d_in)
            acc_out += float(d_out)
            if i % every == 0:
                states.append(x)
                times.append(t0 + i * dt)
                content.append(float(self.content(x)))
                injected.append(acc_in)
                lost.append(acc_out)
        budget = Budget(np.array(times), np.array(content), np.array(injected), np.array(lost))
        return np.stack(states), budget
