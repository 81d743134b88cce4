"""Training samples from a gridded forecast archive: standardised inputs, forcings, patches.

A network that advances the archive by one time step sees the standardised state
variables at ``t`` and, optionally, *forcings*: inputs that are known in advance and
need no forecast, here the local solar time (as cos and sin, which set the diurnal
cycle) and the static land fraction. :func:`training_fields` stacks both into one
``(time, channel, lat, lon)`` array with statistics from the training period only, and
:func:`random_patches` cuts square training patches of the step ``t -> t + 1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from wxai.core.errors import ConfigError

#: Forcings :func:`training_fields` can add, in channel order.
FORCINGS = ("local_time", "land_fraction")


def local_time_forcing(times: np.ndarray, lon: np.ndarray, n_lat: int) -> np.ndarray:
    """cos and sin of the local solar time, ``(time, 2, n_lat, lon)``.

    The local time is UTC plus ``lon / 15`` hours; one day is a full turn.
    """
    times = np.asarray(times)
    utc = (times - times.astype("datetime64[D]")) / np.timedelta64(1, "h")
    angle = 2 * np.pi * (utc[:, None, None] + np.asarray(lon)[None, None, :] / 15.0) / 24.0
    angle = np.broadcast_to(angle, (len(times), n_lat, len(lon)))
    return np.stack([np.cos(angle), np.sin(angle)], axis=1)


def land_fraction_forcing(land: np.ndarray, n_steps: int) -> np.ndarray:
    """The static land fraction ``(lat, lon)`` standardised, as ``(n_steps, 1, lat, lon)``."""
    land = (land - land.mean()) / (land.std() + 1e-6)
    return np.broadcast_to(land, (n_steps, 1, *land.shape))


@dataclass(frozen=True)
class TrainingFields:
    """State variables of an archive and the standardised network inputs built from them.

    Attributes
    ----------
    fields:
        ``(time, variable, lat, lon)`` the variables in their own units.
    inputs:
        ``(time, channel, lat, lon)`` float32: the standardised variables, then the
        forcings (cos and sin of local time, land fraction) as requested.
    mean, std:
        ``(1, variable, 1, 1)`` statistics over the training period, times
        ``0 .. n_train`` (the targets of the last training pair included).
    n_train:
        Number of training step pairs ``(t, t + 1)``, ``t < n_train``; the later pairs
        are held out.
    """

    fields: np.ndarray
    inputs: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    n_train: int

    def to_units(self, values: np.ndarray, variable: int = 0) -> np.ndarray:
        """Standardised values of ``variable`` back in the variable's units."""
        return values * float(self.std[0, variable, 0, 0]) + float(self.mean[0, variable, 0, 0])


def training_fields(
    archive: xr.Dataset,
    variables: Sequence[str],
    *,
    train_fraction: float,
    forcings: Sequence[str] = FORCINGS,
    land: str = "frland",
) -> TrainingFields:
    """Stack, standardise and extend with forcings the ``variables`` of a gridded archive.

    Parameters
    ----------
    archive:
        Dataset with dims ``(time, latitude, longitude)``.
    variables:
        State variables in channel order; the first is usually the forecast target.
    train_fraction:
        Leading fraction of the step pairs used for training (and statistics).
    forcings:
        Any of :data:`FORCINGS`; ``land_fraction`` reads the variable ``land``.

    Raises
    ------
    ConfigError
        For an unknown forcing, or when the split leaves no training or no held-out pair.
    """
    unknown = sorted(set(forcings) - set(FORCINGS))
    if unknown:
        raise ConfigError(f"unknown forcings {unknown}; choose from {list(FORCINGS)}")
    fields = np.stack([archive[name].values for name in variables], axis=1)
    n_steps = fields.shape[0]
    n_train = round(train_fraction * (n_steps - 1))
    if n_train < 1 or n_train > n_steps - 2:
        raise ConfigError(f"{n_steps} times leave no training or no held-out step pairs")
    mean = fields[: n_train + 1].mean(axis=(0, 2, 3), keepdims=True)
    std = fields[: n_train + 1].std(axis=(0, 2, 3), keepdims=True)
    inputs = ((fields - mean) / std).astype("float32")
    extra = []
    if "local_time" in forcings:
        lon = archive["longitude"].values
        extra.append(local_time_forcing(archive["time"].values, lon, fields.shape[2]))
    if "land_fraction" in forcings:
        extra.append(land_fraction_forcing(archive[land].values, n_steps))
    if extra:
        inputs = np.concatenate([inputs, *(e.astype("float32") for e in extra)], axis=1)
    return TrainingFields(fields=fields, inputs=inputs, mean=mean, std=std, n_train=n_train)


def random_patches(
    rng: np.random.Generator,
    inputs: np.ndarray,
    *,
    n_train: int,
    patch: int,
    n_patches: int,
    target: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Random square patches of the inputs at ``t`` and of the target's change to ``t + 1``.

    Origins are drawn from ``rng``: times ``t < n_train``, then rows, then columns.

    Returns
    -------
    x:
        ``(n_patches, channel, patch, patch)`` inputs at ``t``.
    change:
        ``(n_patches, 1, patch, patch)`` of ``inputs[t + 1, target] - inputs[t, target]``.
    """
    n_lat, n_lon = inputs.shape[2:]
    if min(n_lat, n_lon) < patch:
        raise ConfigError(f"grid {n_lat}x{n_lon} smaller than patch {patch}")
    origin_t = rng.integers(0, n_train, n_patches)
    origin_y = rng.integers(0, n_lat - patch + 1, n_patches)
    origin_x = rng.integers(0, n_lon - patch + 1, n_patches)
    window = np.arange(patch)
    rows = (origin_y[:, None] + window)[:, :, None]
    cols = (origin_x[:, None] + window)[:, None, :]
    t = origin_t[:, None, None]
    x = inputs[t, :, rows, cols].transpose(0, 3, 1, 2)
    change = inputs[t + 1, target, rows, cols] - inputs[t, target, rows, cols]
    return x, change[:, None]
