"""Target grids of a dataset and remapping onto them.

Target grids (cells flattened, latitude-major where the grid is structured):

- ``source``: the source's own cells, unchanged.
- ``regular``: global regular latitude/longitude cell centres
  (:func:`wxai.data.grids.icon.regular_latlon`), north to south, longitudes 0..360.
- ``icon``: ICON-style triangular grid RnBk: each icosahedron edge divided in
  ``n`` (root division), then ``k`` bisections (:func:`wxai.data.grids.icosahedral.subdivide`);
  20 n**2 4**k cells, centres = normalised vertex means.

Remapping (:class:`Remapper`):

- ``linear``: planar barycentric interpolation in the spherical Delaunay triangle
  of the source cells containing each target point (the hull-facet search of
  :mod:`wxai.data.grids.icon`); reproduces constants and linear functions of x, y, z.
  Two pseudo-points at the poles carry the mean of the nearest source ring, so
  targets poleward of the outermost source latitude are interpolated towards it.
- ``conservative``: first-order area-weighted average. Each target cell is split
  into sub-cells of known area (lat/lon boxes; sub-triangles for ICON cells) and
  each sub-cell is attributed to the source cell nearest its centre (the source
  cell = its Voronoi region). Weights = overlap area / target area, so constants
  are exact and the global area integral is preserved up to the sub-cell sampling
  error (5e-5 relative from a T21 Gaussian grid in the tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from wxai.core.errors import ConfigError, DataFormatError
from wxai.data.grids.icon import _linear_weights, lonlat_to_xyz, regular_latlon, xyz_to_lonlat
from wxai.data.grids.icosahedral import icon_rnbk, spherical_triangle_area, subdivide
from wxai.emulator.datasets.recipe import IconTarget, RegularTarget

__all__ = ["Remapper", "TargetGrid", "icon_rnbk", "target_grid"]


@dataclass(frozen=True, eq=False)
class TargetGrid:
    """Cells of a target grid.

    Attributes
    ----------
    latitudes, longitudes:
        Cell centres in degrees, shape (N,); longitudes in [0, 360).
    field_shape:
        (n_lat, n_lon) for structured grids, (N,) otherwise.
    resolution:
        Anemoi's ``resolution`` attribute (``"5.0"``, ``"R2B4"``, ``"T21"``).
    sub_xyz, sub_area, sub_parent:
        Sub-cells for conservative remapping: unit vectors (S, 3), areas (S,) in sr,
        owning cell (S,); None for the ``source`` grid.
    """

    latitudes: np.ndarray
    longitudes: np.ndarray
    field_shape: tuple[int, ...]
    resolution: str
    sub_xyz: np.ndarray | None = None
    sub_area: np.ndarray | None = None
    sub_parent: np.ndarray | None = None


def _icon_target(n: int, k: int, levels: int = 3) -> TargetGrid:
    xyz, faces = icon_rnbk(n, k)
    centre = xyz[faces].sum(axis=1)
    centre /= np.linalg.norm(centre, axis=1, keepdims=True)
    lon, lat = xyz_to_lonlat(centre)
    lon %= 360.0
    sub_xyz, sub_faces = xyz, faces
    for _ in range(levels):  # children of face f are f + i * F (see subdivide)
        sub_xyz, sub_faces = subdivide(sub_xyz, sub_faces)
    a, b, c = (sub_xyz[sub_faces[:, i]] for i in range(3))
    sub_centre = a + b + c
    sub_centre /= np.linalg.norm(sub_centre, axis=1, keepdims=True)
    parent = np.arange(sub_faces.shape[0]) % faces.shape[0]
    return TargetGrid(
        lat,
        lon,
        (lat.size,),
        f"R{n}B{k:02d}",
        sub_centre,
        spherical_triangle_area(a, b, c),
        parent,
    )


def _regular_target(resolution: float, sub: int = 8) -> TargetGrid:
    lat1, lon1 = regular_latlon(resolution)
    lat1 = lat1[::-1]
    lon1 = np.sort(lon1 % 360.0)
    lat = np.repeat(lat1, lon1.size)
    lon = np.tile(lon1, lat1.size)
    # sub-cells: sub x sub boxes per cell, area = dlon * (sin(lat_top) - sin(lat_bottom))
    offsets = (np.arange(sub) + 0.5) / sub - 0.5
    edges = (np.arange(sub + 1) / sub - 0.5) * resolution
    sub_lat = (lat[:, None] + offsets[None, :] * resolution)[:, :, None]
    sub_lon = (lon[:, None] + offsets[None, :] * resolution)[:, None, :]
    top = np.deg2rad(lat[:, None] + edges[None, 1:])
    bottom = np.deg2rad(lat[:, None] + edges[None, :-1])
    band = (np.sin(top) - np.sin(bottom))[:, :, None] * np.deg2rad(resolution / sub)
    shape = (lat.size, sub, sub)
    sub_xyz = lonlat_to_xyz(np.broadcast_to(sub_lon, shape), np.broadcast_to(sub_lat, shape))
    return TargetGrid(
        lat,
        lon,
        (lat1.size, lon1.size),
        f"{resolution:g}",
        sub_xyz.reshape(-1, 3),
        np.broadcast_to(band, shape).ravel(),
        np.repeat(np.arange(lat.size), sub * sub),
    )


def target_grid(
    spec: str | RegularTarget | IconTarget,
    latitudes: np.ndarray,
    longitudes: np.ndarray,
    field_shape: tuple[int, ...],
    resolution: str,
) -> TargetGrid:
    """The target grid of a recipe; ``source`` keeps the given cells (degrees, (N,))."""
    if isinstance(spec, RegularTarget):
        return _regular_target(spec.regular.resolution_deg)
    if isinstance(spec, IconTarget):
        return _icon_target(spec.icon.n, spec.icon.k)
    return TargetGrid(
        np.asarray(latitudes, float),
        np.asarray(longitudes, float) % 360.0,
        tuple(field_shape),
        resolution,
    )


def _pole_rows(latitudes: np.ndarray, src: np.ndarray) -> sp.csr_matrix:
    """Pseudo-points at the poles as averages of the source cells closest to them, (2, N).

    Without them the targets poleward of the outermost source ring fall in the flat
    polar facet of the hull, interpolated between opposite sides of the ring.
    """
    rows = []
    for sign in (1.0, -1.0):
        extreme = (sign * latitudes).max()
        ring = np.flatnonzero(np.abs(sign * latitudes - extreme) < 1e-6)
        if ring.size < 3:
            ring = cKDTree(src).query([0.0, 0.0, sign], k=min(6, latitudes.size))[1]
        row = np.zeros(latitudes.size)
        row[np.atleast_1d(ring)] = 1.0 / np.size(ring)
        rows.append(row)
    return sp.csr_matrix(np.array(rows))


class Remapper:
    """Remap fields from source cells to a :class:`TargetGrid`.

    Parameters
    ----------
    latitudes, longitudes:
        Source cells in degrees, shape (N_src,).
    target:
        The target grid.
    method:
        ``"linear"`` or ``"conservative"`` (see the module docstring).
    """

    def __init__(
        self, latitudes: np.ndarray, longitudes: np.ndarray, target: TargetGrid, method: str
    ) -> None:
        src = lonlat_to_xyz(np.asarray(longitudes, float), np.asarray(latitudes, float))
        self.n_source = src.shape[0]
        self.method = method
        n_target = target.latitudes.size
        if method == "linear":
            dst = lonlat_to_xyz(target.longitudes, target.latitudes)
            poles = _pole_rows(np.asarray(latitudes, float), src)
            idx, w = _linear_weights(np.vstack([src, [[0, 0, 1.0], [0, 0, -1.0]]]), dst)
            if np.isnan(w).any():
                raise DataFormatError(
                    f"{int(np.isnan(w).any(axis=1).sum())} target cells lie outside the "
                    "source grid; a limited-area source needs a limited-area target"
                )
            rows = np.repeat(np.arange(n_target), 3)
            augmented = sp.csr_matrix(
                (w.ravel(), (rows, idx.ravel())), shape=(n_target, self.n_source + 2)
            )
            self.matrix = augmented[:, : self.n_source] + augmented[:, self.n_source :] @ poles
        elif method == "conservative":
            if target.sub_xyz is None:
                raise ConfigError("conservative remapping needs a regular or icon target grid")
            _, owner = cKDTree(src).query(target.sub_xyz)
            matrix = sp.csr_matrix(
                (target.sub_area, (target.sub_parent, owner)), shape=(n_target, self.n_source)
            )
            area = np.asarray(matrix.sum(axis=1)).ravel()
            self.matrix = sp.diags(1.0 / area) @ matrix
            self.target_area = area
        else:
            raise ConfigError(f"remap method {method!r}: use 'linear' or 'conservative'")
        self.matrix = sp.csr_matrix(self.matrix)

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """Remap (..., N_src) -> (..., N_target), float32."""
        values = np.asarray(values)
        flat = values.reshape(-1, values.shape[-1]).astype(np.float64)
        out = (self.matrix @ flat.T).T
        return out.reshape(*values.shape[:-1], -1).astype(np.float32)
