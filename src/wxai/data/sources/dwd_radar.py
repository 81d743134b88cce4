"""DWD radar composites in ODIM HDF5 from DWD open data.

The default product is the ``hx`` composite (maximum reflectivity, DBZH, every 5
minutes) in ``https://opendata.dwd.de/weather/radar/composite/hx/``, named
``composite_hx_{YYYYMMDD}_{hhmm}-hd5`` (plus a moving ``composite_hx_LATEST-hd5``,
which is not used because its content changes under a fixed name). Other composites
published with the same naming (``dmax``, ...) are selected with ``product=``.
The root URL (``WXAI_DWD_RADAR_URL``) is configurable.

Files are cached unchanged (ODIM HDF5); reading them is :mod:`wxai.data.formats.odim`.
"""

from __future__ import annotations

import os
import re

from wxai.core.errors import ConfigError
from wxai.data.sources.cache import DownloadCache
from wxai.data.sources.http import HttpOptions
from wxai.data.sources.listed import ListedFileSource, ListedProduct

__all__ = ["DWD_RADAR_URL", "DwdRadarSource"]

DWD_RADAR_URL = "https://opendata.dwd.de/weather/radar/composite/"
"""Root of the composites; the product directory is appended (``hx/``)."""

ENV_URL = "WXAI_DWD_RADAR_URL"


class DwdRadarSource(ListedFileSource):
    """A DWD ODIM-HDF5 radar composite (downloaded, cached, verified as HDF5).

    Parameters
    ----------
    product:
        Composite name (``"hx"`` default, ``"dmax"``, ...).
    base_url:
        Root URL of the composites; default ``WXAI_DWD_RADAR_URL`` or :data:`DWD_RADAR_URL`.
        The product directory ``{product}/`` is appended.
    cache, http:
        See :class:`~wxai.data.sources.listed.ListedFileSource`.
    """

    def __init__(
        self,
        product: str = "hx",
        base_url: str | None = None,
        *,
        cache: DownloadCache | None = None,
        http: HttpOptions | None = None,
    ) -> None:
        if not re.fullmatch(r"[a-z0-9]+", product):
            raise ConfigError(f"DWD radar product {product!r} must be lower-case letters/digits")
        root = (base_url or os.environ.get(ENV_URL) or DWD_RADAR_URL).rstrip("/")
        spec = ListedProduct(
            name="dwd-radar",
            label=f"DWD radar {product}",
            base_url=f"{root}/{product}/",
            pattern=rf"^composite_{product}_(?P<time>\d{{8}}_\d{{4}})-hd5$",
            time_format="%Y%m%d_%H%M",
            stem=f"composite_{product}",
            extension=".h5",
            compression=None,
            kind="hdf5",
        )
        super().__init__(spec, cache=cache, http=http)
        self.radar_product = product
