"""The bubblewrap sandbox for generated code: escape attempts fail, limits hold, results are clear.

Every test runs real code in a real sandbox (``bwrap``), with small limits so that a
fork bomb or a memory hog stays harmless on a shared test machine.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from toolcheck import require_tool
from wxai.assistant.agents.sandbox import (
    BWRAP_ENV,
    WORK_DIR,
    SandboxLimits,
    run_python,
    sandbox_status,
)
from wxai.assistant.agents.sandbox_outcome import error_line
from wxai.core.errors import ConfigError, SandboxUnavailable

SMALL = SandboxLimits(cpu_seconds=3, wall_seconds=10, max_processes=16, memory_bytes=1 << 30)


@pytest.fixture(autouse=True)
def _bwrap() -> None:
    require_tool("bwrap", "bubblewrap")


def run(code: str, limits: SandboxLimits = SMALL, **kwargs):
    return run_python(textwrap.dedent(code), limits=limits, **kwargs)


# ------------------------------------------------------------------------- happy path


def test_numpy_and_matplotlib_write_a_png_that_comes_back():
    result = run(
        """
        import numpy as np
        import matplotlib.pyplot as plt
        x = np.linspace(-3, 3, 30)
        X, Y = np.meshgrid(x, x)
        ax = plt.figure().add_subplot(projection="3d")
        ax.plot_surface(X, Y, X**2 - Y**2)
        plt.savefig("surface.png")
        print("mean", float(np.mean(X**2)))
        """
    )
    assert result.ok, result.stderr
    assert result.exit_code == 0 and result.limit is None
    assert result.files["surface.png"].startswith(b"\x89PNG\r\n\x1a\n")
    assert "main.py" not in result.files  # inputs that did not change are not returned
    assert result.stdout.startswith("mean 3.")
    assert result.duration_s < 10


def test_input_files_are_readable_and_changed_ones_come_back():
    result = run(
        "open('data.txt', 'a').write('world'); print(open('data.txt').read())",
        files={"data.txt": b"hello ", "sub/keep.txt": "same"},
    )
    assert result.ok
    assert result.stdout.strip() == "hello world"
    assert result.files == {"data.txt": b"hello world"}


def test_a_traceback_is_captured_with_its_last_line():
    result = run("def f(x):\n    return 1 / x\n\nprint('before')\nf(0)\n")
    assert not result.ok
    assert result.exit_code == 1
    assert result.stdout == "before\n"
    assert result.traceback.startswith("Traceback (most recent call last):")
    assert 'main.py", line 5' in result.traceback and "return 1 / x" in result.traceback
    assert result.error == "ZeroDivisionError: division by zero"
    assert result.limit is None and result.denied == ""
    assert "ZeroDivisionError" in result.reason


def test_output_is_cut_to_the_limit_keeping_its_end():
    limits = SandboxLimits(max_output_bytes=1000, wall_seconds=10)
    result = run("print('a' * 100_000); import sys; sys.exit('the end')", limits)
    assert result.truncated
    assert len(result.stdout) < 1200
    assert "bytes cut" in result.stdout
    assert result.stderr.strip() == "the end"
    assert result.exit_code == 1


# ------------------------------------------------------------------------- escapes


def test_no_network_not_even_the_hosts_loopback():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.5)
        port = server.getsockname()[1]
        result = run(
            f"""
            import socket
            for host in ("127.0.0.1", "192.0.2.1"):  # the host's listener; TEST-NET-1
                s = socket.socket()
                s.settimeout(3)
                try:
                    s.connect((host, {port}))
                    print(host, "connected")
                except OSError as exc:
                    print(host, type(exc).__name__, exc.errno)
            print(sorted(name for _, name in socket.if_nameindex()))
            """
        )
        with pytest.raises(TimeoutError):
            server.accept()  # nothing reached the host
    assert result.ok, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "127.0.0.1 ConnectionRefusedError 111"
    assert lines[1] == "192.0.2.1 OSError 101"  # network unreachable: no route at all
    assert lines[2] == "['lo']"
    assert result.duration_s < 5


def test_the_hosts_home_is_not_visible(tmp_path: Path):
    marker = Path.home() / f".wxai-sandbox-marker-{os.getpid()}"
    marker.write_text("secret")
    try:
        result = run(
            f"""
            import os
            print(os.path.exists({str(marker)!r}), os.path.exists({str(tmp_path)!r}))
            print(sorted(os.listdir("/")))
            open({str(marker)!r}).read()
            """
        )
    finally:
        marker.unlink()
    first, second = result.stdout.splitlines()[:2]
    assert first == "False False"
    top = Path(sys.prefix).parts[1]  # the venv's top directory (e.g. /work), bound read-only
    assert "'home'" not in second and f"'{top}'" in second
    assert result.error.startswith("FileNotFoundError")
    assert "not visible" in result.denied


def test_writes_outside_the_work_dir_fail_and_the_host_is_unchanged(tmp_path: Path):
    host_tmp = Path("/tmp") / f"wxai-sandbox-host-{os.getpid()}"
    host_tmp.write_text("host")
    try:
        result = run(
            f"""
            import os
            out = []
            for path in ("/usr/wxai-escape", "/etc/wxai-escape", {str(host_tmp)!r},
                         os.__file__):
                try:
                    with open(path, "w") as fh:
                        fh.write("pwned")
                    out.append("wrote")
                except OSError as exc:
                    out.append(type(exc).__name__)
            print(out)
            open("/tmp/private", "w").write("ok")  # the sandbox's own /tmp, in memory
            open("{WORK_DIR}/result.txt", "w").write("ok")
            """
        )
        assert host_tmp.read_text() == "host"
    finally:
        host_tmp.unlink()
    assert result.ok, result.stderr
    # /usr, /etc and the venv are read-only; the host's /tmp file is not there (the
    # sandbox has a private /tmp in memory), so the write creates a file that vanishes.
    assert result.stdout.strip() == "['OSError', 'OSError', 'wrote', 'OSError']"
    assert not Path("/usr/wxai-escape").exists() and not Path("/etc/wxai-escape").exists()
    assert result.files == {"result.txt": b"ok"}


def test_etc_shadow_cannot_be_read():
    result = run("print(open('/etc/shadow').read())")
    assert result.exit_code == 1
    assert result.error == "FileNotFoundError: [Errno 2] No such file or directory: '/etc/shadow'"
    assert result.denied


def test_host_environment_variables_are_not_visible(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WXAI_TEST_SECRET", "s3cr3t-token")
    result = run("import os; print(sorted(os.environ)); print('s3cr3t' in str(os.environ))")
    assert result.ok
    names = eval(result.stdout.splitlines()[0])  # a printed list of names
    assert "WXAI_TEST_SECRET" not in names and "WXAI_HOME" not in names
    assert set(names) <= {"HOME", "PATH", "LANG", "USER", "LOGNAME", "MPLBACKEND"} | {
        "MPLCONFIGDIR", "XDG_CACHE_HOME", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
        "MKL_NUM_THREADS", "PWD",
    }  # fmt: skip
    assert result.stdout.splitlines()[1] == "False"


def test_killing_the_parent_or_every_process_leaves_the_host_alone():
    result = run(
        """
        import os, signal
        print(os.getpid(), os.getppid(), os.getuid())
        for target in (lambda: os.kill(os.getppid(), 9), lambda: os.killpg(0, 9),
                       lambda: os.kill(-1, 9), lambda: os.kill(1, 9)):
            try:
                target()
            except OSError as exc:
                print(type(exc).__name__)
        print("still here")
        """
    )
    # The test process (this one) is alive to check: the sandbox only sees its own PIDs.
    pid, ppid, uid = result.stdout.split()[:3]
    assert int(pid) <= 3 and int(ppid) <= 2
    assert int(uid) == (65534 if os.geteuid() == 0 else os.geteuid())
    assert result.exit_code in {0, 137}  # killpg/kill(-1) may end the sandbox itself
    assert os.getpid() > 0


def test_a_fork_bomb_stops_at_the_process_limit():
    start = time.monotonic()
    result = run("import os\nwhile True:\n    os.fork()\n")
    assert time.monotonic() - start < 10
    assert result.limit == "max_processes"
    assert "Resource temporarily unavailable" in result.error
    assert "16" in result.reason


def test_allocating_4_gb_fails_at_the_memory_limit():
    result = run("x = bytearray(4 * 1024**3)")
    assert result.limit == "memory_bytes"
    assert result.error == "MemoryError"
    assert "address-space limit" in result.reason


def test_an_endless_loop_is_stopped_by_the_cpu_limit():
    limits = SandboxLimits(cpu_seconds=1, wall_seconds=10)
    result = run("while True:\n    pass\n", limits)
    assert result.limit == "cpu_seconds"
    assert result.timed_out and result.exit_code is not None
    assert "CPU-time limit of 1 s" in result.reason
    assert result.duration_s < 5


def test_a_sleeping_program_is_stopped_by_the_wall_clock_limit():
    limits = SandboxLimits(cpu_seconds=5, wall_seconds=1)
    result = run("import time\nprint('sleeping')\ntime.sleep(60)\n", limits)
    assert result.limit == "wall_seconds" and result.timed_out
    assert result.exit_code is None
    assert result.stdout == "sleeping\n"  # unbuffered: output before the kill is kept
    assert 1 <= result.duration_s < 4


def test_a_big_file_is_stopped_by_the_file_size_limit():
    limits = SandboxLimits(file_size_bytes=1 << 20, wall_seconds=10)
    result = run("open('big', 'wb').write(b'0' * (4 << 20))", limits)
    assert result.limit == "file_size_bytes"


def test_filling_the_disk_stops_at_the_disk_limit():
    limits = SandboxLimits(disk_bytes=16 << 20, file_size_bytes=8 << 20, wall_seconds=20)
    fill = (
        "import os\nfor i in range(100):\n    open(f'{}f{{i}}', 'wb').write(os.urandom(4 << 20))\n"
    )
    result = run(fill.format(""), limits)  # the work directory, on the host's disk
    assert result.limit == "disk_bytes" and result.exit_code is None
    assert "work directory grew beyond" in result.reason
    assert result.duration_s < 10
    result = run(fill.format("/tmp/"), limits)  # the sandbox's /tmp, in memory
    assert result.limit == "disk_bytes"
    assert result.error == "OSError: [Errno 28] No space left on device"


def test_links_out_of_the_work_dir_are_not_followed_when_copying_files():
    result = run("import os\nos.symlink('/etc/ld.so.cache', 'link')\nos.mkfifo('fifo')\n")
    assert result.ok
    assert result.files == {}
    assert set(result.skipped_files) == {"link", "fifo"}


# ------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("name", "value"),
    [("cpu_seconds", -1), ("wall_seconds", 0), ("memory_bytes", 1000), ("max_processes", 0)],
)
def test_bad_limits_are_config_errors(name: str, value: float):
    with pytest.raises(ConfigError, match=name):
        SandboxLimits(**{name: value})


def test_input_files_must_stay_in_the_work_dir():
    with pytest.raises(ConfigError, match="relative path"):
        run_python("pass", files={"../escape.py": b""})


def test_no_sandbox_means_no_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w').write('ran')"
    monkeypatch.setenv(BWRAP_ENV, str(tmp_path / "no-such-bwrap"))
    with pytest.raises(SandboxUnavailable, match=r"not found.*never runs generated code"):
        run_python(code)
    assert "unavailable" in sandbox_status()
    reachable = Path(tempfile.mkdtemp(dir=tmp_path.parents[2]))  # uid 65534 may run it
    reachable.chmod(0o755)
    failing = reachable / "failing-bwrap"  # a bwrap that cannot make namespaces
    failing.write_text("#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\n"
                       "exit 1\n")  # fmt: skip
    failing.chmod(0o755)
    with pytest.raises(SandboxUnavailable, match=r"No permissions.*User namespaces"):
        run_python(code, bwrap=str(failing))
    assert not marker.exists()
    shutil.rmtree(reachable)


def test_sandbox_status_says_ok_here():
    assert sandbox_status().startswith("ok: bubblewrap")


def test_the_error_line_survives_interleaved_tracebacks():
    # What a fork bomb leaves on stderr: one process's traceback cut off by another's.
    stderr = (
        "Traceback (most recent call last):\n"
        '  File "/sandbox/main.py", line 3, in <module>\n'
        "BlockingIOError: [Errno 11] Resource temporarily unavailable\n"
        "Traceback (most recent call last):\n"
        "Traceback (most recent call last):\n"
        '  File "/sandbox/main.py", line 3, in <module>\n'
    )
    assert error_line(stderr) == "BlockingIOError: [Errno 11] Resource temporarily unavailable"
    assert error_line("Traceback (most recent call last):\n  x\nKeyboardInterrupt\n") == (
        "KeyboardInterrupt"
    )
    assert error_line("Traceback (most recent call last):\n  x\nfoo.Bar: odd\n") == "foo.Bar: odd"
    assert error_line("no traceback here\n") == ""
