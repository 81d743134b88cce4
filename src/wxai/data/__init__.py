"""Weather data: sources, formats, observations and grids."""

# The ecCodes wheel bundles an old libsqlite3 (3.26). Whichever library is loaded
# first wins for the whole process, and MLflow needs SQLite >= 3.31, so Python's
# own sqlite3 is loaded before any data module can pull in ecCodes.
import sqlite3  # noqa: F401
