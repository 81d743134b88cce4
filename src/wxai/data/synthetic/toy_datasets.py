"""Small seeded toy data sets for the neural-network labs and tests.

Every generator draws from the :class:`numpy.random.Generator` it is given, in a
fixed order, so the same generator state gives the same data. Arrays are float32
unless said otherwise. The ``sine`` generators return torch tensors (computed with
``torch.sin``, as the networks trained on them see them); all others return NumPy
arrays.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from wxai.core.errors import ConfigError, UnknownNameError

if TYPE_CHECKING:
    import torch

#: Class names of :func:`function_shapes`, in label order.
FUNCTION_SHAPES = ("sine", "Gaussian", "polynomial")
#: Kinds of :func:`sensor_sequences` anomalies, in label order.
ANOMALY_KINDS = ("spike", "level shift", "frequency jump", "flat line")
#: Point clouds of :func:`shape_2d`.
SHAPES_2D = ("moons", "ring")


# ---------------------------------------------------------------------------- regression


def sine_samples(
    rng: np.random.Generator, n: int, noise_std: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` points ``x ~ U[0, 2 pi]`` and ``y = sin(x) + N(0, noise_std^2)``.

    Returns
    -------
    x, y:
        float32 tensors ``(n, 1)``; ``x`` first, then the noise, are drawn from ``rng``.
    """
    import torch

    x = torch.from_numpy(rng.uniform(0.0, 2 * math.pi, size=(n, 1))).float()
    noise = torch.from_numpy(rng.normal(0.0, noise_std, size=(n, 1))).float()
    return x, torch.sin(x) + noise


def sine_mixture(
    x: torch.Tensor, frequencies: Sequence[float], amplitudes: Sequence[float]
) -> torch.Tensor:
    """The multi-frequency signal ``sum_k a_k sin(f_k x)``, of the shape of ``x``."""
    if len(frequencies) != len(amplitudes):
        raise ConfigError(
            f"{len(frequencies)} frequencies but {len(amplitudes)} amplitudes; give one each"
        )
    import torch

    return sum(
        (a * torch.sin(f * x) for f, a in zip(frequencies, amplitudes, strict=True)),
        torch.zeros_like(x),
    )


def mixture_samples(
    rng: np.random.Generator,
    n: int,
    means: Sequence[float],
    stds: Sequence[float],
    weights: Sequence[float],
) -> np.ndarray:
    """``n`` draws ``(n,)`` of a 1D Gaussian mixture (weights need not sum to 1)."""
    p = np.asarray(weights, dtype=float) / np.sum(weights)
    component = rng.choice(len(p), size=n, p=p)
    values = rng.normal(np.asarray(means)[component], np.asarray(stds)[component])
    return values.astype("float32")


def shape_2d(rng: np.random.Generator, n: int, shape: str, noise: float) -> np.ndarray:
    """Points ``(n, 2)`` on two interleaved half circles (``moons``) or a circle of radius 2
    (``ring``), scattered by ``N(0, noise^2)`` in each coordinate."""
    if shape == "moons":
        upper = rng.random(n) < 0.5
        angle = rng.uniform(0, math.pi, n)
        x = np.where(upper, np.cos(angle), 1 - np.cos(angle))
        y = np.where(upper, np.sin(angle), 0.5 - np.sin(angle))
    elif shape == "ring":
        angle = rng.uniform(0, 2 * math.pi, n)
        x, y = 2 * np.cos(angle), 2 * np.sin(angle)
    else:
        raise UnknownNameError("2D target", shape, SHAPES_2D)
    points = np.stack([x, y], axis=1) + noise * rng.standard_normal((n, 2))
    return points.astype("float32")


# ------------------------------------------------------------------------- classification


def ellipse_labels(
    points: np.ndarray,
    centres: Sequence[Sequence[float]],
    semi_axes: Sequence[Sequence[float]],
    angles_deg: Sequence[float],
) -> np.ndarray:
    """1 where a point of ``points`` ``(n, 2)`` lies inside any ellipse, else 0.

    Ellipse ``k`` has centre ``centres[k]``, semi-axes ``semi_axes[k] = (major, minor)``
    and its major axis turned by ``angles_deg[k]`` from the x axis. Returns float32 ``(n,)``.
    """
    inside = np.zeros(len(points), dtype=bool)
    for centre, (major, minor), angle in zip(centres, semi_axes, angles_deg, strict=True):
        c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        d = points - np.asarray(centre)
        along, across = d @ np.array([c, s]), d @ np.array([-s, c])
        inside |= (along / major) ** 2 + (across / minor) ** 2 <= 1
    return inside.astype("float32")


def ellipse_points(
    rng: np.random.Generator,
    n: int,
    sample_std: float,
    *,
    centres: Sequence[Sequence[float]],
    semi_axes: Sequence[Sequence[float]],
    angles_deg: Sequence[float],
) -> tuple[np.ndarray, np.ndarray]:
    """Points ``(n, 2)`` from ``N(0, sample_std^2 I)`` and their :func:`ellipse_labels` ``(n,)``."""
    points = rng.normal(0.0, sample_std, size=(n, 2)).astype("float32")
    return points, ellipse_labels(points, centres, semi_axes, angles_deg)


def function_shapes(
    rng: np.random.Generator, n: int, n_points: int, noise: float
) -> tuple[np.ndarray, np.ndarray]:
    """Noisy curves on ``[-1, 1]`` of three classes (:data:`FUNCTION_SHAPES`).

    Class 0 is a sine of 1 to 2.5 periods, class 1 a Gaussian bump, class 2 a random
    polynomial of degree 2 or 3 scaled to a maximum of 1; each is multiplied by a
    random amplitude of either sign (0.5 to 1.5) and added white noise of std ``noise``.

    Returns
    -------
    curves:
        float32 ``(n, 1, n_points)``.
    labels:
        int ``(n,)`` in ``0..2``.
    """
    x = np.linspace(-1, 1, n_points)
    labels = rng.integers(0, len(FUNCTION_SHAPES), size=n)
    curves = np.empty((n, n_points))
    for i, label in enumerate(labels):
        amplitude = rng.uniform(0.5, 1.5) * rng.choice([-1, 1])
        if label == 0:
            curves[i] = np.sin(rng.uniform(2, 5) * math.pi * x + rng.uniform(0, 2 * math.pi))
        elif label == 1:
            curves[i] = np.exp(-0.5 * ((x - rng.uniform(-0.6, 0.6)) / rng.uniform(0.08, 0.3)) ** 2)
        else:
            poly = np.polynomial.Polynomial(rng.uniform(-1, 1, size=rng.integers(3, 5)))(x)
            curves[i] = poly / max(np.abs(poly).max(), 1e-6)
        curves[i] *= amplitude
    curves += noise * rng.standard_normal(curves.shape)
    return curves[:, None, :].astype("float32"), labels


def sensor_sequences(
    rng: np.random.Generator,
    n: int,
    *,
    seq_len: int,
    period_range: Sequence[float],
    noise_std: float,
    anomaly_size: float = 1.0,
    anomalous: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Noisy unit sine oscillations, optionally each with one anomaly.

    Periods are uniform in ``period_range`` (time steps), phases uniform. An anomalous
    sequence gets one of :data:`ANOMALY_KINDS` over a window of ``seq_len/8`` to
    ``seq_len/4`` steps: a two-step spike of ``1.5 anomaly_size``, a level shift of
    ``anomaly_size``, a tripled frequency, or a flat line.

    Returns
    -------
    series:
        float32 ``(n, seq_len, 1)``.
    kinds:
        int ``(n,)``: index into :data:`ANOMALY_KINDS`, ``-1`` for a normal sequence.
    """
    t = np.arange(seq_len)
    period = rng.uniform(*period_range, size=(n, 1))
    phase = rng.uniform(0, 2 * math.pi, size=(n, 1))
    series = np.sin(2 * math.pi * t / period + phase)
    kinds = np.full(n, -1)
    if anomalous:
        kinds = rng.integers(0, len(ANOMALY_KINDS), size=n)
        for i, kind in enumerate(kinds):
            width = rng.integers(seq_len // 8, seq_len // 4 + 1)
            start = rng.integers(0, seq_len - width)
            window = slice(start, start + width)
            sign = rng.choice([-1, 1])
            if kind == 0:
                series[i, start : start + 2] += sign * anomaly_size * 1.5
            elif kind == 1:
                series[i, window] += sign * anomaly_size
            elif kind == 2:
                series[i, window] = np.sin(6 * math.pi * t[window] / period[i] + phase[i])
            else:
                series[i, window] = series[i, start]
    series += noise_std * rng.standard_normal(series.shape)
    return series[..., None].astype("float32"), kinds


# -------------------------------------------------------------------- transport and fields


def moving_blobs(
    rng: np.random.Generator,
    n: int,
    *,
    n_points: int,
    domain_length: float,
    shift_points: float,
    max_blobs: int = 3,
    width_range: Sequence[float] = (0.3, 0.8),
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs on a periodic domain ``[0, L)`` and the same blobs one step later.

    Each field has 1 to ``max_blobs`` blobs of amplitude 0.5 to 1.5 and standard
    deviation in ``width_range`` (domain units); a step moves them by ``shift_points``
    grid spacings, ``f(t + 1, x) = f(t, x - shift)``.

    Returns
    -------
    now, later:
        float32 ``(n, 1, n_points)`` each.
    """
    length, size = domain_length, n_points
    x = np.arange(size) * length / size
    shift = shift_points * length / size
    now, later = np.zeros((n, 1, size)), np.zeros((n, 1, size))
    for i in range(n):
        for _ in range(rng.integers(1, max_blobs + 1)):
            centre = rng.uniform(0, length)
            width = rng.uniform(*width_range)
            amplitude = rng.uniform(0.5, 1.5)
            for field, c in ((now, centre), (later, centre + shift)):
                d = (x - c + length / 2) % length - length / 2  # periodic distance
                field[i, 0] += amplitude * np.exp(-0.5 * (d / width) ** 2)
    return now.astype("float32"), later.astype("float32")


def ring_fields(
    rng: np.random.Generator, count: int, n_nodes: int, max_wavenumber: int, shift: float
) -> tuple[np.ndarray, np.ndarray]:
    """Random periodic fields on a ring of nodes and the same fields moved by ``shift`` nodes.

    Each field is a Fourier sum over wavenumbers ``1..max_wavenumber`` with normal
    amplitudes (variance ``1 / max_wavenumber``) and uniform phases, so the moved field
    ``z(theta - 2 pi shift / n)`` is exact for any (also fractional) shift.

    Returns
    -------
    now, later:
        float32 ``(count, n_nodes)`` each.
    """
    theta = 2 * np.pi * np.arange(n_nodes) / n_nodes
    k = np.arange(1, max_wavenumber + 1)
    amplitude = rng.normal(size=(count, len(k), 1)) / np.sqrt(len(k))
    phase = rng.uniform(0, 2 * np.pi, size=(count, len(k), 1))
    now = (amplitude * np.cos(k[:, None] * theta + phase)).sum(axis=1)
    moved = theta - 2 * np.pi * shift / n_nodes
    later = (amplitude * np.cos(k[:, None] * moved + phase)).sum(axis=1)
    return now.astype("float32"), later.astype("float32")


def sparse_sine_fields(
    rng: np.random.Generator,
    count: int,
    position: np.ndarray,
    *,
    wavenumbers: Sequence[float],
    n_modes: int,
    anomaly_amplitude: float,
    background_amplitude: float,
    background_wavenumber: float,
    obs_fraction: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Random 1D functions at ``position`` ``(n,)`` and which of their points are observed.

    Each function is a pattern shared by all samples, ``a_b cos(k_b x)`` (think of a
    recurring large-scale wave), plus a random anomaly: a sum of ``n_modes`` sines with
    wavenumbers uniform in ``wavenumbers``, uniform phases and normal amplitudes of
    total std ``anomaly_amplitude``. Each point is observed with probability
    ``obs_fraction``, and at least one point per function is.

    Returns
    -------
    truth:
        float64 ``(count, n)``.
    observed:
        bool ``(count, n)``.
    """
    n_nodes = len(position)
    truth = np.empty((count, n_nodes))
    observed = np.empty((count, n_nodes), dtype=bool)
    for i in range(count):
        k = rng.uniform(*wavenumbers, size=(n_modes, 1))
        phase = rng.uniform(0, 2 * np.pi, size=(n_modes, 1))
        amplitude = anomaly_amplitude * rng.normal(size=(n_modes, 1)) / np.sqrt(n_modes)
        truth[i] = (amplitude * np.sin(k * position + phase)).sum(axis=0) + (
            background_amplitude * np.cos(background_wavenumber * position)
        )
        observed[i] = rng.random(n_nodes) < obs_fraction
        observed[i, rng.integers(n_nodes)] = True
    return truth, observed
