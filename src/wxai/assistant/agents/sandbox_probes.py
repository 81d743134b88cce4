"""Escape attempts run in the sandbox, to show it still isolates (lab, ``doctor``, docs).

Each probe runs a short program that tries to get out and reports what happened;
:func:`probe_isolation` returns, per probe, whether the sandbox held. The test
suite (``tests/assistant/agents/test_agent_sandbox.py``) asserts the same and more
in detail; these probes are the quick, self-contained version a lab can record.
"""

from __future__ import annotations

import ast
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from wxai.assistant.agents.sandbox import SandboxLimits, run_python

__all__ = ["Probe", "probe_isolation"]


@dataclass(frozen=True)
class Probe:
    """One escape attempt and its result.

    Attributes
    ----------
    name:
        What was tried (``network``, ``host-home``, ...).
    held:
        Whether the sandbox stopped it.
    detail:
        What the program saw, or which limit stopped it.
    """

    name: str
    held: bool
    detail: str


def probe_isolation(limits: SandboxLimits | None = None) -> list[Probe]:
    """Run the escape attempts; each :class:`Probe` says whether the sandbox held.

    Probes: network (connect to the host's loopback, list interfaces), host home
    (``~`` of this process), host environment (a random variable set here), write to
    ``/usr``, read ``/etc/shadow``, fork bomb (process limit), 4 GB allocation
    (address-space limit), endless loop (CPU limit).

    Raises
    ------
    SandboxUnavailable
        No sandbox can be made here.
    """
    limits = limits or SandboxLimits(
        cpu_seconds=2, wall_seconds=10, max_processes=16, memory_bytes=1 << 30
    )
    home = Path.home()
    secret = f"WXAI_PROBE_{secrets.token_hex(4).upper()}"
    probes = []

    result = run_python(
        "import socket\ns = socket.socket()\ns.settimeout(2)\n"
        "try:\n    s.connect(('127.0.0.1', 22)); print('connected')\n"
        "except OSError as exc:\n    print(type(exc).__name__)\n"
        "print(sorted(n for _, n in socket.if_nameindex()))\n",
        limits=limits,
    )
    lines = result.stdout.split("\n")
    held = result.ok and "connected" not in lines and "['lo']" in lines
    probes.append(Probe("network", held, result.stdout.strip() or result.reason))

    # The home may hold the Python prefix (a pyenv under /root): that path alone is bound.
    allowed = {
        Path(root).relative_to(home).parts[0]
        for root in {sys.prefix, sys.base_prefix}
        if Path(root).is_relative_to(home) and Path(root) != home
    }
    result = run_python(
        f"import os\nprint(sorted(os.listdir({str(home)!r})) if os.path.isdir({str(home)!r}) "
        "else [])\n",
        limits=limits,
    )
    seen = result.stdout.strip()
    held = result.ok and set(_names(seen)) <= allowed
    probes.append(Probe("host-home", held, f"{home} in the sandbox holds {seen}"))

    os.environ[secret] = "1"
    try:
        result = run_python(f"import os\nprint({secret!r} in os.environ)\n", limits=limits)
    finally:
        del os.environ[secret]
    probes.append(Probe("host-env", result.stdout.strip() == "False", result.stdout.strip()))

    result = run_python("open('/usr/wxai-probe', 'w')\n", limits=limits)
    probes.append(Probe("write-usr", result.exit_code == 1 and bool(result.denied), result.error))

    result = run_python("print(open('/etc/shadow').read())\n", limits=limits)
    probes.append(Probe("etc-shadow", result.exit_code == 1 and not result.stdout, result.error))

    result = run_python("import os\nwhile True:\n    os.fork()\n", limits=limits)
    probes.append(Probe("fork-bomb", result.limit == "max_processes", result.reason))

    result = run_python("x = bytearray(4 * 1024**3)\n", limits=limits)
    probes.append(Probe("memory-4gb", result.limit == "memory_bytes", result.reason))

    result = run_python("while True:\n    pass\n", limits=limits)
    probes.append(Probe("endless-loop", result.timed_out, result.reason))
    return probes


def _names(printed: str) -> list[str]:
    """The names of a printed list of strings ("" or junk: no names)."""
    try:
        value = ast.literal_eval(printed)
    except (ValueError, SyntaxError):
        return ["<unreadable>"]
    return [str(v) for v in value] if isinstance(value, list) else ["<unreadable>"]
