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


@runtime_checkable
class PrognosticModel(Protocol):
    """Advances a model state in time (a Lorenz system, a toy PDE, an emulator).

    States are arrays whose last axis is the state vector (size :attr:`state_size`);
    leading axes (ensemble members) are advanced independently, so one call moves a
    whole ensemble. Data assimilation (``wxai.da``) and emulators meet through this role.
    """

    @property
    def state_size(self) -> int:
        """Length of the state vector."""
        ...

    def step(self, x: Any, t: float, dt: float) -> Any:
        """The state ``x`` of shape ``(..., state_size)`` at time ``t`` advanced by ``dt``."""
        ...


@runtime_checkable
class AssimilationMethod(Protocol):
    """One sequential data-assimilation method (3D-Var, Kalman filter, EnKF, particle filter).

    A method keeps its own representation of the state estimate (a mean, a mean and a
    covariance, an ensemble, weighted particles) in an opaque filter state and moves it
    through the cycle ``initialize -> (forecast -> analyse)*``; :meth:`mean` reads the
    estimate out. Implementations are small dataclasses holding the method's settings.
    """

    @property
    def name(self) -> str:
        """Short label, used to name metrics (``"enkf_sqrt"`` -> ``rmse_enkf_sqrt``)."""
        ...

    def initialize(self, mean: Any, cov: Any, rng: Any) -> Any:
        """The filter state drawn from (or set to) the prior ``N(mean, cov)``."""
        ...

    def forecast(self, state: Any, model: PrognosticModel, t: float, dt: float, rng: Any) -> Any:
        """The filter state advanced by one model step of length ``dt`` from time ``t``."""
        ...

    def analyse(self, state: Any, y: Any, obs: Any, rng: Any) -> Any:
        """The filter state updated with observations ``y`` seen through operator ``obs``."""
        ...

    def mean(self, state: Any) -> Any:
        """The state estimate (mean), shape ``(state_size,)``."""
        ...
