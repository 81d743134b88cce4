"""A coding agent: a model writes Python, the sandbox runs it, failures are fed back.

The loop is a LangGraph graph of three nodes::

    write  -> the model answers the task (or, after a failure, the task, its last
              program and the full traceback) with a program; fences are stripped
    run    -> the program runs in the bubblewrap sandbox, followed by the check
              (``check_code``: assertions run in the same process, so success is
              more than "did not crash") and a host-side ``check`` on the result
    decide -> stop on success, on a refusal by the sandbox (retrying would only try
              another way out), when the same error comes back twice in a row, or
              after ``max_attempts``; otherwise back to ``write``

Every step is an :class:`~wxai.assistant.agents.events.AgentEvent`: ``tool_called``
and ``tool_result`` for the model (``name="model"``) and the sandbox
(``name="sandbox"``), ``message`` for each decision and the stop reason.

>>> result = run_coder("Print the first 10 squares.", get_provider("local-fast"))  # doctest: +SKIP
>>> result.success, result.stop_reason, len(result.attempts)  # doctest: +SKIP
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from wxai.assistant.agents.events import AgentEvent, FinalState, emit, stream_graph
from wxai.assistant.agents.sandbox import SandboxLimits, SandboxResult, ensure_sandbox, run_python
from wxai.assistant.llm.types import LLMProvider, Message
from wxai.core.errors import ConfigError, InternalError, ProviderError

__all__ = [
    "SYSTEM_PROMPT",
    "Attempt",
    "CoderResult",
    "StopReason",
    "build_coder_graph",
    "extract_code",
    "normalise_error",
    "run_coder",
    "stream_coder",
    "trim_unfinished",
]

StopReason = Literal["success", "max_attempts", "repeated_error", "denied", "model_error"]
#: A host-side check: gets the sandbox's result, returns what is wrong ("" or None: fine).
HostCheck = Callable[[SandboxResult], "str | None"]

SYSTEM_PROMPT = (
    "You are a Python programmer. Answer with ONLY a complete Python 3 program: "
    "no markdown, no code fences, no explanations. Use only the standard library, "
    "numpy and matplotlib. The program runs without network access in its own working "
    "directory; save files there with relative names. Print results with print()."
)
#: Characters of the traceback sent back to the model (its end: the error is last).
FEEDBACK_CHARS = 2000
_SOLUTION = "solution.py"
_CHECK = "check.py"
# Runs the solution as __main__, then the check in the solution's namespace.
_RUNNER = """\
ns = {"__name__": "__main__", "__file__": "solution.py"}
exec(compile(open("solution.py").read(), "solution.py", "exec"), ns)
if __import__("os").path.exists("check.py"):
    exec(compile(open("check.py").read(), "check.py", "exec"), ns)
"""
_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)


@dataclass(frozen=True)
class Attempt:
    """One program the model wrote and what running it gave.

    Attributes
    ----------
    number:
        1 for the first attempt.
    code:
        The program as run (fences stripped).
    raw:
        The model's answer as written.
    outcome:
        The sandbox's result (``None`` when there was no code to run).
    passed:
        Whether it ran, passed the check and the host check.
    failure:
        What was wrong, in words ("" when passed); the text the model gets back.
    error:
        The normalised error (:func:`normalise_error`) used to spot repeats.
    phase:
        Where it failed: ``"solution"``, ``"check"``, ``"host check"``, ``"no code"`` or "".
    """

    number: int
    code: str
    raw: str
    outcome: SandboxResult | None
    passed: bool
    failure: str = ""
    error: str = ""
    phase: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the code, the verdict and the sandbox's summary."""
        return {
            "number": self.number,
            "code": self.code,
            "passed": self.passed,
            "failure": self.failure,
            "phase": self.phase,
            "outcome": self.outcome.summary() if self.outcome is not None else None,
            "stdout": self.outcome.stdout if self.outcome is not None else "",
        }


@dataclass(frozen=True)
class CoderResult:
    """The end of a coding-agent run.

    Attributes
    ----------
    task:
        The request.
    success:
        Whether the last attempt passed.
    stop_reason:
        Why the loop stopped (:data:`StopReason`).
    message:
        The stop reason in plain words.
    attempts:
        Every attempt, in order.
    duration_s:
        Wall-clock time of the whole run (s), model and sandbox.
    """

    task: str
    success: bool
    stop_reason: StopReason
    message: str
    attempts: tuple[Attempt, ...] = ()
    duration_s: float = 0.0

    @property
    def final_code(self) -> str:
        """The last program written ("" when none)."""
        return self.attempts[-1].code if self.attempts else ""

    @property
    def files(self) -> Mapping[str, bytes]:
        """Files produced by the last attempt (relative path -> bytes)."""
        last = self.attempts[-1].outcome if self.attempts else None
        return dict(last.files) if last is not None else {}

    @property
    def first_attempt_success(self) -> bool:
        """Whether the first program already passed."""
        return bool(self.attempts) and self.attempts[0].passed

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: verdict, every attempt, produced files by name and size."""
        return {
            "task": self.task,
            "success": self.success,
            "stop_reason": self.stop_reason,
            "message": self.message,
            "final_code": self.final_code,
            "attempts": [a.to_dict() for a in self.attempts],
            "files": {name: len(data) for name, data in self.files.items()},
            "duration_s": round(self.duration_s, 3),
        }


class CoderState(TypedDict, total=False):
    """The graph's state: all of the loop's memory, explicit."""

    task: str
    attempts: list[Attempt]
    draft: tuple[str, str]  # (code, raw answer) written by the model, not yet run
    stop_reason: StopReason
    message: str


# -------------------------------------------------------------------------- text helpers


def extract_code(answer: str) -> str:
    """The program in a model's answer: the longest fenced block if there are fences.

    >>> extract_code("Here:\\n```python\\nprint(1)\\n```\\nDone.")
    'print(1)\\n'
    """
    blocks = [body for _, body in _FENCE.findall(answer) if body.strip()]
    code = max(blocks, key=len) if blocks else answer
    lines = [line for line in code.splitlines() if not line.strip().startswith("```")]
    text = "\n".join(lines).strip("\n")
    return text + "\n" if text else ""


def trim_unfinished(code: str) -> str:
    """``code`` cut back to its longest start of whole lines that compiles.

    For answers cut at the token limit: a small model often rambles (one more
    helper, and another) until the limit cuts a line in half. Returns ``code``
    unchanged when it compiles or no shorter start does.
    """
    lines = code.splitlines()
    for end in range(len(lines), 0, -1):
        candidate = "\n".join(lines[:end]).rstrip() + "\n"
        try:
            compile(candidate, _SOLUTION, "exec")
        except (SyntaxError, ValueError):
            continue
        return candidate if candidate.strip() else code
    return code


def normalise_error(error: str) -> str:
    """A traceback's last line with numbers, addresses and quoted values blanked.

    Two failures with the same normalised error are the same failure for the loop.
    """
    text = re.sub(r"0x[0-9a-fA-F]+", "0x_", error.strip())
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'_'", text)
    return re.sub(r"\d+(\.\d+)?", "N", text)


def _feedback(attempt: Attempt) -> str:
    """The user message after a failed attempt."""
    text = attempt.failure
    if attempt.outcome is not None and attempt.outcome.traceback:
        trace = attempt.outcome.traceback
        trace = trace if len(trace) <= FEEDBACK_CHARS else "..." + trace[-FEEDBACK_CHARS:]
        text += f"\n\nThe full traceback:\n{trace}"
    return (
        f"Your program failed.\n{text}\n\n"
        "Write the complete corrected program. Only Python code, no explanations."
    )


# -------------------------------------------------------------------------- the graph


def build_coder_graph(
    provider: LLMProvider,
    *,
    max_attempts: int = 3,
    check_code: str = "",
    check: HostCheck | None = None,
    limits: SandboxLimits | None = None,
    max_tokens: int = 512,
    temperature: float = 0.0,
    system_prompt: str = SYSTEM_PROMPT,
) -> Any:
    """The write -> run -> decide loop as a compiled LangGraph graph.

    Parameters
    ----------
    provider:
        The model that writes the programs.
    max_attempts:
        Most programs written (>= 1).
    check_code:
        Python run after the program, in its namespace (e.g. ``assert abs(f(3)) < 10``);
        an exception there fails the attempt.
    check:
        Host-side check of the sandbox result (e.g. "a PNG was written"); returns
        what is wrong, or "" / ``None``.
    limits:
        Sandbox limits of each run.
    max_tokens, temperature:
        Generation settings of each program.
    system_prompt:
        The instructions; the default asks for code only.
    """
    from langgraph.graph import END, START, StateGraph

    if max_attempts < 1:
        raise ConfigError(f"max_attempts must be at least 1, got {max_attempts}")
    limits = limits or SandboxLimits()

    def write(state: CoderState) -> CoderState:
        attempts = state.get("attempts", [])
        messages = [Message.system(system_prompt), Message.user(state["task"])]
        if attempts:  # only the last attempt: small models have short contexts
            messages += [
                Message.assistant(attempts[-1].code),
                Message.user(_feedback(attempts[-1])),
            ]
        number = len(attempts) + 1
        emit("tool_called", "write", name="model", arguments={"attempt": number})
        try:
            answer = provider.chat(messages, max_tokens=max_tokens, temperature=temperature)
        except ProviderError as exc:
            emit("error", "write", message=str(exc), type=type(exc).__name__)
            return {"stop_reason": "model_error", "message": f"the model failed: {exc}"}
        raw = answer.content
        extracted = extract_code(raw)
        code = extracted
        if answer.finish_reason == "length":  # cut at max_tokens: drop the unfinished end
            code = trim_unfinished(extracted)
        emit(
            "tool_result",
            "write",
            name="model",
            result={
                "attempt": number,
                "code": code,
                "fences_stripped": "```" in raw,
                "trimmed": code != extracted,
            },
        )
        return {"draft": (code, raw)}

    def run(state: CoderState) -> CoderState:
        code, raw = state["draft"]
        attempts = list(state.get("attempts", []))
        number = len(attempts) + 1
        if not code.strip():
            attempt = Attempt(
                number, code, raw, None, False, "The answer held no code.", "no code", "no code"
            )
        else:
            emit(
                "tool_called",
                "run",
                name="sandbox",
                arguments={"attempt": number, "limits": limits.to_dict()},
            )
            files = {_SOLUTION: code, **({_CHECK: check_code} if check_code else {})}
            outcome = run_python(_RUNNER, files=files, limits=limits)
            attempt = _judge(number, code, raw, outcome, check)
            emit(
                "tool_result",
                "run",
                name="sandbox",
                result={**outcome.summary(), "attempt": number, "passed": attempt.passed,
                        "phase": attempt.phase, "failure": attempt.failure,
                        "traceback": outcome.traceback, "stdout": outcome.stdout[-2000:]},
            )  # fmt: skip
        return {"attempts": [*attempts, attempt]}

    def decide(state: CoderState) -> CoderState:
        attempts = state["attempts"]
        last = attempts[-1]
        reason: StopReason | None = None
        if last.passed:
            reason, message = "success", f"attempt {last.number} passed"
        elif last.outcome is not None and last.outcome.denied:
            reason = "denied"
            message = f"the sandbox refused: {last.outcome.denied} ({last.outcome.error})"
        elif len(attempts) >= 2 and last.error and last.error == attempts[-2].error:
            reason = "repeated_error"
            message = f"the same error twice in a row: {last.failure.splitlines()[0]}"
        elif len(attempts) >= max_attempts:
            reason, message = "max_attempts", f"no passing program in {max_attempts} attempts"
        if reason is None:
            emit("message", "decide", text=f"attempt {last.number} failed; asking for a fix",
                 attempt=last.number, failure=last.failure)  # fmt: skip
            return {}
        emit("message", "decide", text=f"stopped: {message}", stop_reason=reason)
        return {"stop_reason": reason, "message": message}

    def after_write(state: CoderState) -> str:
        return END if state.get("stop_reason") else "run"

    def after_decide(state: CoderState) -> str:
        return END if state.get("stop_reason") else "write"

    graph = StateGraph(CoderState)
    graph.add_node("write", write)
    graph.add_node("run", run)
    graph.add_node("decide", decide)
    graph.add_edge(START, "write")
    graph.add_conditional_edges("write", after_write, ["run", END])
    graph.add_edge("run", "decide")
    graph.add_conditional_edges("decide", after_decide, ["write", END])
    return graph.compile()


def _judge(
    number: int, code: str, raw: str, outcome: SandboxResult, check: HostCheck | None
) -> Attempt:
    """The attempt's verdict: did the program run, pass the check code and the host check?"""
    if not outcome.ok:
        trace = outcome.traceback
        in_check = f'File "{_CHECK}"' in trace and trace.rfind(_CHECK) > trace.rfind(_SOLUTION)
        phase = "check" if in_check else "solution"
        what = "It ran but failed the check" if in_check else "It failed"
        detail = outcome.error or outcome.reason
        if outcome.limit:
            detail = outcome.reason
        elif outcome.denied:
            detail = f"{outcome.error} ({outcome.denied})"
        failure = f"{what}: {detail}"
        return Attempt(number, code, raw, outcome, False, failure, normalise_error(detail), phase)
    problem = check(outcome) if check is not None else None
    if problem:
        failure = f"It ran but the result is wrong: {problem}"
        return Attempt(
            number, code, raw, outcome, False, failure, normalise_error(problem), "host check"
        )
    return Attempt(number, code, raw, outcome, True)


# -------------------------------------------------------------------------- entry points


#: Longest task accepted [characters]: more would not fit the small model's context.
MAX_TASK_CHARS = 4000

_NAMED_FILE = re.compile(
    r"\b([\w-]+\.(?:png|jpe?g|svg|pdf|csv|txt|json|nc|grib2?|zarr|npy|html|md))\b",
    re.IGNORECASE,
)


def named_files_check(task: str) -> HostCheck | None:
    """A host check that the files a task names ("save it as surface.png") were written.

    Without it "success" would only mean "did not crash"; None when the task
    names no file.
    """
    names = sorted({m.group(1) for m in _NAMED_FILE.finditer(task)})
    if not names:
        return None

    def check(outcome: SandboxResult) -> str:
        missing = [n for n in names if n not in outcome.files]
        return f"the program did not write {', '.join(missing)}" if missing else ""

    return check


def stream_coder(
    task: str, provider: LLMProvider, **options: Any
) -> Iterator[AgentEvent | CoderResult]:
    """Run the loop, yielding each :class:`AgentEvent` and finally the :class:`CoderResult`.

    ``options`` are those of :func:`build_coder_graph`.

    Raises
    ------
    SandboxUnavailable
        Before the model is asked anything, when code cannot be sandboxed here.
    """
    if not task.strip():
        raise ConfigError("the coding task is empty: say what the program should do")
    if len(task) > MAX_TASK_CHARS:
        raise ConfigError(
            f"the coding task has {len(task):,} characters; the limit is {MAX_TASK_CHARS:,}. "
            "Describe the program in a few sentences"
        )
    ensure_sandbox()
    max_attempts = int(options.get("max_attempts", 3))
    if options.get("check") is None:
        options["check"] = named_files_check(task)
    graph = build_coder_graph(provider, **options)
    start = time.monotonic()
    final: Mapping[str, Any] = {}
    config = {"recursion_limit": 3 * max_attempts + 5}
    for item in stream_graph(graph, {"task": task, "attempts": []}, config=config):
        if isinstance(item, FinalState):
            final = item.state
        else:
            yield item
    attempts = tuple(final.get("attempts", ()))
    reason: StopReason = final.get("stop_reason", "max_attempts")
    yield CoderResult(
        task=task,
        success=reason == "success",
        stop_reason=reason,
        message=final.get("message", ""),
        attempts=attempts,
        duration_s=time.monotonic() - start,
    )


def run_coder(
    task: str,
    provider: LLMProvider,
    *,
    on_event: Callable[[AgentEvent], None] | None = None,
    **options: Any,
) -> CoderResult:
    """Run the loop to its end; ``on_event`` sees every event as it happens.

    See :func:`stream_coder` and :func:`build_coder_graph` for the options.
    """
    result: CoderResult | None = None
    for item in stream_coder(task, provider, **options):
        if isinstance(item, CoderResult):
            result = item
        elif on_event is not None:
            on_event(item)
    if result is None:  # stream_coder always ends with the result
        raise InternalError("the coding loop ended without a result; please report this bug")
    return result
