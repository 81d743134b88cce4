"""Weather data: sources, formats, observations and grids."""

# The ecCodes wheels bundle their own libsqlite3 (3.26) and libproj. Whichever copy
# of a shared library a process loads first wins, and the old ones break MLflow
# (needs SQLite >= 3.31) and pyproj/cartopy (crash in PROJ). So Python's sqlite3
# and pyproj's PROJ are loaded here, before any data module can pull in ecCodes.
import sqlite3  # noqa: F401

import pyproj  # noqa: F401
