"""Reading a finished sandbox run: its output, its traceback, which limit ended it, its files.

Helpers of :mod:`wxai.assistant.agents.sandbox`, which runs the code.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import stat
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wxai.assistant.agents.sandbox import SandboxLimits

#: Errors of a process that could not start another one (fork/thread at max_processes).
_PROCESS_LIMIT_MARKS = (
    "BlockingIOError",
    "Resource temporarily unavailable",
    "can't start new thread",
)

#: Bytes of stderr's end always kept, so a traceback survives output truncation.
TAIL_BYTES = 16 * 1024


class OutputCapture(threading.Thread):
    """Drains a pipe, keeping its first bytes and its last bytes."""

    def __init__(self, stream: Any, limit: int) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.head_limit = max(limit // 2, limit - TAIL_BYTES)
        self.tail_limit = limit - self.head_limit
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def run(self) -> None:
        while chunk := self.stream.read1(65536):
            self.total += len(chunk)
            room = self.head_limit - len(self.head)
            if room > 0:
                self.head += chunk[:room]
                chunk = chunk[room:]
            if chunk:
                self.tail = (self.tail + chunk)[-self.tail_limit :]

    def text(self) -> tuple[str, bool]:
        kept = len(self.head) + len(self.tail)
        if self.total <= kept:
            return (bytes(self.head) + bytes(self.tail)).decode(errors="replace"), False
        cut = f"\n[... {self.total - kept} bytes cut: output limit max_output_bytes ...]\n"
        return self.head.decode(errors="replace") + cut + self.tail.decode(errors="replace"), True


def exit_code_of(status: int) -> int:
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def last_traceback(stderr: str) -> str:
    start = stderr.rfind("Traceback (most recent call last):")
    return stderr[start:].rstrip() + "\n" if start >= 0 else ""


#: The closing line of a Python traceback: ``ValueError: ...``, ``KeyboardInterrupt``.
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\b(: .*)?$")


def error_line(stderr: str) -> str:
    """The exception line that ended the run (``"MemoryError"``), or ``""``.

    Normally the last line of the last traceback. When many processes die at once
    their tracebacks interleave on one pipe and the last one may be cut mid-way, so
    the last exception line anywhere after the first traceback is taken instead.
    """
    trace = last_traceback(stderr).strip()
    if not trace:
        return ""
    last = trace.splitlines()[-1]
    if _EXCEPTION_LINE.match(last):
        return last
    start = stderr.find("Traceback (most recent call last):")
    for line in reversed(stderr[start:].splitlines()):
        if _EXCEPTION_LINE.match(line):
            return line
    return last


def ending(  # noqa: PLR0911 - one return per way a run can end
    exit_code: int | None,
    error: str,
    *,
    stderr: str,
    duration: float,
    limits: SandboxLimits,
    stopped: str | None,
) -> tuple[str | None, str]:
    """Which limit (if any) ended the run, and how it ended in plain words.

    ``stopped`` is the limit at which the caller killed the run (wall clock, disk).
    """
    if "No space left on device" in error:
        return "disk_bytes", (
            f"the sandbox's /tmp is full: it holds at most {limits.disk_bytes} bytes "
            "(disk_bytes); write large files to the work directory or less data"
        )
    if stopped == "disk_bytes":
        return "disk_bytes", (
            f"stopped: the work directory grew beyond {limits.disk_bytes} bytes "
            "(disk_bytes), every process in the sandbox was killed"
        )
    if stopped:
        return "wall_seconds", (
            f"stopped at the wall-clock limit: still running after {limits.wall_seconds:g} s "
            f"(wall_seconds), every process in the sandbox was killed"
        )
    signo = exit_code - 128 if exit_code is not None and exit_code > 128 else 0
    if signo == signal.SIGXCPU or (signo == signal.SIGKILL and duration >= limits.cpu_seconds):
        return "cpu_seconds", (
            f"killed at the CPU-time limit of {limits.cpu_seconds:g} s (cpu_seconds), "
            f"after {duration:.1f} s of wall-clock time"
        )
    if signo == signal.SIGXFSZ or "File too large" in error:
        return "file_size_bytes", (
            f"stopped writing a file larger than {limits.file_size_bytes} bytes (file_size_bytes)"
        )
    if "MemoryError" in error or "Cannot allocate memory" in error or "Unable to allocate" in error:
        return "memory_bytes", (
            f"an allocation failed at the address-space limit of {limits.memory_bytes} bytes "
            f"(memory_bytes): {error}"
        )
    # Many processes dying at once interleave their tracebacks on one pipe, so the last
    # one may be cut: look for the process-limit errors anywhere in what was kept.
    if any(mark in error or (exit_code and mark in stderr) for mark in _PROCESS_LIMIT_MARKS):
        return "max_processes", (
            f"could not start more processes or threads: limit of {limits.max_processes} "
            f"(max_processes): {error}"
        )
    if exit_code == 0:
        return None, f"finished in {duration:.2f} s"
    if signo:
        try:
            name = signal.Signals(signo).name
        except ValueError:
            name = str(signo)
        return None, f"killed by signal {name} (exit status {exit_code})"
    if error:
        return None, f"failed with exit status {exit_code}: {error}"
    return None, f"failed with exit status {exit_code}"


def collect_files(
    work: Path, inputs: Mapping[str, bytes], budget: int
) -> tuple[dict[str, bytes], dict[str, str]]:
    """New or changed regular files of the work directory (no links followed), up to ``budget``."""
    files: dict[str, bytes] = {}
    skipped: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(work, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            rel = path.relative_to(work).as_posix()
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            except OSError as exc:
                skipped[rel] = f"not copied out: {exc.strerror} (links are never followed)"
                continue
            with os.fdopen(fd, "rb") as handle:
                info = os.fstat(handle.fileno())
                if not stat.S_ISREG(info.st_mode):
                    skipped[rel] = "not a regular file"
                    continue
                if info.st_size > budget:
                    skipped[rel] = f"{info.st_size} bytes: over the max_files_bytes budget"
                    continue
                data = handle.read(budget + 1)
            if inputs.get(rel) == data:
                continue
            budget -= len(data)
            files[rel] = data
    return files, skipped


def make_removable(work: Path) -> None:
    """Give back write permission on every directory the sandbox may have locked."""
    for dirpath, dirnames, _ in os.walk(work, followlinks=False):
        for name in dirnames:
            path = Path(dirpath) / name
            if not path.is_symlink():
                with contextlib.suppress(OSError):
                    path.chmod(0o700)
    with contextlib.suppress(OSError):
        work.chmod(0o700)


#: Directories of the host that do not exist inside the sandbox (a missing file there is
#: the sandbox hiding the host, not a bug to repair).
_HOST_ONLY = ("/etc/", "/root", "/home/", "/var/", "/run/", "/srv/", "/mnt/", "/media/", "/opt/")
_DENIALS = (
    (("Permission denied", "Operation not permitted"), "the sandbox denied this operation"),
    (("Read-only file system",), "system directories are read-only in the sandbox"),
    (
        (
            "Network is unreachable",
            "Connection refused",
            "Temporary failure in name resolution",
            "Name or service not known",
        ),
        "the sandbox has no network",
    ),
)


def denial(error: str) -> str:
    """Plain words when ``error`` (a traceback's last line) is the sandbox refusing; else ""."""
    for markers, words in _DENIALS:
        if any(marker in error for marker in markers):
            return words
    if error.startswith("FileNotFoundError") and any(f"'{d}" in error for d in _HOST_ONLY):
        return "files of the host outside the work directory are not visible in the sandbox"
    return ""


def disk_usage(root: Path) -> int:
    """Bytes of disk used by the files under ``root`` (allocated blocks; links not followed)."""
    total = 0
    stack = [root]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            total += info.st_blocks * 512
            if stat.S_ISDIR(info.st_mode):
                stack.append(Path(entry.path))
    return total
