"""The kinds of work a task can do, registered by name.

A task type validates its parameters with a pydantic model, checks them cheaply
before the work starts (``created -> checked``) and then executes, reporting progress.
A new type (a training, an emulator rollout, ...) plugs in with
:func:`register_task_type`; nothing else in the cockpit changes.
"""

from __future__ import annotations

import importlib
import os
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field

from wxai.cockpit.dataspace_tasks import DataspaceIndexTask
from wxai.cockpit.emulator_tasks import EmulatorForecastTask, EmulatorTrainTask
from wxai.core.errors import ConfigError, UnknownNameError
from wxai.core.progress import ProgressReporter


class TaskType(Protocol):
    """A kind of task.

    Attributes
    ----------
    name:
        The ``type`` clients put into ``POST /api/tasks``.
    params:
        Pydantic model of the ``params`` object; unknown keys should be rejected.

    A type with a true class attribute ``internal`` is created by the server only
    (:func:`is_internal`); ``POST /api/tasks`` refuses it.
    """

    name: str
    params: type[BaseModel]

    def check(self, params: BaseModel) -> str:
        """Validate ``params`` beyond their schema; return a short message.

        Raises a :class:`~wxai.core.errors.WxaiError` saying what is wrong.
        """
        ...

    def execute(self, params: BaseModel, progress: ProgressReporter) -> dict[str, Any]:
        """Do the work, reporting the fraction done; return a JSON-ready result."""
        ...


_TASK_TYPES: dict[str, TaskType] = {}


def register_task_type(task_type: TaskType) -> TaskType:
    """Make ``task_type`` available under ``task_type.name`` (replacing one of that name)."""
    _TASK_TYPES[task_type.name] = task_type
    return task_type


def unregister_task_type(name: str) -> None:
    """Remove the task type called ``name`` if it is registered."""
    _TASK_TYPES.pop(name, None)


def is_internal(task_type: TaskType) -> bool:
    """Whether only the server creates tasks of this type (e.g. indexing an upload)."""
    return bool(getattr(task_type, "internal", False))


def task_type_names() -> list[str]:
    """Names of the registered task types, sorted."""
    return sorted(_TASK_TYPES)


def client_task_type(name: str) -> TaskType:
    """The task type ``name`` if clients may create it (``POST /api/tasks``).

    Raises
    ------
    UnknownNameError
        No such type, or an internal one; the message lists the types clients may use.
    """
    public = {n: t for n, t in _TASK_TYPES.items() if not is_internal(t)}
    try:
        return public[name]
    except KeyError:
        raise UnknownNameError("task type", name, public) from None


def get_task_type(name: str) -> TaskType:
    """The task type called ``name``.

    Raises
    ------
    UnknownNameError
        Listing the valid task types and suggesting the nearest.
    """
    try:
        return _TASK_TYPES[name]
    except KeyError:
        raise UnknownNameError("task type", name, _TASK_TYPES) from None


#: Environment variable naming extra modules (comma-separated) that register task types.
TASK_MODULES_ENV = "WXAI_TASK_MODULES"


def load_task_modules(names: str | None = None) -> list[str]:
    """Import the modules that register further task types; return their names.

    Parameters
    ----------
    names:
        Comma-separated module names; default: the ``WXAI_TASK_MODULES`` variable.

    Raises
    ------
    ConfigError
        If a module cannot be imported.
    """
    text = os.environ.get(TASK_MODULES_ENV, "") if names is None else names
    modules = [name.strip() for name in text.split(",") if name.strip()]
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ConfigError(
                f"cannot import task module {name!r} from {TASK_MODULES_ENV}: {exc}; "
                "install it or put its directory on PYTHONPATH"
            ) from exc
    return modules


def resolve_task_type(
    name: str, module: str | None = None, qualname: str | None = None
) -> TaskType:
    """The task type ``name``, importing ``module`` and instantiating ``qualname`` if needed.

    A task's child process uses this to find a type the parent registered at run time
    (e.g. in a test) rather than at import of a module.
    """
    if name not in _TASK_TYPES and module:
        imported = importlib.import_module(module)
        if name not in _TASK_TYPES and qualname:
            target: Any = imported
            for part in qualname.split("."):
                target = getattr(target, part)
            register_task_type(target())
    return get_task_type(name)


class LabTaskParams(BaseModel):
    """Parameters of a ``lab`` task."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="Lab name, as listed by GET /api/labs")
    overrides: list[str] = Field(
        default_factory=list,
        description="Hydra overrides, e.g. ['preset=smoke', 'epochs=10']",
        examples=[["preset=smoke"]],
    )


class LabTask:
    """Runs a registered lab (:func:`wxai.labs.framework.runner.run_lab`)."""

    name: ClassVar[str] = "lab"
    params: ClassVar[type[BaseModel]] = LabTaskParams

    def check(self, params: BaseModel) -> str:
        """The lab exists and its configuration composes with the overrides."""
        from wxai.labs.framework.config import compose_config
        from wxai.labs.framework.registry import get_lab

        assert isinstance(params, LabTaskParams)
        spec = get_lab(params.name)
        config, _ = compose_config(spec, params.overrides)
        return f"configuration checked: {spec.name}, preset {config.preset}"

    def execute(self, params: BaseModel, progress: ProgressReporter) -> dict[str, Any]:
        """Run the lab; the result is :meth:`LabResult.to_dict`."""
        import matplotlib

        from wxai.labs.framework.runner import run_lab

        assert isinstance(params, LabTaskParams)
        matplotlib.use("Agg")  # the task process draws figures off screen
        return run_lab(params.name, params.overrides, progress=progress).to_dict()


register_task_type(LabTask())
register_task_type(EmulatorTrainTask())
register_task_type(EmulatorForecastTask())
register_task_type(DataspaceIndexTask())
