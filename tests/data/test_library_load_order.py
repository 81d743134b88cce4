"""ecCodes ships its own SQLite and PROJ; wxai.data must load the system ones first."""

import subprocess
import sys

SCRIPT = """
import wxai.data.formats.grib  # any data module, as a user would import it
import eccodes, pyproj, sqlite3
assert tuple(map(int, sqlite3.sqlite_version.split("."))) >= (3, 31), sqlite3.sqlite_version
print(pyproj.CRS("EPSG:4326").name)
"""


def test_ecodes_does_not_shadow_sqlite_or_proj():
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "WGS 84"
