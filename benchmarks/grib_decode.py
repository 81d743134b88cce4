"""Decode time of every message of a GRIB file: wxai ``read_grib`` vs eccodes directly.

Usage: ``python benchmarks/grib_decode.py FILE [--repeat N]``. Both are measured in
the same run (best of N); the ratio wxai / eccodes is printed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def decode_eccodes(path: Path) -> int:
    """Decode all values with the eccodes loop; return the number of values."""
    import eccodes

    total = 0
    with path.open("rb") as f:
        while (h := eccodes.codes_grib_new_from_file(f)) is not None:
            total += eccodes.codes_get_values(h).size
            eccodes.codes_release(h)
    return total


def decode_wxai(path: Path) -> int:
    """Decode all values through :func:`wxai.data.formats.grib.read_grib`."""
    from wxai.data.formats.grib import read_grib

    ds = read_grib(path)
    return sum(int(da.size) for da in ds.data_vars.values())


def best_of(fn, path: Path, repeat: int) -> tuple[float, int]:
    times, n = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        n = fn(path)
        times.append(time.perf_counter() - t0)
    return min(times), n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    t_ec, n_ec = best_of(decode_eccodes, args.file, args.repeat)
    t_wx, n_wx = best_of(decode_wxai, args.file, args.repeat)
    print(f"file: {args.file} ({n_ec} values via eccodes, {n_wx} via wxai)")
    print(f"eccodes loop (reference): {t_ec * 1e3:9.1f} ms")
    print(f"wxai read_grib:           {t_wx * 1e3:9.1f} ms")
    print(f"ratio wxai / eccodes:     {t_wx / t_ec:9.2f}")


if __name__ == "__main__":
    main()
