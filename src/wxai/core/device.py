"""Choice of the compute device (CUDA, Apple MPS or CPU)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from wxai.core.errors import ConfigError
from wxai.core.settings import get_settings

if TYPE_CHECKING:
    import torch


def available_devices() -> list[str]:
    """Names of the torch devices usable here, best first; always ends with ``cpu``."""
    import torch

    names = [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        names.append("mps")
    names.append("cpu")
    return names


def select_device(preference: str | None = None) -> torch.device:
    """Return the torch device to train on.

    Parameters
    ----------
    preference:
        ``"auto"`` (best available), ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``;
        ``None`` uses ``WXAI_DEVICE``.
    """
    import torch

    choice = (preference or get_settings().device).lower()
    available = available_devices()
    if choice == "auto":
        return torch.device(available[0])
    if choice == "cuda" and any(name.startswith("cuda") for name in available):
        return torch.device("cuda")
    if choice in available:
        return torch.device(choice)
    raise ConfigError(f"device {choice!r} is not available here; available: {', '.join(available)}")


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` intra-op torch threads, then restore the previous number.

    Networks of a few hundred parameters train fastest on one thread: more threads
    only add synchronisation, which becomes very costly on a busy 2-core machine.
    ``None`` leaves the setting alone.
    """
    import torch

    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
