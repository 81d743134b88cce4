"""Time to read one town's time series from two Zarr chunk layouts of the same forecast.

Usage: ``python benchmarks/zarr_town_extraction.py [--resolution DEG] [--lead-hours H]
[--repeat N] [--place NAME] [--dir DIR]``. One synthetic European forecast is written
twice: in map-friendly chunks (1, 60, 60) (time, lat, lon) and in time-series-friendly
chunks (n_times, 10, 10). Both stores are opened lazily and the nearest-point series of
all archived variables at the town is computed (best of N, fresh open each time, so no
cache helps); both times and the ratio map / series are printed.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

VARIABLES = ["t2m", "u10", "v10", "msl", "tp"]


def make_forecast(resolution: float, lead_hours: int, step_hours: int = 3):
    """A synthetic forecast over Europe (lat 35..72, lon -15..35), float32."""
    from wxai.data.synthetic import Domain, SyntheticAtmosphere

    atmosphere = SyntheticAtmosphere(seed=0, n_cyclones=3, domain=Domain(35, 72, -30, 35))
    lat = np.arange(35.0, 72.0 + 1e-9, resolution)
    lon = np.arange(-15.0, 35.0 + 1e-9, resolution)
    times = atmosphere.start + np.arange(0, lead_hours + 1, step_hours) * np.timedelta64(1, "h")
    return atmosphere.fields(lat, lon, times)[VARIABLES].astype("float32")


def extract_once(store: Path, place: tuple[float, float]) -> float:
    """Seconds to open ``store`` and compute the town's series of every variable."""
    from wxai.data.archive import extract_points
    from wxai.data.formats.zarr_store import read_zarr

    t0 = time.perf_counter()
    points = extract_points(read_zarr(store), {"town": place}).compute()
    elapsed = time.perf_counter() - t0
    assert points["t2m"].size > 0
    return elapsed


def main(argv: list[str] | None = None) -> None:
    from wxai.data.formats.zarr_store import write_zarr
    from wxai.viz import find_place

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=float, default=0.25, help="grid spacing [deg]")
    parser.add_argument("--lead-hours", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=5, help="best of N")
    parser.add_argument("--place", default="Offenbach am Main")
    parser.add_argument("--dir", type=Path, default=None, help="where to write the stores")
    args = parser.parse_args(argv)

    town = find_place(args.place)
    ds = make_forecast(args.resolution, args.lead_hours)
    n_times = ds.sizes["time"]
    layouts = {
        "map (1, 60, 60)": {"time": 1, "latitude": 60, "longitude": 60},
        f"series ({n_times}, 10, 10)": {"time": n_times, "latitude": 10, "longitude": 10},
    }
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        best = {}
        for k, (label, chunks) in enumerate(layouts.items()):
            store = write_zarr(ds, Path(tmp) / f"layout{k}.zarr", chunks=chunks)
            n_files = sum(1 for f in store.rglob("*") if f.is_file())
            extract_once(store, (town.lat, town.lon))  # warm-up (imports, file system)
            best[label] = min(extract_once(store, (town.lat, town.lon)) for _ in range(args.repeat))
            print(f"{label:>22}: {best[label] * 1e3:8.1f} ms  ({n_files} files in the store)")
    map_time, series_time = best.values()
    print(
        f"{args.place}, {len(VARIABLES)} variables x {n_times} times on "
        f"{ds.sizes['latitude']}x{ds.sizes['longitude']}: ratio map / series = "
        f"{map_time / series_time:.1f}"
    )


if __name__ == "__main__":
    main()
