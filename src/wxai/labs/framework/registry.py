"""Registration of labs with the :func:`lab` decorator, and their discovery."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wxai.core.errors import ConfigError, UnknownNameError
from wxai.labs.framework.schema import LabConfig

if TYPE_CHECKING:
    from wxai.labs.framework.context import LabContext
    from wxai.labs.framework.result import LabOutcome

LabFunction = Callable[[LabConfig, "LabContext"], "LabOutcome"]

_REGISTRY: dict[str, LabSpec] = {}


@dataclass(frozen=True)
class LabSpec:
    """A registered lab.

    Attributes
    ----------
    name:
        Unique kebab-case name; also the config directory ``configs/labs/<name>/``
        and the MLflow experiment.
    title:
        One-line description shown in lists and reports.
    topic:
        Course unit, e.g. ``"U3 Neural-network foundations"``.
    day:
        Course day (1-5).
    config:
        The pydantic schema validating the composed config.
    func:
        The lab function ``(config, context) -> LabOutcome``.
    """

    name: str
    title: str
    topic: str
    day: int
    config: type[LabConfig]
    func: LabFunction


def lab(
    name: str, *, title: str, topic: str, day: int, config: type[LabConfig]
) -> Callable[[LabFunction], LabFunction]:
    """Register the decorated function as lab ``name``."""

    def register(func: LabFunction) -> LabFunction:
        if name in _REGISTRY and _REGISTRY[name].func is not func:
            raise ConfigError(
                f"lab {name!r} is registered twice ({_REGISTRY[name].func.__module__} and "
                f"{func.__module__}); give one of them another name"
            )
        _REGISTRY[name] = LabSpec(name, title, topic, day, config, func)
        return func

    return register


def discover() -> None:
    """Import every lab module of :mod:`wxai.labs` so that its labs register."""
    import wxai.labs

    for module in pkgutil.iter_modules(wxai.labs.__path__):
        if module.name != "framework" and not module.name.startswith("_"):
            importlib.import_module(f"wxai.labs.{module.name}")


def list_labs() -> list[LabSpec]:
    """All labs, ordered by course day and name."""
    discover()
    return sorted(_REGISTRY.values(), key=lambda spec: (spec.day, spec.name))


def get_lab(name: str) -> LabSpec:
    """The lab called ``name``; unknown names list the valid ones."""
    discover()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownNameError("lab", name, _REGISTRY) from None
