"""DWD satellite cloud-top height (CTH) NetCDF files from DWD open data.

DWD publishes the product (derived from geostationary imagery, heights in metres
above sea level on a regular lat-lon grid) as bzip2-compressed NetCDF files in
``https://opendata.dwd.de/weather/satellite/clouds/CTH/``, named
``CTHin{YYYYMMDDhhmm}...nc.bz2`` (for example ``CTHin202611231200nEU.nc.bz2``),
with the variables ``CTH`` (m), ``opa`` (opacity) on ``lat``/``lon`` and ``time``.
The URL (``WXAI_DWD_CTH_URL``) and the file pattern are configurable.
"""

from __future__ import annotations

import os
from pathlib import Path

from wxai.core.errors import DataFormatError
from wxai.data.formats import MissingFileError
from wxai.data.sources.cache import DownloadCache, check_format
from wxai.data.sources.http import HttpOptions
from wxai.data.sources.listed import ListedFileSource, ListedProduct

__all__ = ["CTH_PATTERN", "DWD_CTH_URL", "DwdCthSource", "open_cth"]

DWD_CTH_URL = "https://opendata.dwd.de/weather/satellite/clouds/CTH/"
"""Default directory; override with ``base_url=`` or ``WXAI_DWD_CTH_URL``."""

CTH_PATTERN = r"^CTHin(?P<time>\d{12})\w*\.nc\.bz2$"
"""File names of the product; the ``time`` group is ``YYYYMMDDhhmm`` (UTC)."""

ENV_URL = "WXAI_DWD_CTH_URL"


class DwdCthSource(ListedFileSource):
    """Cloud-top height NetCDF files (decompressed, cached, verified).

    Parameters
    ----------
    base_url:
        Directory URL; default ``WXAI_DWD_CTH_URL`` or :data:`DWD_CTH_URL`.
    pattern:
        File-name regular expression with a ``time`` group (``YYYYMMDDhhmm``).
    cache, http:
        See :class:`~wxai.data.sources.listed.ListedFileSource`.

    Examples
    --------
    >>> paths = DwdCthSource().fetch()  # doctest: +SKIP
    >>> ds = open_cth(paths[0])  # doctest: +SKIP
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        pattern: str = CTH_PATTERN,
        cache: DownloadCache | None = None,
        http: HttpOptions | None = None,
    ) -> None:
        product = ListedProduct(
            name="dwd-cth",
            label="DWD CTH",
            base_url=base_url or os.environ.get(ENV_URL) or DWD_CTH_URL,
            pattern=pattern,
            time_format="%Y%m%d%H%M",
            stem="cth",
            extension=".nc",
            compression="bz2",
            kind="netcdf",
        )
        super().__init__(product, cache=cache, http=http)


def open_cth(path: Path | str, variable: str = "CTH") -> object:
    """Read a cloud-top height file into an :class:`xarray.Dataset`.

    ``lat``/``lon`` are renamed to ``latitude``/``longitude``; values are loaded
    into memory and the file is closed.

    Parameters
    ----------
    path:
        A (decompressed) CTH NetCDF file.
    variable:
        Name of the height variable that must be present (m above sea level).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    DataFormatError
        If the file is not NetCDF, is truncated, or lacks ``variable``.
    """
    import xarray as xr

    path = Path(path)
    if not path.is_file():
        raise MissingFileError(
            f"no cloud-top height file at {path}; fetch it with `wxai data fetch dwd-cth`"
        )
    check_format(path, "netcdf")
    try:
        ds = xr.load_dataset(path)
    except Exception as exc:
        raise DataFormatError(
            f"{path} could not be read as NetCDF ({type(exc).__name__}: {exc}); the file is "
            "corrupt or truncated: delete it and fetch it again"
        ) from None
    if variable not in ds.variables:
        raise DataFormatError(
            f"{path} has no variable {variable!r} (it has: {', '.join(map(str, ds.variables))})"
        )
    rename = {
        old: new
        for old, new in (("lat", "latitude"), ("lon", "longitude"))
        if old in ds.dims or old in ds.variables
    }
    return ds.rename(rename) if rename else ds
