"""ecCodes honours ECCODES_DEFINITION_PATH with local (DWD) definitions first.

Each case runs in a fresh process, since ecCodes reads the path once, when it
starts. See docs/grib.md, "DWD local definitions".
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from wxai.data.formats.grib import write_grib

_DECODE = """
import json, sys
import eccodes
out = {"path": eccodes.codes_definition_path()}
for name in sys.argv[1:]:
    with open(name, "rb") as f:
        h = eccodes.codes_grib_new_from_file(f)
        out[name] = [eccodes.codes_get(h, "centre"), eccodes.codes_get(h, "shortName")]
        eccodes.codes_release(h)
print(json.dumps(out))
"""

#: A local shortName table that names 2 m temperature differently (GRIB2 0/0/0 at 2 m).
_SHORT_NAME_DEF = """'T2M_LOCAL' = {
  discipline = 0 ; parameterCategory = 0 ; parameterNumber = 0 ;
  typeOfFirstFixedSurface = 103 ; scaledValueOfFirstFixedSurface = 2 ;
  scaleFactorOfFirstFixedSurface = 0 ;
}
"""


def _t2m_files(tmp_path):
    ds = xr.Dataset(
        {"t2m": (("latitude", "longitude"), np.full((3, 4), 280.0, dtype="f4"))},
        coords={"latitude": [50.0, 49.0, 48.0], "longitude": [6.0, 7.0, 8.0, 9.0]},
    )
    dwd = write_grib(ds, tmp_path / "dwd.grib2", centre="edzw")
    ecmwf = write_grib(ds, tmp_path / "ecmwf.grib2", centre="ecmf")
    return str(dwd), str(ecmwf)


def _run(script: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **env}
    full_env.pop("ECCODES_EXTRA_DEFINITION_PATH", None)
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _decode(files: tuple[str, ...], definition_path: str) -> dict:
    out = _run(_DECODE, *files, ECCODES_DEFINITION_PATH=definition_path)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_local_definitions_listed_first_are_used(tmp_path):
    dwd_file, ecmwf_file = _t2m_files(tmp_path)
    local = tmp_path / "definitions"
    (local / "grib2" / "localConcepts" / "edzw").mkdir(parents=True)
    (local / "grib2" / "shortName.def").write_text(_SHORT_NAME_DEF)

    builtin = _decode((dwd_file, ecmwf_file), "/MEMFS/definitions")
    assert builtin[dwd_file] == ["edzw", "2t"] and builtin[ecmwf_file] == ["ecmf", "2t"]

    first = _decode((dwd_file, ecmwf_file), f"{local}:/MEMFS/definitions")
    assert first["path"] == f"{local}:/MEMFS/definitions"
    assert first[dwd_file] == ["edzw", "T2M_LOCAL"]  # the local table wins for DWD's centre
    assert first[ecmwf_file] == ["ecmf", "2t"]  # ECMWF's own local concepts still come first

    # After the built-in definitions, local ones are shadowed: the order matters.
    last = _decode((dwd_file,), f"/MEMFS/definitions:{local}")
    assert last[dwd_file] == ["edzw", "2t"]


_READ = """
import sys
import eccodes
from wxai.data.formats.grib import read_grib
with open(sys.argv[1], "rb") as f:
    h = eccodes.codes_grib_new_from_file(f)
print(eccodes.codes_get(h, "shortName"), eccodes.codes_get(h, "paramId"))
print(sorted(read_grib(sys.argv[1]).data_vars))
"""


@pytest.mark.skipif(
    importlib.util.find_spec("eccodes_cosmo_resources") is None,
    reason="eccodes-cosmo-resources-python (DWD/COSMO definitions) is not installed",
)
def test_dwd_definitions_from_eccodes_cosmo_resources(tmp_path):
    import eccodes_cosmo_resources

    dwd_file, _ = _t2m_files(tmp_path)
    definitions = eccodes_cosmo_resources.get_definitions_path()
    out = _run(
        _READ,
        dwd_file,
        ECCODES_DEFINITION_PATH=f"{definitions}:/MEMFS/definitions",
        ECCODES_VERSION_CHECK_OFF="1",  # its tables may be made for another ecCodes version
    )
    assert out.returncode == 0, out.stderr
    names, variables = out.stdout.splitlines()[-2:]
    assert names == "T_2M 500011"  # DWD's shortName and paramId
    assert variables == "['t2m']"  # wxai still names it canonically
