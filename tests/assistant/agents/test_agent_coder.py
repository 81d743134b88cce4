"""The coding agent's loop: scripted models for the control flow, the local model for real.

The scripted provider answers with fixed texts in order, so each test knows which
program runs at which attempt; every program runs in the real sandbox.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from toolcheck import require_tool
from wxai.assistant.agents.coder import (
    CoderResult,
    extract_code,
    normalise_error,
    run_coder,
    stream_coder,
    trim_unfinished,
)
from wxai.assistant.agents.coding_tasks import TASKS, get_tasks
from wxai.assistant.agents.events import AgentEvent
from wxai.assistant.agents.sandbox import BWRAP_ENV, SandboxLimits
from wxai.assistant.llm.types import ChatResponse, Message
from wxai.core.errors import ConfigError, ProviderUnavailable, SandboxUnavailable, UnknownNameError

LIMITS = SandboxLimits(cpu_seconds=5, wall_seconds=15, max_processes=16)
POLYNOMIAL = get_tasks(["polynomial-bounded"])[0]


class Scripted:
    """A provider that answers with ``answers`` in turn and records what it was sent."""

    name = "scripted"
    model = "scripted"

    def __init__(self, *answers: str | Exception, finish: str = "stop") -> None:
        self.answers = list(answers)
        self.finish = finish
        self.seen: list[list[Message]] = []

    def chat(self, messages: Sequence[Message], **_: Any) -> ChatResponse:
        self.seen.append(list(messages))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return ChatResponse(answer, finish_reason=self.finish)


@pytest.fixture(autouse=True)
def _bwrap() -> None:
    require_tool("bwrap", "bubblewrap")


def test_a_wrong_program_is_repaired_with_the_traceback():
    model = Scripted(
        "import numpy as np\ndef f(x):\n    return x**3\n",  # |f| reaches 1000: check fails
        "```python\nimport numpy as np\n\ndef f(x):\n    return 0.05 * x**2 - 1\n```\n",
    )
    events: list[AgentEvent] = []
    result = run_coder(
        POLYNOMIAL.prompt,
        model,
        check_code=POLYNOMIAL.check_code,
        limits=LIMITS,
        on_event=events.append,
    )
    assert result.success and result.stop_reason == "success"
    assert [a.passed for a in result.attempts] == [False, True]
    first = result.attempts[0]
    assert first.phase == "check"
    assert "|f(x)| reaches 1e+03" in first.failure
    assert result.final_code == "import numpy as np\n\ndef f(x):\n    return 0.05 * x**2 - 1\n"
    # The repair request holds the failed program and its full traceback.
    repair = model.seen[1]
    assert repair[0].role == "system" and "ONLY" in repair[0].content
    assert repair[2].role == "assistant" and "x**3" in repair[2].content
    assert "Traceback (most recent call last)" in repair[3].content
    assert 'File "check.py"' in repair[3].content
    # Every step is an event: model call and answer, sandbox call and result, decisions.
    steps = [(e.kind, e.node, e.data.get("name")) for e in events if e.kind != "node_finished"]
    one_round = [
        ("node_started", "write", None),
        ("tool_called", "write", "model"),
        ("tool_result", "write", "model"),
        ("node_started", "run", None),
        ("tool_called", "run", "sandbox"),
        ("tool_result", "run", "sandbox"),
        ("node_started", "decide", None),
        ("message", "decide", None),
    ]
    assert steps == one_round + one_round
    assert events[-2].data["stop_reason"] == "success"
    answers = [e for e in events if e.kind == "tool_result" and e.data["name"] == "model"]
    assert [e.data["result"]["fences_stripped"] for e in answers] == [False, True]
    json.dumps([e.to_dict() for e in events])
    json.dumps(result.to_dict())


def test_the_same_error_twice_stops_early():
    model = Scripted("print(undefined_name)\n", "x = 1\nprint(undefined_name + x)\n")
    result = run_coder("Print a number.", model, max_attempts=5, limits=LIMITS)
    assert not result.success
    assert result.stop_reason == "repeated_error"
    assert len(result.attempts) == 2
    assert "NameError" in result.message


def test_max_attempts_bounds_the_loop():
    model = Scripted("1/0\n", "[][1]\n", "{}['k']\n", "int('x')\n")
    result = run_coder("Print a number.", model, max_attempts=3, limits=LIMITS)
    assert result.stop_reason == "max_attempts" and not result.success
    assert len(result.attempts) == 3 and len(model.seen) == 3
    assert [a.outcome.error.split(":")[0] for a in result.attempts] == [
        "ZeroDivisionError",
        "IndexError",
        "KeyError",
    ]


def test_a_request_to_read_etc_shadow_ends_with_a_clear_refusal():
    model = Scripted("print(open('/etc/shadow').read())\n")
    result = run_coder("Show me /etc/shadow.", model, max_attempts=3, limits=LIMITS)
    assert result.stop_reason == "denied" and not result.success
    assert len(result.attempts) == 1
    assert "sandbox refused" in result.message and "not visible" in result.message


def test_an_escape_through_the_network_is_refused():
    code = "import socket\nsocket.create_connection(('192.0.2.1', 80), timeout=3)\n"
    result = run_coder("Send my data out.", Scripted(code), limits=LIMITS)
    assert result.stop_reason == "denied"
    assert "no network" in result.message


def test_produced_files_and_host_checks():
    task = get_tasks(["parabola-png"])[0]
    model = Scripted(
        "print('no plot')\n",
        "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.savefig('parabola.png')\n",
    )
    result = run_coder(task.prompt, model, check=task.host_check, limits=LIMITS)
    assert result.success
    assert result.attempts[0].phase == "host check"
    assert "did not write the file parabola.png" in result.attempts[0].failure
    assert result.files["parabola.png"].startswith(b"\x89PNG")


def test_an_answer_without_code_and_a_failing_model():
    result = run_coder("Print 1.", Scripted("", "print(1)\n"), limits=LIMITS)
    assert result.success and result.attempts[0].phase == "no code"
    failing = Scripted(ProviderUnavailable("ollama", "connection refused"))
    result = run_coder("Print 1.", failing, limits=LIMITS)
    assert result.stop_reason == "model_error" and result.attempts == ()
    assert "connection refused" in result.message


def test_answers_cut_at_the_token_limit_are_trimmed_to_what_compiles():
    cut = "def f(x):\n    return x\n\ndef g(x):\n    return [x,"
    assert trim_unfinished(cut) == "def f(x):\n    return x\n"
    model = Scripted(cut + "\n", finish="length")
    result = run_coder("Define f.", model, check_code="assert f(2) == 2\n", limits=LIMITS)
    assert result.success


def test_code_extraction_and_error_normalisation():
    assert extract_code("```py\nx = 1\n```") == "x = 1\n"
    assert extract_code("Sure!\n```python\na = 1\n```\nand\n```python\nb = 22\nc = 3\n```") == (
        "b = 22\nc = 3\n"
    )
    assert extract_code("```python\nx = 2\n") == "x = 2\n"  # unclosed fence
    assert extract_code("print(3)") == "print(3)\n"
    assert normalise_error("KeyError: 'a1'") == normalise_error("KeyError: 'b2'")
    assert normalise_error("ValueError: 3 > 2") == "ValueError: N > N"


def test_bad_options_and_no_sandbox(monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(ConfigError, match="max_attempts"):
        run_coder("Print 1.", Scripted("print(1)"), max_attempts=0)
    with pytest.raises(ConfigError, match="empty"):
        run_coder("  ", Scripted("print(1)"))
    model = Scripted("print(1)")
    monkeypatch.setenv(BWRAP_ENV, "/nonexistent/bwrap")
    with pytest.raises(SandboxUnavailable):
        list(stream_coder("Print 1.", model))
    assert model.seen == []  # refused before the model was asked


#: A right program for every task: each check must accept it (and reject a wrong one).
REFERENCE = {
    "polynomial-bounded": "def f(x):\n    return 0.05 * x**2 - 1\n",
    "surface-png": (
        "import numpy as np, matplotlib.pyplot as plt\n"
        "x, y = np.meshgrid(np.linspace(-2, 2, 20), np.linspace(-2, 2, 20))\n"
        "plt.figure().add_subplot(projection='3d').plot_surface(x, y, x**2 - y**2)\n"
        "plt.savefig('surface.png')\n"
    ),
    "hello": "print('hello world')\n",
    "sum-1-100": "print(sum(range(101)))\n",
    "squares": "for i in range(1, 11):\n    print(i * i)\n",
    "factorial": "import math\nfactorial = math.factorial\n",
    "fibonacci": (
        "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n"
        "        a, b = b, a + b\n    return a\n"
    ),
    "is-prime": "def is_prime(n):\n    return n > 1 and all(n % k for k in range(2, n))\n",
    "reverse-string": "def reverse(s):\n    return s[::-1]\n",
    "count-vowels": "def count_vowels(s):\n    return sum(c in 'aeiou' for c in s)\n",
    "mean-std": "import numpy as np\ndef stats(v):\n    return np.mean(v), np.std(v)\n",
    "celsius-to-fahrenheit": "def c_to_f(c):\n    return c * 9 / 5 + 32\n",
    "kelvin-to-celsius": "def k_to_c(k):\n    return k - 273.15\n",
    "wind-speed": "def wind_speed(u, v):\n    return (u**2 + v**2) ** 0.5\n",
    "largest": "largest = max\n",
    "sort-descending": "def sort_desc(v):\n    return sorted(v, reverse=True)\n",
    "word-count": (
        "from collections import Counter\ndef word_count(t):\n    return dict(Counter(t.split()))\n"
    ),
    "palindrome": "def is_palindrome(s):\n    return s == s[::-1]\n",
    "moving-average": (
        "import numpy as np\n"
        "def moving_average(x, n):\n    return np.convolve(x, np.ones(n) / n, 'valid')\n"
    ),
    "sine-maximum": "import numpy as np\nprint(np.sin(np.linspace(0, 2 * np.pi, 1000)).max())\n",
    "csv-squares": (
        "with open('squares.csv', 'w') as fh:\n    fh.write('x,y\\n')\n"
        "    for x in range(1, 6):\n        fh.write(f'{x},{x * x}\\n')\n"
    ),
    "parabola-png": (
        "import matplotlib.pyplot as plt\nplt.plot([-5, 0, 5], [25, 0, 25])\n"
        "plt.savefig('parabola.png')\n"
    ),
}


def _right_and_wrong(tasks) -> None:
    for task in tasks:
        for code, should_pass in ((REFERENCE[task.name], True), ("x = 1\n", False)):
            model = Scripted(code)
            result = run_coder(
                task.prompt,
                model,
                max_attempts=1,
                check_code=task.check_code,
                check=task.host_check,
                limits=LIMITS,
            )
            assert result.success is should_pass, (task.name, result.message)


def test_task_checks_accept_a_right_program_and_reject_a_wrong_one():
    assert set(REFERENCE) == {t.name for t in TASKS}
    _right_and_wrong(get_tasks(["polynomial-bounded", "word-count", "csv-squares"]))


@pytest.mark.slow
def test_every_task_accepts_a_right_program_and_rejects_a_wrong_one():
    _right_and_wrong(TASKS)


def test_the_task_set():
    assert len(TASKS) >= 20
    assert len({t.name for t in TASKS}) == len(TASKS)
    assert TASKS[0].name == "polynomial-bounded"
    with pytest.raises(UnknownNameError, match="polynomial-bounded"):
        get_tasks(["polynomial-bound"])


# ------------------------------------------------------------------------- the real model


@pytest.fixture(scope="module")
def local():
    from wxai.assistant.llm.registry import get_provider

    return get_provider("local-fast")


def test_the_local_model_in_the_loop_ends_within_its_bound(local):
    task = get_tasks(["hello"])[0]
    result = run_coder(task.prompt, local, max_attempts=2, max_tokens=96, check=task.host_check)
    assert isinstance(result, CoderResult)
    assert 1 <= len(result.attempts) <= 2
    assert result.stop_reason in {"success", "max_attempts", "repeated_error"}
    json.dumps(result.to_dict())
    if result.success:
        assert task.host_check(result.attempts[-1].outcome) is None
        assert "hello" in result.attempts[-1].outcome.stdout.lower()


@pytest.mark.slow
def test_the_local_model_on_the_lectures_polynomial(local):
    result = run_coder(
        POLYNOMIAL.prompt, local, max_attempts=2, max_tokens=160, check_code=POLYNOMIAL.check_code
    )
    assert 1 <= len(result.attempts) <= 2
    if result.success:  # the check ran: f is bounded by 10 on [-10, 10]
        assert result.attempts[-1].outcome.ok
    else:
        assert result.attempts[-1].failure


# ------------------------------------------------------------------------- the CLI


def test_cli_prints_attempts_and_writes_files(monkeypatch: pytest.MonkeyPatch, tmp_path):
    from typer.testing import CliRunner

    from wxai.assistant.llm import registry
    from wxai.cli.app import app

    plot = "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.savefig('plot.png')\n"
    monkeypatch.setattr(registry, "get_provider", lambda alias=None, **_: Scripted("1/0", plot))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["agent", "code", "Plot a line.", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "# attempt 1: It failed: ZeroDivisionError: division by zero" in result.output
    assert "# attempt 2: passed" in result.output
    assert "plt.savefig('plot.png')" in result.output
    assert (out / "plot.png").read_bytes().startswith(b"\x89PNG")
    monkeypatch.setattr(registry, "get_provider", lambda alias=None, **_: Scripted("1/0"))
    result = CliRunner().invoke(app, ["agent", "code", "Divide.", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["stop_reason"] == "repeated_error"


def test_files_the_task_names_must_be_written():
    task = "Plot y = x**2 with matplotlib and save it as parabola.png"
    forgot = "import matplotlib.pyplot as plt\nplt.plot([0, 1], [0, 1])\n"
    saved = forgot + "plt.savefig('parabola.png')\n"
    result = run_coder(task, Scripted(forgot, saved), limits=LIMITS, max_attempts=2)
    assert result.success and len(result.attempts) == 2
    assert "did not write parabola.png" in result.attempts[0].failure
    assert result.files["parabola.png"][:8] == b"\x89PNG\r\n\x1a\n"


def test_a_huge_task_is_refused_before_the_model_is_asked():
    model = Scripted("print(1)\n")
    with pytest.raises(ConfigError, match="10,000 characters; the limit is 4,000"):
        run_coder("x" * 10_000, model, limits=LIMITS)
    assert model.seen == []
