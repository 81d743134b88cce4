"""Environment checks reported by ``wxai doctor``."""

from __future__ import annotations

import os
import platform
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
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
    "bwrap": "coding agent's sandbox (apt-get install bubblewrap)",
}

#: Where ecCodes' wheels keep their built-in definitions: in memory, not on disk.
BUILTIN_DEFINITIONS = "/MEMFS/definitions"
#: A directory that marks DWD's local ecCodes definitions (``definitions.edzw``).
EDZW_MARKER = Path("grib2", "localConcepts", "edzw")
_EDZW_VERSION = re.compile(r"^\s*constant\s+edzwDefinitionFilesVersion\s*=\s*'([^']+)'", re.M)


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


def check_eccodes() -> list[Check]:
    """ecCodes' version, the definitions it uses, and ``ECCODES_DEFINITION_PATH`` when set.

    See :func:`definition_path_checks` for what is checked in the path.
    """
    try:
        import eccodes

        library = eccodes.codes_get_api_version()
        in_use = eccodes.codes_definition_path()
    except Exception as exc:  # ImportError, or a shared library that does not load
        return [
            Check(
                "eccodes",
                "ecCodes",
                "fail",
                f"cannot load ecCodes ({type(exc).__name__}: {exc}); GRIB files cannot be "
                "read: run `make run`",
            )
        ]
    detail = f"library {library}, Python bindings {eccodes.__version__}; definitions: {in_use}"
    return [
        Check("eccodes", "ecCodes", "ok", detail),
        *definition_path_checks(
            os.environ.get("ECCODES_DEFINITION_PATH"),
            os.environ.get("ECCODES_EXTRA_DEFINITION_PATH"),
            library=library,
            in_use=in_use,
        ),
    ]


def definition_path_checks(
    path: str | None, extra: str | None = None, *, library: str, in_use: str
) -> list[Check]:
    """Check an ecCodes definitions search path, e.g. one with DWD's edzw tables first.

    ecCodes looks each definition file up in the directories of the path in
    turn (``ECCODES_EXTRA_DEFINITION_PATH`` before ``ECCODES_DEFINITION_PATH``),
    so local definitions must come first and the built-in ones
    (``/MEMFS/definitions`` in the wheels) last.

    Parameters
    ----------
    path, extra:
        Values of ``ECCODES_DEFINITION_PATH`` and ``ECCODES_EXTRA_DEFINITION_PATH``
        (colon-separated directories), or None when unset.
    library:
        ecCodes library version, e.g. ``"2.50.0"``.
    in_use:
        The path ecCodes reports in this process (``codes_definition_path()``).

    Returns
    -------
    list of Check
        One per entry (exists, missing, built-in, DWD edzw definitions with
        their version), then the order of the entries, and warnings for DWD
        definitions made for another ecCodes version or a path this process
        does not use.
    """
    if not path and not extra:
        return [
            Check(
                "eccodes",
                "definitions",
                "ok",
                "built-in only (ECCODES_DEFINITION_PATH is not set; to read DWD's local "
                "parameters set it as in docs/grib.md, 'DWD local definitions')",
            )
        ]
    labelled = [
        (f"{variable}[{i}]", entry)
        for variable, value in (
            ("ECCODES_EXTRA_DEFINITION_PATH", extra),
            ("ECCODES_DEFINITION_PATH", path),
        )
        if value
        for i, entry in enumerate(value.split(":"))
    ]
    checks = [_entry_check(label, entry) for label, entry in labelled]
    checks += _edzw_version_checks([entry for _, entry in labelled], library)
    checks += _order_checks([entry for _, entry in labelled], in_use)
    return checks


def _entry_check(label: str, entry: str) -> Check:
    if not entry:
        return Check("eccodes", label, "warn", "empty entry (a doubled or end ':')")
    if entry.startswith("/MEMFS"):
        return Check("eccodes", label, "ok", f"{entry}: ecCodes' built-in definitions")
    if not Path(entry).is_dir():
        return Check("eccodes", label, "warn", f"{entry}: missing (ecCodes skips it)")
    if _is_edzw(entry):
        made_for = _edzw_version(entry)
        suffix = f" {made_for}" if made_for else ""
        return Check("eccodes", label, "ok", f"{entry}: DWD edzw definitions{suffix}")
    return Check("eccodes", label, "ok", f"{entry}: exists")


def _edzw_version_checks(entries: list[str], library: str) -> list[Check]:
    """DWD's boot_extra.def makes ecCodes warn unless the library has the same version."""
    checks = []
    for entry in filter(_is_edzw, entries):
        made_for = _edzw_version(entry)
        if made_for and made_for != library:
            detail = (
                f"DWD definitions in {entry} are made for ecCodes {made_for}, this library is "
                f"{library}: ecCodes prints a version warning in every process that reads GRIB; "
                f"install the DWD definitions made for {library}"
            )
            checks.append(Check("eccodes", "edzw version", "warn", detail))
    return checks


def _order_checks(entries: list[str], in_use: str) -> list[Check]:
    present = [entry for entry in entries if entry]
    edzw = [entry for entry in present if _is_edzw(entry)]
    if not edzw:
        detail = f"no entry holds DWD's edzw definitions ({EDZW_MARKER})"
        checks = [Check("eccodes", "order", "ok", detail)]
    elif edzw[0] != present[0]:
        before = ", ".join(present[: present.index(edzw[0])])
        detail = f"DWD's edzw definitions ({edzw[0]}) are not first: {before} take precedence"
        checks = [Check("eccodes", "order", "warn", detail)]
    else:
        checks = [Check("eccodes", "order", "ok", "DWD's edzw definitions come first")]
    builtin = [i for i, entry in enumerate(present) if entry.startswith("/MEMFS")]
    if builtin and builtin[-1] != len(present) - 1:
        after = ", ".join(present[builtin[-1] + 1 :])
        detail = f"{BUILTIN_DEFINITIONS} must stay last: it shadows {after}"
        checks.append(Check("eccodes", "built-in last", "warn", detail))
    used = in_use.split(":")
    if used[: len(present)] != present:
        detail = f"this process uses {in_use}: set the path before Python starts"
        checks.append(Check("eccodes", "in use", "warn", detail))
    elif not any(_full_definitions(entry) for entry in used):
        detail = f"the path lacks ecCodes' own definitions: end it with :{BUILTIN_DEFINITIONS}"
        checks.append(Check("eccodes", "built-in last", "warn", detail))
    return checks


def _is_edzw(entry: str) -> bool:
    return bool(entry) and not entry.startswith("/MEMFS") and (Path(entry) / EDZW_MARKER).is_dir()


def _edzw_version(entry: str) -> str | None:
    """The ecCodes version DWD's definitions were made for (from their boot_extra.def)."""
    try:
        text = (Path(entry) / "boot_extra.def").read_text(errors="replace")
    except OSError:
        return None
    found = _EDZW_VERSION.search(text)
    return found.group(1) if found else None


def _full_definitions(entry: str) -> bool:
    return entry.startswith("/MEMFS") or (Path(entry) / "boot.def").is_file()


def run_checks() -> list[Check]:
    """All checks, in display order."""
    return [
        *check_python(),
        *check_packages(),
        *check_accelerators(),
        *check_assets(),
        *check_directories(),
        *check_tools(),
        *check_eccodes(),
    ]
