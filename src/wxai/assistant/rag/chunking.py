"""Split text into overlapping chunks that keep their line numbers.

Everything the retrieval engine ingests is first turned into *units*: a line of a
text file, a block of an HTML page, a line of extracted PDF text. A unit carries the
number of the source line it starts on. :func:`chunk_units` packs consecutive units
into chunks of at most ``chunk_chars`` characters and starts each new chunk a few
units back, so that about ``overlap_chars`` characters are shared between
neighbours. A chunk therefore always covers whole units and its line range is exact.
A unit longer than ``chunk_chars`` (a minified line) is cut into pieces that all
keep the unit's line number.

:func:`markdown_sections` groups the lines of a Markdown file by heading, with the
heading path (``"Install > From source"``) as the section name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from wxai.core.errors import ConfigError

__all__ = ["Piece", "Unit", "chunk_units", "markdown_sections", "numbered_lines"]

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class Unit:
    """A piece of text that is never split across chunks (unless itself too long).

    Attributes
    ----------
    text:
        The text, without a trailing newline.
    line:
        1-based number of the source line the unit starts on, or None when the
        source has no meaningful lines.
    """

    text: str
    line: int | None = None


@dataclass(frozen=True)
class Piece:
    """A chunk of joined units: text and the source lines it spans."""

    text: str
    start_line: int | None
    end_line: int | None


def numbered_lines(text: str, first_line: int = 1) -> list[Unit]:
    """The lines of ``text`` as units numbered from ``first_line``."""
    return [Unit(line, first_line + i) for i, line in enumerate(text.splitlines())]


def _split_long(units: Sequence[Unit], limit: int) -> list[Unit]:
    out: list[Unit] = []
    for unit in units:
        if len(unit.text) <= limit:
            out.append(unit)
            continue
        for start in range(0, len(unit.text), limit):
            out.append(Unit(unit.text[start : start + limit], unit.line))
    return out


def chunk_units(
    units: Sequence[Unit], *, chunk_chars: int = 1200, overlap_chars: int = 200
) -> list[Piece]:
    """Pack units into overlapping chunks.

    Parameters
    ----------
    units:
        Units in source order; they are joined with ``"\\n"``.
    chunk_chars:
        Upper bound on a chunk's length in characters (joining newlines included).
    overlap_chars:
        A chunk starts with the trailing units of the previous chunk whose joined
        length is at most ``overlap_chars`` (never all of them, so every chunk
        advances by at least one unit).

    Returns
    -------
    list of Piece
        Chunks in source order. Blank-only chunks are dropped. ``start_line`` and
        ``end_line`` are the lines of the first and last unit (None if unnumbered).
    """
    if chunk_chars <= 0:
        raise ConfigError(f"chunk_chars must be positive, got {chunk_chars}")
    if not 0 <= overlap_chars < chunk_chars:
        raise ConfigError(f"overlap_chars must be in [0, chunk_chars), got {overlap_chars}")
    items = _split_long(units, chunk_chars)
    pieces: list[Piece] = []
    start = 0
    n = len(items)
    while start < n:
        end = start
        length = len(items[start].text)
        while end + 1 < n and length + 1 + len(items[end + 1].text) <= chunk_chars:
            end += 1
            length += 1 + len(items[end].text)
        chosen = items[start : end + 1]
        text = "\n".join(u.text for u in chosen)
        if text.strip():
            pieces.append(Piece(text, chosen[0].line, chosen[-1].line))
        if end + 1 >= n:
            break
        # Step back from the end while the overlap stays within budget.
        nxt = end + 1
        overlap = 0
        while nxt - 1 > start:
            extra = len(items[nxt - 1].text) + (1 if overlap else 0)
            if overlap + extra > overlap_chars:
                break
            overlap += extra
            nxt -= 1
        start = nxt
    return pieces


def markdown_sections(text: str) -> list[tuple[str | None, list[Unit]]]:
    """Group Markdown lines by ATX heading (``#`` .. ``######``).

    Headings inside fenced code blocks are ignored. Each group starts with its
    heading line and is named by the heading path, e.g. ``"Usage > CLI"``; lines
    before the first heading form a group named None.

    Returns
    -------
    list of (section, units)
        Groups in file order, each with its numbered lines.
    """
    groups: list[tuple[str | None, list[Unit]]] = [(None, [])]
    path: list[tuple[int, str]] = []
    in_fence = False
    for unit in numbered_lines(text):
        if _FENCE.match(unit.text):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(unit.text)
        if match:
            level = len(match.group(1))
            path = [(lvl, title) for lvl, title in path if lvl < level]
            path.append((level, match.group(2)))
            groups.append((" > ".join(title for _, title in path), [unit]))
        else:
            groups[-1][1].append(unit)
    return [(section, units) for section, units in groups if units]
