"""Input-only fields of a forecast at each valid time.

Computed forcings (insolation, local time, position) are evaluated for the valid
time; constant fields come from the checkpoint; anything else that is input-only
and varies in time can only come from a dataset that covers the valid time.
"""

from __future__ import annotations

import numpy as np

from wxai.core.errors import ConfigError
from wxai.emulator.datasets.forcings import compute_forcing
from wxai.emulator.datasets.reader import EmulatorDataset
from wxai.emulator.training.emulator import InferenceCheckpoint

__all__ = ["ForcingProvider"]


class ForcingProvider:
    """Rows ``(V, N)`` of the model's variables with the input-only ones filled.

    Prognostic slots hold zeros; the rollout writes its predictions there.
    """

    def __init__(self, ckpt: InferenceCheckpoint, dataset: EmulatorDataset | None = None) -> None:
        self.grid = ckpt.data
        self.variables = ckpt.emulator.variables
        prognostic = set(ckpt.emulator.prognostic)
        self.input_only = [name for name in self.variables if name not in prognostic]
        self.dataset = dataset
        self.from_dataset = [
            name
            for name in self.input_only
            if not self.grid.variables_metadata.get(name, {}).get("computed_forcing")
            and name not in self.grid.constants
        ]

    def check_covers(self, dates: np.ndarray) -> None:
        """ConfigError unless every input-only field is known at ``dates``."""
        if not self.from_dataset:
            return
        if self.dataset is None:
            raise ConfigError(
                f"input-only fields {self.from_dataset} vary in time and are not computed: "
                "start the forecast from a dataset date that covers its lead"
            )
        last = self.dataset.dates[-1]
        beyond = dates[dates > last]
        if beyond.size:
            raise ConfigError(
                f"the lead reaches {beyond[-1]}, but {self.from_dataset} come from "
                f"{self.dataset.path}, which ends {last}; shorten the lead"
            )

    def row(self, date: np.datetime64) -> np.ndarray:
        """Fields at ``date``: float32 (V, N), zeros in the prognostic slots."""
        grid = self.grid
        out = np.zeros((len(self.variables), grid.latitudes.size), np.float32)
        dates = np.asarray([date], dtype="datetime64[s]")
        stored = None
        for i, name in enumerate(self.variables):
            if name not in self.input_only:
                continue
            if grid.variables_metadata.get(name, {}).get("computed_forcing"):
                out[i] = compute_forcing(name, dates, grid.latitudes, grid.longitudes)[0]
            elif name in grid.constants:
                out[i] = grid.constants[name]
            else:
                if stored is None:
                    self.check_covers(dates)
                    k = self.dataset.date_index(date)
                    stored = self.dataset.fields(k, k + 1)[0]
                out[i] = stored[i]
        return out
