"""Reference GRIB files from public source distributions (fetched once, cached)."""

from __future__ import annotations

import os
import sqlite3  # noqa: F401  -- before eccodes: its bundled SQLite 3.26 would shadow Python's
from pathlib import Path

import pytest

from wxai.data.sources.errors import SourceUnavailable
from wxai.data.sources.reference_files import reference_grib_files


@pytest.fixture(scope="session")
def cfgrib_samples() -> Path:
    """Directory with cfgrib's ``tests/sample-data`` GRIB files (skip locally, fail in CI)."""
    try:
        files = reference_grib_files("cfgrib")
    except SourceUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    return files["era5-levels-members.grib"].parent
