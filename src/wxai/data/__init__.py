"""Weather data: sources, formats, observations and grids."""

# ecCodes' wheels bundle their own SQLite and PROJ; load Python's and pyproj's
# first (or bind them to their own libraries when ecCodes came first), whatever
# the import order. See wxai.data._libload.
from wxai.data._libload import load_system_libraries

load_system_libraries()
