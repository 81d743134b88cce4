"""What a forecast needs to know of the training dataset, carried in inference checkpoints.

A :class:`DataGrid` holds the cells (latitudes, longitudes, field shape), the time
step, the variables' metadata (param, level, level type, units), the values of
the input-only fields that do not change in time, and the dataset's provenance.
It is written into the inference checkpoint as plain containers (tensors, lists,
strings) so ``torch.load(weights_only=True)`` reads it back.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from wxai.core.errors import DataFormatError
from wxai.emulator.datasets.reader import EmulatorDataset

__all__ = ["DataGrid", "GridKind"]

GridKind = Literal["regular_ll", "regular_gg", "unstructured"]


@dataclass(frozen=True, eq=False)
class DataGrid:
    """Cells, time step and variables of an emulator's data.

    Attributes
    ----------
    latitudes, longitudes:
        Cell centres [degrees], shape (N,), latitude-major for structured grids.
    field_shape:
        (n_lat, n_lon) for structured grids, (N,) for a triangular grid.
    resolution:
        Anemoi's resolution string (``"T21"``, ``"R2B4"``, ``"5.0"``).
    step:
        Time step of the data and of one model step.
    variables_metadata:
        Per variable: ``param``, ``level``, ``levtype``, ``units``,
        ``computed_forcing``, ``constant_in_time``.
    constants:
        Input-only fields that are neither computed nor varying: name -> (N,) float32.
    provenance:
        Dataset path, name, dates and statistics period (strings).
    """

    latitudes: np.ndarray
    longitudes: np.ndarray
    field_shape: tuple[int, ...]
    resolution: str
    step: dt.timedelta
    variables_metadata: dict[str, dict[str, Any]]
    constants: dict[str, np.ndarray] = field(default_factory=dict)
    provenance: dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> GridKind:
        """``regular_ll`` (equal latitude steps), ``regular_gg`` (Gaussian) or ``unstructured``."""
        if len(self.field_shape) != 2:
            return "unstructured"
        lat = self.latitudes.reshape(self.field_shape)[:, 0]
        spacing = np.diff(lat)
        return "regular_ll" if np.allclose(spacing, spacing[0], atol=1e-6) else "regular_gg"

    @property
    def grid_uuid(self) -> str:
        """A stable UUID of the cell positions (GRIB2 ``uuidOfHGrid`` for triangular grids)."""
        digest = np.round(np.stack([self.latitudes, self.longitudes]), 6).tobytes()
        return uuid.uuid5(uuid.NAMESPACE_URL, "wxai-grid:" + digest.hex()).hex

    @property
    def training_period(self) -> tuple[np.datetime64, np.datetime64]:
        """First and last date of the statistics (training) period, datetime64[s]."""
        return (
            np.datetime64(self.provenance["statistics_start_date"], "s"),
            np.datetime64(self.provenance["statistics_end_date"], "s"),
        )

    def is_forcing(self, name: str) -> bool:
        meta = self.variables_metadata.get(name, {})
        return bool(meta.get("computed_forcing") or meta.get("constant_in_time"))

    @classmethod
    def from_dataset(cls, dataset: EmulatorDataset, *, input_only: list[str]) -> DataGrid:
        """The grid of ``dataset``; constants are taken for the ``input_only`` fields
        that are constant in time and not computed."""
        meta = dataset.attrs.get("variables_metadata", {})
        constants = {}
        for name in input_only:
            m = meta.get(name, {})
            if m.get("constant_in_time") and not m.get("computed_forcing"):
                i = dataset.name_to_index[name]
                constants[name] = dataset.fields(0, 1)[0, i].copy()
        attrs = dataset.attrs
        return cls(
            latitudes=np.asarray(dataset.latitudes, np.float64),
            longitudes=np.asarray(dataset.longitudes, np.float64),
            field_shape=tuple(int(s) for s in attrs["field_shape"]),
            resolution=str(attrs["resolution"]),
            step=dataset.frequency,
            variables_metadata={k: dict(v) for k, v in meta.items()},
            constants=constants,
            provenance={
                "path": str(dataset.path),
                "name": str(attrs.get("recipe", {}).get("name", "")),
                "start_date": str(attrs["start_date"]),
                "end_date": str(attrs["end_date"]),
                "statistics_start_date": str(attrs["statistics_start_date"]),
                "statistics_end_date": str(attrs["statistics_end_date"]),
            },
        )

    def to_payload(self) -> dict[str, Any]:
        """Plain containers for ``torch.save`` (read back with ``weights_only=True``)."""
        return {
            "latitudes": torch.from_numpy(self.latitudes.copy()),
            "longitudes": torch.from_numpy(self.longitudes.copy()),
            "field_shape": list(self.field_shape),
            "resolution": self.resolution,
            "step_seconds": int(self.step.total_seconds()),
            "variables_metadata": self.variables_metadata,
            "constants": {k: torch.from_numpy(np.asarray(v)) for k, v in self.constants.items()},
            "provenance": dict(self.provenance),
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any], where: str) -> DataGrid:
        try:
            return cls(
                latitudes=payload["latitudes"].numpy().astype(np.float64),
                longitudes=payload["longitudes"].numpy().astype(np.float64),
                field_shape=tuple(int(s) for s in payload["field_shape"]),
                resolution=str(payload["resolution"]),
                step=dt.timedelta(seconds=int(payload["step_seconds"])),
                variables_metadata=dict(payload["variables_metadata"]),
                constants={k: v.numpy() for k, v in payload["constants"].items()},
                provenance=dict(payload["provenance"]),
            )
        except (KeyError, AttributeError, TypeError) as exc:
            raise DataFormatError(f"{where}: incomplete data grid ({exc})") from exc
