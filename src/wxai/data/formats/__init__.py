"""File formats: GRIB (:mod:`.grib`), NetCDF (:mod:`.netcdf`), Zarr (:mod:`.zarr_store`),
ODIM_H5 radar (:mod:`.odim`); :func:`sniff_format` tells them apart by content."""

from wxai.data.formats._common import DataFormatError, MissingFileError, atomic_path, sniff_format

__all__ = ["DataFormatError", "MissingFileError", "atomic_path", "sniff_format"]
