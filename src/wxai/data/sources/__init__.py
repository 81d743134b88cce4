"""Where weather data comes from: open-data clients with a verified download cache.

Every source follows the :class:`~wxai.core.typing.DataSource` role: ``name`` and
``fetch(offline=False, **request) -> list[Path]``. :func:`fetch` dispatches by name:

>>> from wxai.data.sources import fetch
>>> fetch("icon-eu", variable="t_2m", steps="0-6")  # doctest: +SKIP
>>> fetch("ifs", param="2t,msl", step=24, date="20261123", offline=True)  # doctest: +SKIP

Sources: ``ifs`` (ECMWF open data), ``icon-eu`` (DWD ICON-EU GRIB2), ``dwd-cth`` (DWD
satellite cloud-top height NetCDF), ``dwd-radar`` (DWD ODIM-HDF5 radar composite).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from wxai.core.errors import ConfigError, UnknownNameError
from wxai.core.typing import DataSource
from wxai.data.sources.cache import DownloadCache
from wxai.data.sources.dwd_cth import DwdCthSource, open_cth
from wxai.data.sources.dwd_radar import DwdRadarSource
from wxai.data.sources.errors import CacheMiss, IntegrityError, RemoteNotFound, SourceUnavailable
from wxai.data.sources.http import HttpOptions
from wxai.data.sources.icon_eu import IconEuSource
from wxai.data.sources.ifs import IfsSource

__all__ = [
    "CacheMiss",
    "DownloadCache",
    "DwdCthSource",
    "DwdRadarSource",
    "HttpOptions",
    "IconEuSource",
    "IfsSource",
    "IntegrityError",
    "RemoteNotFound",
    "SourceUnavailable",
    "fetch",
    "get_source",
    "list_sources",
    "open_cth",
    "register_source",
]

SourceFactory = Callable[..., DataSource]

_REGISTRY: dict[str, SourceFactory] = {
    "ifs": IfsSource,
    "icon-eu": IconEuSource,
    "dwd-cth": DwdCthSource,
    "dwd-radar": DwdRadarSource,
}


def register_source(name: str, factory: SourceFactory, *, replace: bool = False) -> None:
    """Register a source factory (a class or function returning a ``DataSource``).

    Raises
    ------
    ConfigError
        If ``name`` is taken and ``replace`` is false.
    """
    if name in _REGISTRY and _REGISTRY[name] is not factory and not replace:
        raise ConfigError(f"data source {name!r} is already registered (use replace=True)")
    _REGISTRY[name] = factory


def list_sources() -> list[str]:
    """Names of the registered sources, sorted."""
    return sorted(_REGISTRY)


def get_source(name: str, **options: Any) -> DataSource:
    """A new source ``name`` built with ``options`` (``base_url``, ``cache``, ``http``, ...).

    Raises
    ------
    UnknownNameError
        If ``name`` is not registered; the message lists the valid names.
    """
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise UnknownNameError("data source", name, _REGISTRY) from None
    return factory(**options)


def fetch(
    source_name: str,
    *,
    offline: bool = False,
    options: dict[str, Any] | None = None,
    **request: Any,
) -> list[Path]:
    """Fetch the files answering ``request`` from the source ``source_name``.

    Parameters
    ----------
    source_name:
        ``"ifs"``, ``"icon-eu"``, ``"dwd-cth"`` or ``"dwd-radar"`` (see :func:`list_sources`).
    offline:
        Answer from the cache only; a miss raises :class:`CacheMiss`.
    options:
        Constructor options of the source (``base_url``/``source``, ``cache``, ``http``,
        ``product`` for ``dwd-radar``).
    **request:
        The source's request keywords (see each source's ``fetch``).

    Returns
    -------
    list of pathlib.Path
        Verified local files in the cache.

    Raises
    ------
    UnknownNameError
        Unknown source name.
    ConfigError
        Invalid request keyword or value.
    CacheMiss, SourceUnavailable, RemoteNotFound
        The data could not be provided (messages name the source, URL and request).
    """
    source = get_source(source_name, **(options or {}))
    try:
        return source.fetch(offline=offline, **request)
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise ConfigError(f"data source {source_name!r}: {exc}") from None
        raise
