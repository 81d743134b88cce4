"""ecCodes ships its own SQLite and PROJ; wxai must work whichever is imported first."""

import subprocess
import sys

import pytest

CHECKS = """
import sqlite3, pyproj
import cartopy.crs as ccrs
assert tuple(map(int, sqlite3.sqlite_version.split("."))) >= (3, 31), sqlite3.sqlite_version
print(pyproj.CRS("EPSG:4326").name)
x, y = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3857").transform(50.0, 8.0)
assert abs(x - 890555.93) < 1 and abs(y - 6446275.84) < 1, (x, y)
print("lcc" if "+proj=lcc" in ccrs.LambertConformal().proj4_init else "no-lcc")
"""

ORDERS = {
    "wxai first": "import wxai.data.formats.grib\nimport eccodes\n",
    # Seen before the fix: SQLite 3.26 from ecCodes, PROJ errors, heap corruption at exit.
    "eccodes first": "import eccodes\nimport wxai.data.formats.grib\n",
    "cfgrib first": "import cfgrib\nimport wxai.data\n",
}


@pytest.mark.parametrize("order", list(ORDERS))
def test_import_order_does_not_break_sqlite_proj_or_exit(order):
    out = subprocess.run(
        [sys.executable, "-c", ORDERS[order] + CHECKS],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["WGS", "84", "lcc"]
    assert "free()" not in out.stderr and "corruption" not in out.stderr, out.stderr
