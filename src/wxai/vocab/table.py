"""The variable table: the one home of wxai's canonical variable names.

Each row gives a canonical name, its units and description, the CF standard
name, the vertical level it lives on and its name in each source:

* ``ifs`` -- ECMWF GRIB ``shortName`` and ``paramId`` (also used when wxai
  writes GRIB2, since eccodes derives the GRIB2 discipline/category/number
  from the ``paramId``);
* ``icon`` -- DWD ICON open-data names (upper case, as in the file names);
* ``odim`` -- ODIM_H5 radar quantities.

``factor`` converts a source's native units to the canonical units:
``canonical = native * factor``.
"""

from __future__ import annotations

# Columns of a source entry: (native name, paramId or None, native units, factor)
SourceEntry = tuple[str, int | None, str, float]

#: One dict per canonical variable. ``level_type`` uses the eccodes
#: ``typeOfLevel`` vocabulary; ``level`` is in that level type's units
#: (m for heightAboveGround, hPa for isobaricInhPa) or None for "any level".
VARIABLES: list[dict] = [
    # --- near-surface fields ------------------------------------------------
    {
        "name": "t2m",
        "units": "K",
        "long_name": "2 m temperature",
        "standard_name": "air_temperature",
        "level_type": "heightAboveGround",
        "level": 2,
        "ifs": ("2t", 167, "K", 1.0),
        "icon": ("T_2M", None, "K", 1.0),
    },
    {
        "name": "td2m",
        "units": "K",
        "long_name": "2 m dew point temperature",
        "standard_name": "dew_point_temperature",
        "level_type": "heightAboveGround",
        "level": 2,
        "ifs": ("2d", 168, "K", 1.0),
        "icon": ("TD_2M", None, "K", 1.0),
    },
    {
        "name": "rh2m",
        "units": "%",
        "long_name": "2 m relative humidity",
        "standard_name": "relative_humidity",
        "level_type": "heightAboveGround",
        "level": 2,
        "ifs": ("2r", 260242, "%", 1.0),
        "icon": ("RELHUM_2M", None, "%", 1.0),
    },
    {
        "name": "u10",
        "units": "m s-1",
        "long_name": "10 m eastward wind",
        "standard_name": "eastward_wind",
        "level_type": "heightAboveGround",
        "level": 10,
        "ifs": ("10u", 165, "m s-1", 1.0),
        "icon": ("U_10M", None, "m s-1", 1.0),
    },
    {
        "name": "v10",
        "units": "m s-1",
        "long_name": "10 m northward wind",
        "standard_name": "northward_wind",
        "level_type": "heightAboveGround",
        "level": 10,
        "ifs": ("10v", 166, "m s-1", 1.0),
        "icon": ("V_10M", None, "m s-1", 1.0),
    },
    {
        "name": "gust",
        "units": "m s-1",
        "long_name": "10 m wind gust (maximum since previous post-processing)",
        "standard_name": "wind_speed_of_gust",
        "level_type": "heightAboveGround",
        "level": 10,
        "ifs": ("10fg", 49, "m s-1", 1.0),
        "icon": ("VMAX_10M", None, "m s-1", 1.0),
    },
    {
        "name": "msl",
        "units": "Pa",
        "long_name": "mean sea level pressure",
        "standard_name": "air_pressure_at_mean_sea_level",
        "level_type": "meanSea",
        "level": 0,
        "ifs": ("msl", 151, "Pa", 1.0),
        "icon": ("PMSL", None, "Pa", 1.0),
    },
    {
        "name": "sp",
        "units": "Pa",
        "long_name": "surface pressure",
        "standard_name": "surface_air_pressure",
        "level_type": "surface",
        "level": 0,
        "ifs": ("sp", 134, "Pa", 1.0),
        "icon": ("PS", None, "Pa", 1.0),
    },
    {
        "name": "tp",
        "units": "kg m-2",
        "long_name": "total precipitation (accumulated since forecast start)",
        "standard_name": "precipitation_amount",
        "level_type": "surface",
        "level": 0,
        "ifs": ("tp", 228, "m", 1000.0),
        "icon": ("TOT_PREC", None, "kg m-2", 1.0),
        "odim": ("ACRR", None, "mm", 1.0),
    },
    {
        "name": "frland",
        "units": "1",
        "long_name": "land fraction of the grid cell",
        "standard_name": "land_area_fraction",
        "level_type": "surface",
        "level": 0,
        "ifs": ("lsm", 172, "1", 1.0),
        "icon": ("FR_LAND", None, "1", 1.0),
    },
    {
        "name": "tcc",
        "units": "%",
        "long_name": "total cloud cover",
        "standard_name": "cloud_area_fraction",
        "level_type": "entireAtmosphere",
        "level": 0,
        "ifs": ("tcc", 164, "1", 100.0),
        "icon": ("CLCT", None, "%", 1.0),
    },
    {
        "name": "cth",
        "units": "m",
        "long_name": "cloud top height above mean sea level",
        "standard_name": "cloud_top_altitude",
        "level_type": "surface",
        "level": 0,
        "icon": ("HTOP_DC", None, "m", 1.0),
    },
    {
        "name": "dbz",
        "units": "dBZ",
        "long_name": "horizontal radar reflectivity factor (clutter-filtered)",
        "standard_name": "equivalent_reflectivity_factor",
        "level_type": "surface",
        "level": 0,
        "odim": ("DBZH", None, "dBZ", 1.0),
    },
    {
        "name": "dbz_total",
        "units": "dBZ",
        "long_name": "total horizontal radar reflectivity factor (unfiltered)",
        "standard_name": None,
        "level_type": "surface",
        "level": 0,
        "odim": ("TH", None, "dBZ", 1.0),
    },
    {
        "name": "rr",
        "units": "kg m-2 s-1",
        "long_name": "rain rate",
        "standard_name": "rainfall_flux",
        "level_type": "surface",
        "level": 0,
        "odim": ("RATE", None, "mm h-1", 1.0 / 3600.0),
    },
    # --- fields on pressure levels (any level) --------------------------------
    {
        "name": "z",
        "units": "m2 s-2",
        "long_name": "geopotential",
        "standard_name": "geopotential",
        "level_type": "isobaricInhPa",
        "level": None,
        "ifs": ("z", 129, "m2 s-2", 1.0),
        "icon": ("FI", None, "m2 s-2", 1.0),
    },
    {
        "name": "t",
        "units": "K",
        "long_name": "temperature",
        "standard_name": "air_temperature",
        "level_type": "isobaricInhPa",
        "level": None,
        "ifs": ("t", 130, "K", 1.0),
        "icon": ("T", None, "K", 1.0),
    },
    {
        "name": "u",
        "units": "m s-1",
        "long_name": "eastward wind",
        "standard_name": "eastward_wind",
        "level_type": "isobaricInhPa",
        "level": None,
        "ifs": ("u", 131, "m s-1", 1.0),
        "icon": ("U", None, "m s-1", 1.0),
    },
    {
        "name": "v",
        "units": "m s-1",
        "long_name": "northward wind",
        "standard_name": "northward_wind",
        "level_type": "isobaricInhPa",
        "level": None,
        "ifs": ("v", 132, "m s-1", 1.0),
        "icon": ("V", None, "m s-1", 1.0),
    },
    {
        "name": "q",
        "units": "kg kg-1",
        "long_name": "specific humidity",
        "standard_name": "specific_humidity",
        "level_type": "isobaricInhPa",
        "level": None,
        "ifs": ("q", 133, "kg kg-1", 1.0),
        "icon": ("QV", None, "kg kg-1", 1.0),
    },
    {
        "name": "r",
        "units": "%",
        "long_name": "relative humidity",
        "standard_name": "relative_humidity",
        "level_type": "isobaricInhPa",
        "level": None,
        "ifs": ("r", 157, "%", 1.0),
        "icon": ("RELHUM", None, "%", 1.0),
    },
]

#: Single-level shortcuts of the pressure-level fields: ``z500`` is ``z`` at 500 hPa.
LEVEL_SHORTCUTS: dict[str, tuple[int, ...]] = {
    "z": (300, 500, 700, 850, 1000),
    "t": (500, 700, 850),
    "u": (250, 500, 850),
    "v": (250, 500, 850),
    "q": (700, 850),
    "r": (700, 850),
}

#: The sources a variable may have a native name in.
SOURCES: tuple[str, ...] = ("ifs", "icon", "odim", "cf")
