"""A tiny emulator for the cockpit tests, built without the dynamical core.

A smooth NetCDF archive (``t`` on model levels 2 and 8 of an 8-layer model, and
``sp``) on a 16 x 32 Gaussian grid, 6-hourly over the dates of the smoke preset
(2000-01-01 to 2000-01-06), becomes a dataset through a files recipe; an
untrained, seeded GNN on an icosahedral level-1 mesh is saved as an inference
checkpoint. The smoke preset's training (to 01-03 18 UTC) and validation
(01-04 to 01-05) periods lie inside the dataset, so the same files serve the
forecast, the scorecard and a training.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import xarray as xr

from wxai.data.formats.grib import gaussian_latitudes
from wxai.data.formats.netcdf import write_netcdf
from wxai.emulator.datasets.build import build_dataset
from wxai.emulator.datasets.reader import open_dataset
from wxai.emulator.graphs import build_graph, load_graph_config, save_graph
from wxai.emulator.inference.grid import DataGrid
from wxai.emulator.training.config import compose_training_config
from wxai.emulator.training.emulator import build_emulator, save_inference_checkpoint

N_LAT, N_LON = 16, 32
START = np.datetime64("2000-01-01T00:00", "s")
LAST = np.datetime64("2000-01-06T00:00", "s")
GRAPH = {"hidden": {"icosahedral": {"resolution": 1}}, "encoder": {"cutoff": 0.8}}


def write_archive(folder: Path) -> Path:
    """``t`` [K] on levels 2 and 8 and ``sp`` [Pa]: a wave travelling east, 6-hourly."""
    folder.mkdir(parents=True, exist_ok=True)
    lat, lon = gaussian_latitudes(N_LAT), np.arange(N_LON) * 360.0 / N_LON
    la, lo = np.meshgrid(np.deg2rad(lat), np.deg2rad(lon), indexing="ij")
    times = np.arange(START, LAST + np.timedelta64(6, "h"), np.timedelta64(6, "h"))
    phase = np.arange(times.size)[:, None, None] * 0.3
    wave = np.cos(la)[None] * np.sin(lo[None] - phase)
    t = np.stack([230 + 10 * wave, 285 + 15 * wave], axis=1)
    ds = xr.Dataset(
        {
            "t": (("time", "level", "latitude", "longitude"), t.astype(np.float32)),
            "sp": (("time", "latitude", "longitude"), (1.0e5 + 900 * wave).astype(np.float32)),
        },
        coords={"time": times, "level": [2, 8], "latitude": lat, "longitude": lon},
    )
    ds.t.attrs["units"], ds.sp.attrs["units"] = "K", "Pa"
    write_netcdf(ds, folder / "analysis.nc")
    return folder / "analysis.nc"


def recipe(archive: Path) -> dict:
    """A files recipe over ``archive``: variables ``t_2``, ``t_8``, ``sp`` and two forcings."""
    return {
        "name": "cockpit-emulator-test",
        "source": {"kind": "files", "paths": str(archive), "format": "netcdf"},
        "variables": ["t", "sp"],
        "levels": [2, 8],
        "dates": {"start": str(START), "end": str(LAST), "frequency": "6h"},
        "grid": "source",
        "forcings": ["cos_latitude", "insolation"],
        "statistics": {"start": str(START), "end": "2000-01-03T18:00"},
    }


def save_checkpoint(dataset_path: Path, out: Path, forcing: list[str] | None = None) -> Path:
    """An untrained (seeded) GNN of the smoke preset's periods, as an inference checkpoint.

    ``forcing``: the input-only variables (default: the dataset's forcings).
    """
    torch.manual_seed(0)
    dataset = open_dataset(dataset_path)
    graph = build_graph(load_graph_config(GRAPH), dataset.latitudes, dataset.longitudes)
    config = compose_training_config(
        [
            f"dataset.path={dataset_path}",
            "graph.path=graph.pt",
            f"output_dir={out.parent}",
            "model.hidden=8",
            "model.processor_layers=1",
            "model.trainable_size=0",
            "dataset.multistep_input=2",
        ]
    )
    forcing = forcing or dataset.forcing_variables
    prognostic = [i for i, n in enumerate(dataset.variables) if n not in forcing]
    emulator = build_emulator(
        config.model,
        graph,
        variables=dataset.variables,
        forcing=forcing,
        statistics=dataset.statistics,
        increment_stdev=np.full(len(prognostic), 0.1),
        multistep_input=2,
    )
    data = DataGrid.from_dataset(dataset, input_only=forcing)
    return save_inference_checkpoint(
        emulator, graph, config.model_dump(mode="json"), out, data=data
    )


def build_inputs(root: Path) -> dict[str, Path]:
    """Archive, dataset, graph file and a checkpoint at ``<root>/models/tiny/inference-best.pt``.

    ``root`` laid out like a wxai home: ``emulator/models`` is where the cockpit looks.
    """
    archive = write_archive(root / "archive")
    dataset = build_dataset(recipe(archive), root / "dataset.zarr")
    cells = open_dataset(dataset)
    graph = build_graph(load_graph_config(GRAPH), cells.latitudes, cells.longitudes)
    graph_path = save_graph(graph, root / "graph.pt")
    checkpoint = save_checkpoint(dataset, root / "models" / "tiny" / "inference-best.pt")
    return {"dataset": dataset, "graph": graph_path, "checkpoint": checkpoint}
