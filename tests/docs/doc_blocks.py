"""Fenced code blocks of the Markdown docs, with their test markers.

A marker is an HTML comment on the line just above a fence (invisible when rendered):

``<!-- test: run -->``
    before a shell block (```` ```bash ````, ```` ```sh ````, ```` ```console ````): the
    test suite runs its commands.
``<!-- test: skip REASON -->``
    before a ```` ```python ```` block: the suite does not run it; the reason is required.

Every Python block without a skip marker is run. Markers in any other place, a skip
without a reason or an unknown marker are reported as problems (see :func:`parse_markdown`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SHELL_LANGUAGES = frozenset({"bash", "sh", "console"})
PYTHON_LANGUAGES = frozenset({"python", "py"})

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)")
_MARKER = re.compile(r"^\s*<!--\s*test:(?P<body>.*?)-->\s*$")
_ANY_TEST_COMMENT = re.compile(r"<!--\s*test\b")
_INLINE_CODE = re.compile(r"(`+).*?\1")  # a marker quoted in prose is no marker


@dataclass(frozen=True)
class DocBlock:
    """One fenced code block.

    ``line`` is the 1-based line of the opening fence; ``code`` is the block's text,
    dedented by the fence's indentation; ``marker`` is ``"run"``, ``"skip"`` or ``None``.
    """

    path: Path
    line: int
    language: str
    code: str
    marker: str | None = None
    reason: str = ""

    @property
    def where(self) -> str:
        """``file:line`` relative to the repository, the block's test id."""
        try:
            name = self.path.resolve().relative_to(REPO)
        except ValueError:
            name = self.path
        return f"{name}:{self.line}"

    @property
    def is_shell(self) -> bool:
        return self.language in SHELL_LANGUAGES

    @property
    def is_python(self) -> bool:
        return self.language in PYTHON_LANGUAGES

    def shell_script(self) -> str:
        """The block as a bash script whose line numbers match the block's lines.

        In a ``console`` block only the lines starting with ``$ `` are commands (the
        others, output, become empty lines so numbering is kept).
        """
        if self.language != "console":
            return self.code
        lines = []
        for text in self.code.splitlines():
            stripped = text.lstrip()
            lines.append(stripped[2:] if stripped.startswith("$ ") else "")
        return "\n".join(lines) + "\n"


def _parse_marker(body: str) -> tuple[str | None, str, str | None]:
    """``(marker, reason, problem)`` of a marker comment's text after ``test:``."""
    words = body.strip().split(maxsplit=1)
    kind = words[0] if words else ""
    reason = words[1].strip() if len(words) > 1 else ""
    if kind == "run":
        if reason:
            return None, "", f"'test: run' takes no argument, got {reason!r}"
        return "run", "", None
    if kind == "skip":
        if not reason:
            return None, "", "'test: skip' needs a reason: <!-- test: skip WHY -->"
        return "skip", reason, None
    return None, "", f"unknown test marker {body.strip()!r} (use 'run' or 'skip REASON')"


def parse_markdown(path: Path, text: str | None = None) -> tuple[list[DocBlock], list[str]]:
    """All fenced blocks of a Markdown file and the marker problems found in it.

    A problem is a string ``"file:line: what is wrong"``: a skip marker without a
    reason, an unknown marker, a marker not directly above a fence, a ``run`` marker
    on a block that is not a shell block, a ``skip`` marker on a non-Python block, or
    an unclosed fence.
    """
    lines = (path.read_text(encoding="utf-8") if text is None else text).splitlines()
    blocks: list[DocBlock] = []
    problems: list[str] = []
    pending: tuple[int, str | None, str] | None = None  # (line, marker, reason)

    def complain(line: int, message: str) -> None:
        name = DocBlock(path, line, "", "").where
        problems.append(f"{name}: {message}")

    index = 0
    while index < len(lines):
        text_line = lines[index]
        number = index + 1
        marker_match = _MARKER.match(text_line)
        fence_match = _FENCE.match(text_line)
        if marker_match:
            if pending is not None:
                complain(pending[0], "test marker not directly above a code fence")
            marker, reason, problem = _parse_marker(marker_match.group("body"))
            if problem:
                complain(number, problem)
                pending = None
            else:
                pending = (number, marker, reason)
            index += 1
            continue
        if _ANY_TEST_COMMENT.search(_INLINE_CODE.sub("", text_line)):
            complain(number, "a test marker must be alone on its line, just above the fence")
        if fence_match:
            fence = fence_match.group("fence")
            indent = fence_match.group("indent")
            language = fence_match.group("lang").lower()
            body: list[str] = []
            close = index + 1
            while close < len(lines):
                closing = lines[close].strip()
                if closing.startswith(fence[0] * len(fence)) and not closing.strip(fence[0]):
                    break
                body.append(lines[close])
                close += 1
            else:
                complain(number, "code fence is never closed")
            marker, reason = (pending[1], pending[2]) if pending else (None, "")
            code = "".join(line.removeprefix(indent) + "\n" for line in body)
            block = DocBlock(path, number, language, code, marker, reason)
            if marker == "run" and not block.is_shell:
                complain(
                    number, f"'test: run' marks a {language or 'plain'} block, not a shell one"
                )
            if marker == "skip" and not block.is_python:
                complain(number, f"'test: skip' marks a {language or 'plain'} block, not Python")
            blocks.append(block)
            pending = None
            index = close + 1
            continue
        if pending is not None and text_line.strip():
            complain(pending[0], "test marker not directly above a code fence")
            pending = None
        elif pending is not None:
            complain(pending[0], "test marker not directly above a code fence (blank line)")
            pending = None
        index += 1
    if pending is not None:
        complain(pending[0], "test marker not directly above a code fence")
    return blocks, problems


def doc_files(repo: Path = REPO) -> list[Path]:
    """README.md and the guides directly in docs/ (not docs/reference/), sorted."""
    return [repo / "README.md", *sorted((repo / "docs").glob("*.md"))]


def collect(repo: Path = REPO) -> tuple[list[DocBlock], list[str]]:
    """Blocks and marker problems of every documentation file."""
    blocks: list[DocBlock] = []
    problems: list[str] = []
    for path in doc_files(repo):
        found, issues = parse_markdown(path)
        blocks.extend(found)
        problems.extend(issues)
    return blocks, problems
