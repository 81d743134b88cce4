"""Environment checks reported by ``wxai doctor``."""

from __future__ import annotations

import platform
import shutil
import sys
import tempfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Literal

from wxai.core.settings import get_settings

Status = Literal["ok", "warn", "fail"]

#: Distributions the cockpit and the labs cannot work without.
REQUIRED_PACKAGES = (
    "numpy",
    "torch",
    "matplotlib",
    "pydantic",
    "hydra-core",
    "mlflow",
    "fastapi",
    "uvicorn",
    "sqlalchemy",
    "xllamacpp",
    "sentence-transformers",
)

#: Debian tools some labs and tests use; their absence is a warning.
OPTIONAL_TOOLS = {
    "gfortran": "native-kernels lab (apt-get install gfortran)",
    "g++": "native-kernels lab (apt-get install g++)",
    "chromium": "browser end-to-end tests (apt-get install chromium)",
}


@dataclass(frozen=True)
class Check:
    """Outcome of one check: a group, a name, a status and what was found."""

    group: str
    name: str
    status: Status
    detail: str


def check_python() -> list[Check]:
    """Python version (3.11 or newer is required)."""
    ok = sys.version_info >= (3, 11)
    detail = f"{platform.python_version()} ({sys.executable})"
    return [Check("python", "python", "ok" if ok else "fail", detail)]


def check_packages() -> list[Check]:
    """Installed versions of the required distributions."""
    checks = []
    for name in REQUIRED_PACKAGES:
        try:
            checks.append(Check("packages", name, "ok", version(name)))
        except PackageNotFoundError:
            checks.append(Check("packages", name, "fail", "not installed: run `make run`"))
    return checks


def check_accelerators() -> list[Check]:
    """CUDA GPUs, Apple MPS and the CPU fallback."""
    try:
        import torch
    except ImportError:
        return [Check("accelerators", "torch", "fail", "torch is not installed")]
    checks = []
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            name = torch.cuda.get_device_name(index)
            checks.append(Check("accelerators", f"cuda:{index}", "ok", name))
    else:
        checks.append(Check("accelerators", "cuda", "warn", "no CUDA device (CPU build or no GPU)"))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        checks.append(Check("accelerators", "mps", "ok", "Apple Metal available"))
    threads = torch.get_num_threads()
    checks.append(Check("accelerators", "cpu", "ok", f"{platform.machine()}, {threads} threads"))
    return checks


def check_assets() -> list[Check]:
    """Offline assets (model weights, data) registered in :mod:`wxai.core.assets`."""
    from wxai.core.assets import status

    checks = []
    for item in status():
        if item.ok:
            detail = f"{item.package} {item.version}: {item.path} ({item.size / 1e6:.1f} MB)"
            checks.append(Check("assets", item.name, "ok", detail))
        else:
            checks.append(Check("assets", item.name, "fail", item.message))
    return checks


def check_directories() -> list[Check]:
    """The wxai home directory exists (or can be created) and is writable."""
    home = get_settings().home.expanduser()
    try:
        home.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=home):
            pass
    except OSError as exc:
        return [Check("directories", "home", "fail", f"{home} is not writable: {exc}")]
    return [Check("directories", "home", "ok", f"{home} (writable; WXAI_HOME)")]


def check_tools() -> list[Check]:
    """Optional command-line tools from Debian."""
    checks = []
    for tool, purpose in OPTIONAL_TOOLS.items():
        path = shutil.which(tool)
        if path:
            checks.append(Check("tools", tool, "ok", path))
        else:
            checks.append(Check("tools", tool, "warn", f"missing, needed by the {purpose}"))
    return checks


def run_checks() -> list[Check]:
    """All checks, in display order."""
    return [
        *check_python(),
        *check_packages(),
        *check_accelerators(),
        *check_assets(),
        *check_directories(),
        *check_tools(),
    ]
