"""Reference GRIB files from the cfgrib source distribution (fetched once, cached)."""

from __future__ import annotations

import os
import sqlite3  # noqa: F401  -- before eccodes: its bundled SQLite 3.26 would shadow Python's
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

CFGRIB_VERSION = "0.9.15.1"
CACHE = Path.home() / ".cache" / "wxai-test-data"


def _sdist() -> Path | None:
    found = sorted(CACHE.glob(f"cfgrib-{CFGRIB_VERSION}.tar.gz"))
    if found:
        return found[0]
    CACHE.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
    cmd += [f"cfgrib=={CFGRIB_VERSION}", "-d", str(CACHE), "--quiet"]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    except (subprocess.SubprocessError, OSError):
        return None
    found = sorted(CACHE.glob(f"cfgrib-{CFGRIB_VERSION}.tar.gz"))
    return found[0] if found else None


@pytest.fixture(scope="session")
def cfgrib_samples() -> Path:
    """Directory with cfgrib's ``tests/sample-data`` files (skip locally, fail in CI)."""
    target = CACHE / f"cfgrib-{CFGRIB_VERSION}-sample-data"
    if not (target / "era5-levels-members.grib").exists():
        sdist = _sdist()
        if sdist is None:
            reason = f"cannot download the cfgrib {CFGRIB_VERSION} sdist from PyPI"
            if os.environ.get("CI"):
                pytest.fail(reason)
            pytest.skip(reason)
        prefix = f"cfgrib-{CFGRIB_VERSION}/tests/sample-data/"
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(sdist) as tar:
            for member in tar.getmembers():
                if member.isfile() and member.name.startswith(prefix):
                    member.name = member.name[len(prefix) :]
                    tar.extract(member, target, filter="data")
    return target
