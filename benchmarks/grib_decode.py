"""Reading whole GRIB files: wxai ``read_grib`` and cfgrib against the plain ecCodes loop.

Usage::

    python benchmarks/grib_decode.py                 # real multi-type reference files
    python benchmarks/grib_decode.py FILE [FILE ...] [--repeat N] [--no-cfgrib]

For every file, in one run and best of N: the ecCodes loop that decodes every
message's values (the floor: no coordinates, no grouping), ``read_grib`` with
everything loaded into memory (values and coordinates of every group), and
``cfgrib.open_datasets`` loaded the same way. Prints the times and the ratios
to the ecCodes loop; the goal for wxai is at most 2x.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from pathlib import Path

#: Real files with several level types, grids or members (from reference sdists).
DEFAULT_FILES = {
    "metview": ["ens_storm.grib", "forecast_ml.grib", "ztu_multi_dim.grib", "fc_storm.grib"],
    "eccodes": ["tiggelam_cnmc_sfc.grib2"],
    "cfgrib": [
        "era5-levels-members.grib",
        "t_on_different_level_types.grib",
        "soil-surface-level-mix.grib",
        "tp_on_different_grid_resolutions.grib",
    ],
}


def decode_eccodes(path: Path) -> int:
    """Decode all values with the plain ecCodes loop; return the number of values."""
    import eccodes

    total = 0
    with path.open("rb") as f:
        while (h := eccodes.codes_grib_new_from_file(f)) is not None:
            total += eccodes.codes_get_values(h).size
            eccodes.codes_release(h)
    return total


def read_wxai(path: Path) -> int:
    """Read the whole file with :func:`read_grib` and load every group into memory."""
    from wxai.data.formats.grib import read_grib

    tree = read_grib(path, lazy=False).load()
    return sum(
        int(node[name].size)
        for node in tree.subtree
        for name in node.to_dataset(inherit=False).data_vars
    )


def read_cfgrib(path: Path) -> int:
    """Read the whole file with ``cfgrib.open_datasets`` and load every dataset."""
    import cfgrib

    datasets = cfgrib.open_datasets(path, backend_kwargs={"indexpath": ""})
    return sum(int(da.size) for ds in datasets for da in ds.load().data_vars.values())


def best_of(fn: Callable[[Path], int], path: Path, repeat: int) -> tuple[float, int]:
    """Best wall time [s] of ``repeat`` calls, and the call's result."""
    times, n = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        n = fn(path)
        times.append(time.perf_counter() - t0)
    return min(times), n


def _default_files() -> list[Path]:
    from wxai.data.sources.reference_files import reference_grib_files

    return [
        reference_grib_files(pkg)[name] for pkg, names in DEFAULT_FILES.items() for name in names
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", type=Path, nargs="*", help="GRIB files (default: reference set)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-cfgrib", action="store_true", help="skip cfgrib (slow on big files)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # duplicate/hole notes are part of reading, not news here
    files = args.files or _default_files()
    print(
        f"{'file':38s} {'msgs':>5s} {'ecCodes ms':>11s} {'wxai ms':>9s} {'wxai/ec':>8s}"
        f" {'cfgrib ms':>10s} {'cfgrib/ec':>10s}"
    )
    for path in files:
        decode_eccodes(path)  # warm the definitions and the page cache
        from wxai.data.formats.grib import list_messages

        n_msgs = len(list_messages(path))
        t_ec, _ = best_of(decode_eccodes, path, args.repeat)
        t_wx, _ = best_of(read_wxai, path, args.repeat)
        line = (
            f"{path.name:38s} {n_msgs:5d} {t_ec * 1e3:11.1f} {t_wx * 1e3:9.1f} {t_wx / t_ec:8.2f}"
        )
        if not args.no_cfgrib:
            try:
                t_cf, _ = best_of(read_cfgrib, path, 1)
                line += f" {t_cf * 1e3:10.1f} {t_cf / t_ec:10.1f}"
            except Exception as exc:
                line += f" {'fails: ' + type(exc).__name__:>21s}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
