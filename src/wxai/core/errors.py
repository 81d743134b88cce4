"""The wxai exception tree.

Every error raised on purpose by wxai derives from :class:`WxaiError`, so a
caller (the CLI, the cockpit) can turn it into a clear message instead of a
traceback. Messages say what was wrong and what to do about it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class WxaiError(Exception):
    """Base class of all errors raised by wxai."""


class WxaiWarning(UserWarning):
    """Base class of all warnings issued by wxai."""


class ConfigError(WxaiError, ValueError):
    """A configuration or an argument is invalid: unknown key, wrong type, value out of range."""


class UnknownNameError(WxaiError, KeyError):
    """A name (lab, asset, model alias, variable, ...) is not known.

    The message lists the valid names and suggests the nearest one; ``hint``,
    if given, ends it with what to do (e.g. how to create the missing item).
    """

    def __init__(self, kind: str, name: str, valid: Iterable[str], *, hint: str = "") -> None:
        self.kind = kind
        self.name = name
        self.valid = sorted(valid)
        self.hint = hint
        super().__init__(self._message())

    def _message(self) -> str:
        msg = f"unknown {self.kind} {self.name!r}"
        nearest = difflib.get_close_matches(self.name, self.valid, n=1, cutoff=0.5)
        if nearest:
            msg += f"; did you mean {nearest[0]!r}?"
        else:
            msg += "."
        if self.valid:
            msg += f" Valid {self.kind} names: {', '.join(self.valid)}"
        if self.hint:
            msg += f"{'.' if self.valid else ''} {self.hint}"
        return msg

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self._message()


class MissingExtra(WxaiError, ImportError):
    """An optional dependency is not installed.

    Parameters
    ----------
    package:
        The import name that failed.
    extra:
        The wxai extra that provides it (``pip install 'wxai[extra]'``).
    """

    def __init__(self, package: str, extra: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{package!r} is not installed; install it with: pip install 'wxai[{extra}]'"
        )


class AssetNotFound(WxaiError, FileNotFoundError):
    """An offline asset (model weights, data) is not installed."""


class NativeBuildError(WxaiError, RuntimeError):
    """A native (Fortran/C++) kernel could not be built or loaded."""


class TaskStateError(WxaiError):
    """A task cannot make the requested state transition."""


class DataFormatError(WxaiError, ValueError):
    """A file is corrupt, truncated or not in the expected format."""


class DataTooLargeError(WxaiError, MemoryError):
    """A file's data do not fit in memory: read it lazily (in chunks) instead.

    A :class:`MemoryError`, so code that handles running out of memory still
    catches it; never a :class:`DataFormatError`, since the file is fine.
    """


class ProviderError(WxaiError, RuntimeError):
    """A language-model provider failed: unreachable, timed out, or answered garbage.

    ``provider`` names the backend (``"ollama"``, ``"openai-compatible"``, ...) so a
    caller can tell the user which service to check.
    """

    def __init__(self, provider: str, message: str) -> None:
        self.provider = provider
        super().__init__(f"{provider}: {message}")


class ProviderUnavailable(ProviderError):
    """The provider cannot be reached (connection refused, DNS, timeout)."""


class ProviderResponseError(ProviderError):
    """The provider answered with an HTTP error or a response that cannot be parsed."""


class ModelAnswerError(WxaiError, ValueError):
    """A model's answer is not in the form asked for (not JSON, unknown choices).

    The caller retries or falls back to a deterministic answer; the message says
    what was wrong so the retry prompt can name it.
    """


class InternalError(WxaiError, RuntimeError):
    """wxai broke one of its own invariants: a bug in wxai, not in the input.

    The message says what went wrong; please report it with the command that led to it.
    """


class ToolCallError(WxaiError, ValueError):
    """A model's tool call could not be used: unknown tool, or arguments invalid after a retry.

    ``attempts`` holds what was wrong with each attempt, in order.
    """

    def __init__(self, message: str, attempts: tuple[str, ...] = ()) -> None:
        self.attempts = attempts
        super().__init__(message)


class RequestNotUnderstood(WxaiError, ValueError):
    """A user's request could not be resolved: a time, place or variable it names.

    ``field`` says which part (``"time"``, ``"place"``, ``"variable"``) so an
    agent can ask a clarifying question about exactly that.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


class SandboxUnavailable(WxaiError, RuntimeError):
    """Generated code cannot be isolated here (no bubblewrap, no user namespaces).

    wxai refuses to run generated code rather than run it unsandboxed.
    """


class OutboundBlocked(WxaiError, PermissionError):
    """An outbound HTTP request was refused: host not allow-listed or a private address."""
