"""Role Protocols shared across layers.

Implementations plug in without subclassing; later layers add their roles
(``DataSource``, ``PrognosticModel``, ``AssimilationMethod``, ...) here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Tracker(Protocol):
    """Records one run: parameters, step metrics, figures, files, models and tags.

    A tracker is bound to one run; :meth:`finish` closes it with a status.
    """

    @property
    def run_id(self) -> str: ...

    @property
    def experiment_id(self) -> str: ...

    def log_params(self, params: Mapping[str, Any]) -> None: ...

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None: ...

    def set_tags(self, tags: Mapping[str, str]) -> None: ...

    def log_figure(self, figure: Any, name: str) -> Path: ...

    def log_artifact(self, path: Path, subdir: str | None = None) -> None: ...

    def log_dict(self, data: Mapping[str, Any], name: str) -> None: ...

    def finish(self, status: str = "FINISHED") -> None: ...


@runtime_checkable
class DataSource(Protocol):
    """Delivers local files for a request to a data provider (open-data server, archive).

    A data source turns a request (run, step, variable, time, ...) into files on local
    disk, downloading them into its cache when needed. With ``offline=True`` it must
    not touch the network and answers from its cache only, raising a
    :class:`~wxai.core.errors.WxaiError` that names what is missing otherwise.
    Readers (``wxai.data.formats``) turn the returned files into xarray objects.
    """

    @property
    def name(self) -> str:
        """Short registry name of the source (``"icon-eu"``, ``"ifs"``)."""
        ...

    def fetch(self, *, offline: bool = False, **request: Any) -> list[Path]:
        """Return the local files answering ``request``, downloading what is missing."""
        ...
