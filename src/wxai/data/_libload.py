"""Load Python's SQLite and pyproj's PROJ so that ecCodes' bundled copies cannot shadow them.

The ecCodes wheels load ``eckitlib`` with ``RTLD_GLOBAL``, which puts its own
SQLite (3.26) and PROJ into the process's global symbol scope. Whatever is
loaded later binds to those copies: MLflow then finds SQLite too old (it needs
3.31) and pyproj mixes two PROJ versions, which corrupts the heap and crashes
the interpreter at exit. When ecCodes is already loaded (the user imported
``eccodes`` or ``cfgrib`` before wxai), the extension modules of ``sqlite3``
and ``pyproj`` are loaded with ``RTLD_DEEPBIND`` so they bind to their own
libraries first; otherwise a plain import is enough, because the first copy
loaded wins.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path

__all__ = ["load_system_libraries"]


def _pyproj_extensions() -> list[str]:
    spec = importlib.util.find_spec("pyproj")
    if spec is None or spec.origin is None:
        return []
    return sorted(f"pyproj.{p.name.split('.')[0]}" for p in Path(spec.origin).parent.glob("*.so"))


def load_system_libraries() -> None:
    """Import ``sqlite3`` and ``pyproj`` (with its extension modules) safely, once."""
    eccodes_first = "gribapi" in sys.modules and hasattr(os, "RTLD_DEEPBIND")
    flags = sys.getdlopenflags()
    if eccodes_first:
        sys.setdlopenflags(flags | os.RTLD_DEEPBIND)
    try:
        importlib.import_module("sqlite3")
        importlib.import_module("pyproj")
        if eccodes_first:
            for name in _pyproj_extensions():
                importlib.import_module(name)
    finally:
        sys.setdlopenflags(flags)
