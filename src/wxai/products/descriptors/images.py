"""10-m wind fields rendered as small RGB images a vision model can read, and read back.

Encoding (fixed, the same for every field): each pixel is one point of the wind field
coloured in HSV space,

- **hue** = meteorological direction / 360 (where the wind comes *from*; 0 = north red,
  90 = east yellow-green, 180 = south cyan, 270 = west violet); hue is cyclic, like
  direction, so 359 and 1 degrees get nearly the same colour;
- **value** (brightness) = ``0.2 + 0.8 * min(speed, 30) / 30``: black-ish for calm, full
  brightness at 30 m s-1 and above; the floor of 0.2 keeps the hue visible in light
  winds;
- **saturation** = 1.

North is up (row 0 of the image is the northern edge) and east is right. The field is
resampled bilinearly (on ``u``, ``v``, so directions average correctly) to a square
``size x size`` image. :func:`decode_wind_image` inverts the encoding pixel by pixel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.colors import hsv_to_rgb, rgb_to_hsv
from scipy.ndimage import zoom

from wxai.atmos.wind import wind_speed_direction
from wxai.core.errors import ConfigError, DataFormatError

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["MAX_SPEED", "MIN_VALUE", "decode_wind_image", "render_wind_image"]

#: Speed [m s-1] at which the brightness saturates.
MAX_SPEED = 30.0
#: Brightness of a calm pixel.
MIN_VALUE = 0.2


def _components(wind: xr.Dataset | tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``(u, v)`` as float arrays ``(ny, nx)`` with row 0 at the southern edge."""
    if isinstance(wind, tuple):
        if len(wind) != 2:
            raise DataFormatError(f"expected a (u, v) pair of arrays, got {len(wind)} items")
        u, v = (np.asarray(c, dtype=float) for c in wind)
    elif hasattr(wind, "data_vars"):
        missing = [name for name in ("u10", "v10") if name not in wind.data_vars]
        if missing:
            raise DataFormatError(
                f"wind dataset lacks {missing}; it needs u10 and v10 [m s-1] on "
                f"(latitude, longitude); it has {sorted(map(str, wind.data_vars))}"
            )
        if "latitude" in wind.dims:
            wind = wind.sortby("latitude")
        u, v = wind["u10"].values.astype(float), wind["v10"].values.astype(float)
    else:
        raise DataFormatError(
            f"expected an xarray Dataset with u10, v10 or a (u, v) tuple, got {type(wind).__name__}"
        )
    if u.ndim != 2 or u.shape != v.shape:
        raise DataFormatError(f"u and v must be 2D arrays of one shape, got {u.shape}, {v.shape}")
    if min(u.shape) < 2:
        raise DataFormatError(f"the wind field needs at least 2 x 2 points, got {u.shape}")
    if not (np.isfinite(u).all() and np.isfinite(v).all()):
        raise DataFormatError("the wind field contains NaN or infinite values; fill them first")
    return u, v


def render_wind_image(
    wind: xr.Dataset | tuple[np.ndarray, np.ndarray], size: int = 32
) -> np.ndarray:
    """Render a 10-m wind field as an RGB image in the encoding of this module.

    Parameters
    ----------
    wind:
        A Dataset with ``u10``, ``v10`` [m s-1] on ``(latitude, longitude)`` (oriented by
        its latitude coordinate), or a tuple ``(u, v)`` of arrays ``(ny, nx)`` [m s-1] whose
        row 0 is the southern edge (the layout of
        :func:`~wxai.products.descriptors.fields.synthetic_wind_field`).
    size:
        Edge of the square output image in pixels (4 .. 1024).

    Returns
    -------
    numpy.ndarray
        ``(size, size, 3)`` uint8, north up.
    """
    if not isinstance(size, int | np.integer) or not 4 <= size <= 1024:
        raise ConfigError(f"size must be an integer in 4 .. 1024 pixels, got {size!r}")
    u, v = _components(wind)
    factors = (size / u.shape[0], size / u.shape[1])
    u, v = zoom(u, factors, order=1), zoom(v, factors, order=1)
    speed, direction = wind_speed_direction(u[::-1], v[::-1])  # row 0 -> north
    hsv = np.stack(
        [
            direction / 360.0,
            np.ones_like(speed),
            MIN_VALUE + (1.0 - MIN_VALUE) * np.clip(speed / MAX_SPEED, 0.0, 1.0),
        ],
        axis=-1,
    )
    return np.round(hsv_to_rgb(hsv) * 255.0).astype(np.uint8)


def decode_wind_image(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel speed [m s-1, saturating at 30] and direction [degrees] of a rendered image.

    Parameters
    ----------
    image:
        ``(H, W, 3)`` uint8 from :func:`render_wind_image`.

    Returns
    -------
    tuple of numpy.ndarray
        ``speed`` and ``direction``, each ``(H, W)``; accurate to the 8-bit quantisation
        (about 0.15 m s-1 and 1-2 degrees at moderate speeds).
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise DataFormatError(
            f"expected an RGB image (H, W, 3) of uint8, got shape {image.shape} {image.dtype}"
        )
    hsv = rgb_to_hsv(image.astype(float) / 255.0)
    speed = MAX_SPEED * np.clip((hsv[..., 2] - MIN_VALUE) / (1.0 - MIN_VALUE), 0.0, 1.0)
    return speed, 360.0 * hsv[..., 0]
