"""wxai raises only errors from its own tree (:class:`wxai.core.errors.WxaiError`).

A bare builtin (``raise ValueError(...)``) cannot be told apart from a bug in a
library, so the CLI and the cockpit cannot turn it into a clear message. This
test reads every module under ``src/wxai`` and fails on each such raise, naming
the file and line and the fix: use (or add) a subclass in ``wxai/core/errors.py``.
"""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

import wxai

SOURCE = Path(wxai.__file__).parent

# Every package is checked, the cockpit included (its HTTPException raises are FastAPI's
# answers, not builtin exceptions, so they pass).
SKIPPED_DIRS: tuple[str, ...] = ()

# The only builtin exceptions a wxai module may raise by name, and where:
# - AssertionError marks code that cannot be reached (``raise AssertionError("unreachable")``),
#   like an ``assert``: a bug in wxai, never something a user caused.
# - NotImplementedError belongs in the body of an ``@abstractmethod``.
ALLOWED_ANYWHERE = frozenset({"AssertionError"})
ALLOWED_IN_ABSTRACT = frozenset({"NotImplementedError"})

BUILTIN_EXCEPTIONS = frozenset(
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)


def _raised_name(node: ast.Raise) -> str | None:
    """The builtin exception name ``node`` raises (``raise X`` or ``raise X(...)``), if any."""
    target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    if isinstance(target, ast.Name) and target.id in BUILTIN_EXCEPTIONS:
        return target.id
    return None


def _is_abstract(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether ``function`` is decorated ``@abstractmethod`` or ``@abc.abstractmethod``."""
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Attribute) and decorator.attr == "abstractmethod":
            return True
        if isinstance(decorator, ast.Name) and decorator.id == "abstractmethod":
            return True
    return False


def builtin_raises(tree: ast.AST) -> list[tuple[int, str]]:
    """``(line, name)`` of every raise of a builtin exception the allow-lists do not cover."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, abstract: bool) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            abstract = _is_abstract(node)
        if isinstance(node, ast.Raise) and node.exc is not None:
            name = _raised_name(node)
            allowed = name in ALLOWED_ANYWHERE or (abstract and name in ALLOWED_IN_ABSTRACT)
            if name is not None and not allowed:
                found.append((node.lineno, name))
        for child in ast.iter_child_nodes(node):
            visit(child, abstract)

    visit(tree, False)
    return found


def _modules() -> list[Path]:
    return [
        path
        for path in sorted(SOURCE.rglob("*.py"))
        if path.relative_to(SOURCE).parts[0] not in SKIPPED_DIRS
    ]


def test_no_module_raises_a_bare_builtin_exception() -> None:
    offenders = [
        f"{path.relative_to(SOURCE.parent)}:{line}: raise {name}"
        for path in _modules()
        for line, name in builtin_raises(ast.parse(path.read_text(), filename=str(path)))
    ]
    assert not offenders, (
        "raise a subclass of wxai.core.errors.WxaiError instead (ConfigError for a bad "
        "argument, DataFormatError for a bad file, ...; add one to wxai/core/errors.py, "
        "deriving from the builtin too, if none fits):\n" + "\n".join(offenders)
    )


def test_the_check_finds_builtin_raises() -> None:
    code = """
import abc

def f(x):
    if x:
        raise ValueError("bad x")
    raise KeyError
    raise ConfigError("fine")
    raise AssertionError("unreachable")

class Base(abc.ABC):
    @abc.abstractmethod
    def g(self):
        raise NotImplementedError

def h():
    raise NotImplementedError("not abstract")

def k():
    try:
        pass
    except OSError as exc:
        raise RuntimeError("wrapped") from exc
    raise exc

def route():
    raise HTTPException(404, "no such session of yours")
    raise fastapi.HTTPException(status.HTTP_400_BAD_REQUEST, "bad")
    raise PermissionError
"""
    assert builtin_raises(ast.parse(code)) == [
        (6, "ValueError"),
        (7, "KeyError"),
        (17, "NotImplementedError"),
        (23, "RuntimeError"),
        (29, "PermissionError"),
    ]


def test_the_check_reads_the_source_tree() -> None:
    modules = _modules()
    assert (SOURCE / "core" / "errors.py") in modules
    assert (SOURCE / "cockpit" / "routers" / "sessions.py") in modules
    assert (SOURCE / "cockpit" / "accounts.py") in modules
