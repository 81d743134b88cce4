"""Compilation of the packaged Fortran and C++ kernels into cached shared libraries.

A library is built once per (source text, compiler, compiler version, flags) into
``<wxai home>/native/<key>/``, where ``<key>`` is a hash of all four; a changed source
or a compiler upgrade gives a new key and so a rebuild, anything else is a cache hit.
The compiler writes to a temporary name in the same directory, which is renamed into
place only when compilation succeeded, so a crash never leaves a half-written library
that a later run would load.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Literal

from wxai.core.errors import NativeBuildError
from wxai.core.paths import ensure_dir, home_dir

Language = Literal["fortran", "cpp"]

#: Optimisation and shared-library flags common to both languages.
COMMON_FLAGS: tuple[str, ...] = ("-O2", "-fPIC", "-shared")

#: Seconds a single compiler call may take before the build is abandoned.
COMPILE_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Toolchain:
    """How to compile one language.

    Attributes
    ----------
    language:
        ``"fortran"`` or ``"cpp"``.
    compiler:
        Executable looked up on ``PATH``.
    debian_package:
        Debian/Ubuntu package that provides ``compiler``.
    source:
        File name of the kernel source in ``wxai/core/native/kernels/``.
    flags:
        Language-specific flags added to :data:`COMMON_FLAGS`.
    """

    language: Language
    compiler: str
    debian_package: str
    source: str
    flags: tuple[str, ...] = ()


TOOLCHAINS: dict[str, Toolchain] = {
    "fortran": Toolchain("fortran", "gfortran", "gfortran", "wx_kernels.f90"),
    "cpp": Toolchain("cpp", "g++", "g++", "wx_kernels.cpp", ("-std=c++17",)),
}


@dataclass(frozen=True)
class BuiltLibrary:
    """A compiled shared library and how it was obtained.

    Attributes
    ----------
    language:
        ``"fortran"`` or ``"cpp"``.
    path:
        The shared library (``.so`` on Linux, ``.dylib`` on macOS).
    compiler:
        Absolute path of the compiler used.
    compiler_version:
        First line of ``compiler --version``.
    key:
        Cache key (hash of source, compiler, version and flags).
    cached:
        ``True`` when an existing build was reused, ``False`` when compiled now.
    build_seconds:
        Wall time of the compilation in seconds (0 for a cache hit).
    """

    language: Language
    path: Path
    compiler: str
    compiler_version: str
    key: str
    cached: bool
    build_seconds: float


def kernel_source(language: Language) -> Path:
    """Path of the packaged kernel source for ``language``."""
    toolchain = _toolchain(language)
    return Path(str(files("wxai.core.native") / "kernels" / toolchain.source))


def find_compiler(language: Language) -> str:
    """Absolute path of the compiler for ``language``.

    Raises
    ------
    NativeBuildError
        If the compiler is not on ``PATH``; the message names the package to install.
    """
    toolchain = _toolchain(language)
    found = shutil.which(toolchain.compiler)
    if found is None:
        raise NativeBuildError(
            f"the {language} compiler {toolchain.compiler!r} was not found on PATH, so the "
            f"{language} kernels cannot be built; install it (Debian/Ubuntu: "
            f"'apt-get install {toolchain.debian_package}') and run again"
        )
    return found


def cache_dir() -> Path:
    """Directory holding one sub-directory per cached build: ``<wxai home>/native``."""
    return home_dir() / "native"


def build_library(
    language: Language, *, source: Path | None = None, force: bool = False
) -> BuiltLibrary:
    """Compile the kernels of ``language`` into a shared library, or reuse a cached one.

    Parameters
    ----------
    language:
        ``"fortran"`` (gfortran) or ``"cpp"`` (g++).
    source:
        Kernel source to compile; default is the packaged one (:func:`kernel_source`).
    force:
        Compile even when a cached library with the same key exists.

    Returns
    -------
    BuiltLibrary
        Where the library is and whether it came from the cache.

    Raises
    ------
    NativeBuildError
        If the compiler is missing (the message names the package to install), the
        source cannot be read, or compilation fails (the message holds the compiler's
        error output).
    """
    toolchain = _toolchain(language)
    compiler = find_compiler(language)
    version = _compiler_version(compiler)
    source = Path(source) if source is not None else kernel_source(language)
    try:
        text = source.read_bytes()
    except OSError as exc:
        raise NativeBuildError(f"cannot read kernel source {source}: {exc}") from exc
    flags = (*COMMON_FLAGS, *toolchain.flags)
    key = _cache_key(text, compiler, version, flags)
    target_dir = cache_dir() / key
    target = target_dir / f"libwx_{language}{_shared_suffix()}"
    if target.is_file() and not force:
        return BuiltLibrary(language, target, compiler, version, key, True, 0.0)

    started = time.perf_counter()
    try:
        ensure_dir(target_dir)
        with tempfile.TemporaryDirectory(prefix=f".build-{language}-", dir=target_dir) as work:
            partial = Path(work) / target.name
            command = [compiler, *flags, "-o", str(partial), str(source)]
            if language == "fortran":
                command[1:1] = ["-J", work]  # keep the .mod file out of the working directory
            _run_compiler(command, cwd=Path(work), language=language)
            if not partial.is_file():
                raise NativeBuildError(
                    f"{Path(compiler).name} reported success but wrote no library ({partial})"
                )
            partial.replace(target)  # atomic within one file system
    except OSError as exc:
        raise NativeBuildError(
            f"cannot write the {language} library to {target_dir}: {exc}; make the wxai home "
            "writable or point WXAI_HOME at a writable directory"
        ) from exc
    return BuiltLibrary(
        language, target, compiler, version, key, False, time.perf_counter() - started
    )


def _toolchain(language: str) -> Toolchain:
    try:
        return TOOLCHAINS[language]
    except KeyError:
        from wxai.core.errors import UnknownNameError

        raise UnknownNameError("native language", language, TOOLCHAINS) from None


def _run_compiler(command: list[str], *, cwd: Path, language: str) -> None:
    try:
        completed = subprocess.run(
            command,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=COMPILE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise NativeBuildError(
            f"compiling the {language} kernels took longer than {COMPILE_TIMEOUT_S:.0f} s: "
            f"{' '.join(command)}"
        ) from exc
    except OSError as exc:
        raise NativeBuildError(f"cannot run the {language} compiler {command[0]}: {exc}") from exc
    if completed.returncode != 0:
        output = (completed.stderr or completed.stdout).strip()
        raise NativeBuildError(
            f"compiling the {language} kernels failed (exit {completed.returncode}):\n"
            f"$ {' '.join(command)}\n{output}"
        )


@lru_cache(maxsize=8)
def _compiler_version(compiler: str) -> str:
    try:
        completed = subprocess.run(
            [compiler, "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NativeBuildError(f"cannot run {compiler} --version: {exc}") from exc
    lines = (completed.stdout or completed.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def _cache_key(source: bytes, compiler: str, version: str, flags: tuple[str, ...]) -> str:
    digest = hashlib.sha256(source)
    for part in (compiler, version, *flags, sys.platform):
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()[:16]


def _shared_suffix() -> str:
    if sys.platform == "darwin":
        return ".dylib"
    if os.name == "nt":
        return ".dll"
    return ".so"
