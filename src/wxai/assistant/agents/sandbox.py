"""Run untrusted Python (code written by a model) in a bubblewrap sandbox.

The code runs with this environment's Python (so NumPy and Matplotlib work) in
a set of fresh Linux namespaces made by ``bwrap``:

* no network: a private network namespace holding only a loopback interface,
  so nothing outside the sandbox is reachable, not even the host's loopback;
* a private root file system: ``/usr``, a few files of ``/etc`` and the Python
  prefixes are bound read-only; the host's home directories, ``/tmp``, ``/etc``
  secrets and the source tree are not there;
* a writable work directory, private to the run, at :data:`WORK_DIR`
  (also ``HOME``), and a private ``/tmp`` in memory;
* its own PID namespace and ``/proc``, a new session, no environment variables
  from the host (a short fixed list is set), and no user namespaces inside;
* resource limits (:class:`SandboxLimits`): CPU seconds, address space, file
  size, open files, processes, wall-clock time, output bytes.

When wxai runs as root (CI containers), the limits are set and the process then
becomes the unprivileged uid/gid 65534 before ``bwrap`` starts: as root the
process limit would not be enforced. Python prefixes that uid cannot reach
(e.g. a pyenv under ``/root``) are first bind-mounted onto a readable staging
directory in a private mount namespace of the child.

If the sandbox cannot be made here (``bwrap`` missing, user namespaces off),
:func:`run_python` raises :class:`~wxai.core.errors.SandboxUnavailable`: it
never runs code unsandboxed.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wxai.assistant.agents.sandbox_outcome import (
    OutputCapture,
    collect_files,
    denial,
    disk_usage,
    ending,
    error_line,
    exit_code_of,
    last_traceback,
    make_removable,
)
from wxai.core.errors import ConfigError, SandboxUnavailable

__all__ = [
    "BWRAP_ENV",
    "WORK_DIR",
    "SandboxLimits",
    "SandboxResult",
    "ensure_sandbox",
    "run_python",
    "sandbox_status",
]

#: Environment variable naming the ``bwrap`` executable (default: found on ``PATH``).
BWRAP_ENV = "WXAI_BWRAP"
#: Where the run's work directory appears inside the sandbox (also ``HOME`` and cwd).
WORK_DIR = "/sandbox"
#: The unprivileged uid and gid the sandbox runs as when wxai runs as root.
NOBODY = 65534
#: Files of the host's ``/etc`` the sandbox sees (read-only): the dynamic loader, time zone, fonts.
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "fonts")
_SCRIPT = "main.py"

_MS_BIND = 0x1000
_MS_REC = 0x4000
_MS_PRIVATE = 1 << 18
_CLONE_NEWNS = 0x00020000


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits of one sandboxed run.

    Attributes
    ----------
    cpu_seconds:
        CPU time of each process (s): ``SIGXCPU`` at the limit, ``SIGKILL`` one second later.
    wall_seconds:
        Wall-clock time of the whole run (s); then every process in the sandbox is killed.
    memory_bytes:
        Address space of each process (bytes); an allocation beyond it fails (``MemoryError``).
    file_size_bytes:
        Largest file a process may write (bytes).
    max_processes:
        Processes and threads of the sandbox's user, ``bwrap`` itself included.
    max_open_files:
        Open file descriptors per process.
    max_output_bytes:
        Bytes of stdout and of stderr kept each (the start and the end; the middle is cut).
    max_files_bytes:
        Total bytes of files copied out of the work directory after the run.
    disk_bytes:
        Size of the sandbox's in-memory ``/tmp``, and the most the work directory may
        hold (bytes, checked every 0.2 s; beyond it every process is killed).
    """

    cpu_seconds: float = 20.0
    wall_seconds: float = 30.0
    memory_bytes: int = 1 << 30
    file_size_bytes: int = 64 << 20
    max_processes: int = 32
    max_open_files: int = 256
    max_output_bytes: int = 64 * 1024
    max_files_bytes: int = 32 << 20
    disk_bytes: int = 256 << 20

    def __post_init__(self) -> None:
        floors = {
            "cpu_seconds": 0.1,
            "wall_seconds": 0.1,
            "memory_bytes": 64 << 20,
            "file_size_bytes": 1,
            "max_processes": 4,
            "max_open_files": 16,
            "max_output_bytes": 256,
            "max_files_bytes": 0,
            "disk_bytes": 1 << 20,
        }
        for name, floor in floors.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"sandbox limit {name} must be a number, got {value!r}")
            if value < floor:
                raise ConfigError(
                    f"sandbox limit {name}={value!r} is too small: use at least {floor} "
                    "(limits are positive; memory leaves room for the Python interpreter)"
                )

    def to_dict(self) -> dict[str, float | int]:
        """The limits as a plain dict (for events and JSON)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class SandboxResult:
    """What one sandboxed run did.

    Attributes
    ----------
    exit_code:
        Exit status of the Python process (``128 + N`` when killed by signal ``N``);
        ``None`` when the run was stopped at the wall-clock limit.
    stdout, stderr:
        Captured output (UTF-8, undecodable bytes replaced), cut to ``max_output_bytes``.
    traceback:
        The last Python traceback in stderr ("" when there is none).
    error:
        Its last line, e.g. ``"ZeroDivisionError: division by zero"`` ("" when none).
    limit:
        The :class:`SandboxLimits` field that stopped the run, or ``None``.
    reason:
        Plain words on how the run ended (which limit, which signal).
    denied:
        Plain words when the error is the sandbox refusing something (no network,
        read-only system, host files not visible, not permitted); "" otherwise.
    files:
        Files the run created or changed in its work directory: relative path -> bytes.
    skipped_files:
        Files not copied out, with why (too large, not a regular file).
    duration_s:
        Wall-clock time of the run (s).
    truncated:
        Whether stdout or stderr was cut.
    """

    exit_code: int | None
    stdout: str
    stderr: str
    traceback: str = ""
    error: str = ""
    limit: str | None = None
    reason: str = ""
    denied: str = ""
    files: Mapping[str, bytes] = field(default_factory=dict)
    skipped_files: Mapping[str, str] = field(default_factory=dict)
    duration_s: float = 0.0
    truncated: bool = False

    @property
    def ok(self) -> bool:
        """Whether the code ran to the end with exit status 0."""
        return self.exit_code == 0 and self.limit is None

    @property
    def timed_out(self) -> bool:
        """Whether the run was stopped at the wall-clock or CPU limit."""
        return self.limit in ("wall_seconds", "cpu_seconds")

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary (files by name and size, no contents)."""
        return {
            "ok": self.ok,
            "exit_code": self.exit_code,
            "error": self.error,
            "limit": self.limit,
            "reason": self.reason,
            "denied": self.denied,
            "duration_s": round(self.duration_s, 3),
            "files": {name: len(data) for name, data in self.files.items()},
            "truncated": self.truncated,
        }


# -------------------------------------------------------------------------- running


def run_python(
    code: str,
    *,
    files: Mapping[str, bytes | str] | None = None,
    limits: SandboxLimits | None = None,
    bwrap: str | None = None,
) -> SandboxResult:
    """Run ``code`` as a Python script in a fresh sandbox and return what it did.

    Parameters
    ----------
    code:
        The script, written to ``main.py`` in the work directory and run there.
    files:
        Further input files: relative path -> contents, written next to it.
    limits:
        Resource limits (default: :class:`SandboxLimits()`).
    bwrap:
        The ``bwrap`` executable (default: ``$WXAI_BWRAP``, else ``bwrap`` on ``PATH``).

    Raises
    ------
    SandboxUnavailable
        The sandbox cannot be made here; no code ran.
    ConfigError
        An input file name is absolute or leaves the work directory.
    """
    limits = SandboxLimits() if limits is None else limits
    executable = ensure_sandbox(bwrap)
    return _run(code, dict(files or {}), limits, executable)


_PROBED: dict[tuple[str, int], str] = {}


def ensure_sandbox(bwrap: str | None = None) -> str:
    """The path of a ``bwrap`` that works here, checked once per process and executable.

    The check runs ``python -c pass`` through the same sandbox as :func:`run_python`.

    Raises
    ------
    SandboxUnavailable
        ``bwrap`` is missing or cannot make the namespaces; the message says why and what to do.
    """
    name = bwrap or os.environ.get(BWRAP_ENV, "").strip() or "bwrap"
    executable = shutil.which(name)
    if executable is None:
        raise SandboxUnavailable(
            f"cannot run generated code: the sandbox tool {name!r} was not found. Install "
            "bubblewrap (apt-get install bubblewrap, or scripts/system-deps.sh) or set "
            f"{BWRAP_ENV} to its path; wxai never runs generated code unsandboxed."
        )
    key = (executable, os.geteuid())
    if key in _PROBED:
        return _PROBED[key]
    limits = SandboxLimits(cpu_seconds=10, wall_seconds=30)
    try:
        probe = _run("pass\n", {}, limits, executable)
    except OSError as exc:
        raise _unavailable(executable, str(exc)) from None
    if not probe.ok:
        raise _unavailable(executable, (probe.stderr.strip() or probe.reason)[-400:])
    _PROBED[key] = executable
    return executable


def sandbox_status(bwrap: str | None = None) -> str:
    """One line on whether generated code can run sandboxed here (for ``doctor``)."""
    try:
        executable = ensure_sandbox(bwrap)
    except SandboxUnavailable as exc:
        return f"unavailable: {exc}"
    version = subprocess.run(
        [executable, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    user = f"uid {NOBODY}" if os.geteuid() == 0 else f"uid {os.geteuid()}"
    return f"ok: {version or executable} (no network, read-only system, runs as {user})"


def _unavailable(executable: str, detail: str) -> SandboxUnavailable:
    return SandboxUnavailable(
        f"cannot run generated code: {executable} could not make a sandbox here ({detail}). "
        "User namespaces may be disabled (sysctl kernel.unprivileged_userns_clone=1, "
        "user.max_user_namespaces > 0) or the container forbids them (run it with "
        "--security-opt seccomp=unconfined or use a VM); wxai never runs generated code "
        "unsandboxed."
    )


def _run(
    code: str, files: dict[str, bytes | str], limits: SandboxLimits, executable: str
) -> SandboxResult:
    root = os.geteuid() == 0
    # As root the work dir must be reachable by uid 65534 (TMPDIR may be under /root).
    parent = None if not root or _world_reachable(tempfile.gettempdir()) else "/tmp"
    with tempfile.TemporaryDirectory(prefix="wxai-sandbox-", dir=parent) as tmp:
        base = Path(tmp)
        base.chmod(0o755)
        work = base / "work"
        work.mkdir(mode=0o700)
        inputs = _write_inputs(work, {_SCRIPT: code, **files})
        if root:
            for path in [work, *work.rglob("*")]:
                os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
        staged = _staging(base, root)
        argv = _bwrap_argv(executable, work, staged, limits.disk_bytes)
        try:
            return _execute(argv, limits, root=root, staged=staged, work=work, inputs=inputs)
        finally:
            make_removable(work)


def _write_inputs(work: Path, files: Mapping[str, bytes | str]) -> dict[str, bytes]:
    written = {}
    for name, content in files.items():
        rel = Path(name)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise ConfigError(
                f"sandbox input file {name!r} must be a relative path inside the work directory"
            )
        data = content.encode() if isinstance(content, str) else bytes(content)
        target = work / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written[rel.as_posix()] = data
    return written


def _python_roots() -> list[str]:
    """The directories holding this Python: the venv and the interpreter it was made from."""
    roots = []
    for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        real = os.path.realpath(prefix)
        for path in {prefix, real}:
            if not path.startswith("/usr/") and path not in roots:
                roots.append(path)
    return roots


def _world_reachable(path: str) -> bool:
    """Whether every directory on ``path`` is searchable by others (uid 65534 can get there)."""
    current = Path(path)
    for part in [current, *current.parents]:
        try:
            mode = part.stat().st_mode
        except OSError:
            return False
        if not mode & stat.S_IXOTH:
            return False
    return True


def _staging(base: Path, root: bool) -> dict[str, str]:
    """Python root -> the host path ``bwrap`` binds from (a staging dir when unreachable)."""
    staged = {}
    for i, path in enumerate(_python_roots()):
        if not root or _world_reachable(path):
            staged[path] = path
        else:
            stage = base / f"stage{i}"
            stage.mkdir(mode=0o755)
            staged[path] = str(stage)
    return staged


def _bwrap_argv(
    executable: str, work: Path, staged: Mapping[str, str], tmp_bytes: int
) -> list[str]:
    argv = [executable, "--unshare-all", "--unshare-user", "--disable-userns"]
    argv += ["--die-with-parent", "--new-session", "--as-pid-1", "--hostname", "sandbox"]
    argv += ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = Path("/") / name
        if host.is_symlink():
            argv += ["--symlink", str(host.readlink()), str(host)]
        elif host.is_dir():
            argv += ["--ro-bind", str(host), str(host)]
    for name in ETC_FILES:
        argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    # /tmp first: a Python root under /tmp (a checkout in /tmp, as CI's may be) is bound
    # on top of the sandbox's private /tmp instead of being hidden by it.
    argv += ["--proc", "/proc", "--dev", "/dev", "--size", str(tmp_bytes), "--tmpfs", "/tmp"]
    for dest, source in staged.items():
        argv += ["--ro-bind", source, dest]
    argv += ["--bind", str(work), WORK_DIR, "--chdir", WORK_DIR]
    argv += ["--remount-ro", "/"]  # the sandbox's root: only /tmp and the work dir are writable
    env = {
        "HOME": WORK_DIR,
        "PATH": f"{sys.prefix}/bin:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "USER": "sandbox",
        "LOGNAME": "sandbox",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "XDG_CACHE_HOME": "/tmp/cache",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    argv.append("--clearenv")
    for key, value in env.items():
        argv += ["--setenv", key, value]
    # -E -s: ignore PYTHON* variables and the user site; -u: unbuffered, so output written
    # before a kill is kept; -B: no .pyc files among the produced files.
    argv += ["--", sys.executable, "-E", "-s", "-u", "-B", "-X", "utf8", _SCRIPT]
    return argv


def _tasks_of(uid: int) -> int:
    """Processes and threads now running as ``uid`` (from ``/proc``)."""
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += sum(1 for _ in (entry / "task").iterdir())
            except OSError:
                continue
    return count


def _errno_text() -> str:
    """The C ``errno`` of the last failed libc call, in words."""
    return os.strerror(ctypes.get_errno())


def _preexec(limits: SandboxLimits, root: bool, staged: Mapping[str, str]) -> Any:
    """The function run in the child between fork and exec: stage, limit, drop root."""
    libc = ctypes.CDLL(None, use_errno=True) if root else None
    binds = [(d.encode(), s.encode()) for d, s in staged.items() if d != s]
    cpu = max(1, round(limits.cpu_seconds))
    # RLIMIT_NPROC counts every task of the user: as uid 65534 that is (nearly) only the
    # sandbox; as yourself it includes your other programs, so they are added on top.
    nproc = limits.max_processes + (0 if root else _tasks_of(os.getuid()))
    settings = [
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),
        (resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes)),
        (resource.RLIMIT_FSIZE, (limits.file_size_bytes, limits.file_size_bytes)),
        (resource.RLIMIT_NOFILE, (limits.max_open_files, limits.max_open_files)),
        (resource.RLIMIT_NPROC, (nproc, nproc)),
        (resource.RLIMIT_CORE, (0, 0)),
    ]

    def child() -> None:
        if libc is not None and binds:
            if libc.unshare(_CLONE_NEWNS) != 0:
                raise SandboxUnavailable(f"unshare(CLONE_NEWNS) failed: {_errno_text()}")
            if libc.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
                raise SandboxUnavailable(f"making mounts private failed: {_errno_text()}")
            for source, stage in binds:
                if libc.mount(source, stage, None, _MS_BIND | _MS_REC, None) != 0:
                    raise SandboxUnavailable(f"bind of {source.decode()} failed: {_errno_text()}")
        for kind, values in settings:
            resource.setrlimit(kind, values)
        if root:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)

    return child


def _execute(
    argv: list[str],
    limits: SandboxLimits,
    *,
    root: bool,
    staged: Mapping[str, str],
    work: Path,
    inputs: Mapping[str, bytes],
) -> SandboxResult:
    start = time.monotonic()
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=_preexec(limits, root, staged),  # noqa: PLW1509 - limits must be set in the child
            start_new_session=True,
            close_fds=True,
        )
    except subprocess.SubprocessError as exc:
        raise _unavailable(argv[0], f"setting up the child failed: {exc}") from None
    readers = [OutputCapture(process.stdout, limits.max_output_bytes)]
    readers.append(OutputCapture(process.stderr, limits.max_output_bytes))
    for reader in readers:
        reader.start()
    status, stopped = _wait(process, limits, work)
    duration = time.monotonic() - start
    for reader in readers:
        reader.join(timeout=5)
    (stdout, cut_out), (stderr, cut_err) = readers[0].text(), readers[1].text()
    for pipe in (process.stdout, process.stderr):
        if pipe is not None:
            pipe.close()
    exit_code = None if stopped else exit_code_of(status)
    trace = last_traceback(stderr)
    error = error_line(stderr)
    limit, reason = ending(
        exit_code, error, stderr=stderr, duration=duration, limits=limits, stopped=stopped
    )
    files, skipped = collect_files(work, inputs, limits.max_files_bytes)
    return SandboxResult(
        exit_code=exit_code,
        stdout=stdout,
        stderr=stderr,
        traceback=trace,
        error=error,
        limit=limit,
        reason=reason,
        denied=denial(error),
        files=files,
        skipped_files=skipped,
        duration_s=duration,
        truncated=cut_out or cut_err,
    )


def _wait(
    process: subprocess.Popen[bytes], limits: SandboxLimits, work: Path
) -> tuple[int, str | None]:
    """Wait for ``process``; kill its group at the wall-clock or disk limit.

    Returns the wait status and the limit that stopped it (``None``: it ended itself).
    """
    start = time.monotonic()
    deadline = start + limits.wall_seconds
    next_disk_check = start + 0.2
    delay = 0.002
    while True:
        pid, status = os.waitpid(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return status, None
        now = time.monotonic()
        stopped = "wall_seconds" if now >= deadline else None
        if stopped is None and now >= next_disk_check:
            next_disk_check = now + 0.2
            if disk_usage(work) > limits.disk_bytes:
                stopped = "disk_bytes"
        if stopped is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            _, status = os.waitpid(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
            return status, stopped
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
