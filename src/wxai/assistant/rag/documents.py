"""Documents to chunks: text, Markdown, code, PDF, HTML and weather data files.

:func:`load_chunks` reads one file and returns its :class:`Chunk` list; the file's
suffix picks the reader:

========================  ==========  ==============================================
suffix                    kind        unit of chunking, citation
========================  ==========  ==============================================
``.md``, ``.markdown``    markdown    lines, grouped by heading; ``[f, lines a-b]``
``.py``, ``.c``, ...      code        lines; ``[f, lines a-b]``
``.txt``, ``.rst``, ...   text        lines; ``[f, lines a-b]``
``.pdf``                  pdf         one page at a time (pypdf); ``[f, page n]``
``.html``, ``.htm``       html        text blocks with their source line; by heading
``.nc``, ``.grib``, ...   data        a metadata summary; ``[f, metadata]``
========================  ==========  ==============================================

:func:`iter_files` walks directories for files of these kinds, skipping hidden and
build directories.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from wxai.assistant.rag.chunking import Unit, chunk_units, markdown_sections, numbered_lines
from wxai.assistant.rag.summaries import DATA_SUFFIXES, summarise_data_file
from wxai.core.errors import DataFormatError

__all__ = ["SUFFIX_KINDS", "Chunk", "ChunkKind", "iter_files", "kind_of", "load_chunks"]

ChunkKind = Literal["text", "markdown", "code", "pdf", "html", "data"]

_CODE = (
    ".py .pyi .c .h .cc .cpp .hpp .f .f90 .f95 .for .js .ts .jl .r .rs .go .java .sh .bash "
    ".sql .yaml .yml .toml .ini .cfg .json .ipynb"
)
SUFFIX_KINDS: dict[str, ChunkKind] = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".rst": "text",
    ".text": "text",
    ".log": "text",
    ".csv": "text",
    ".tex": "text",
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    **dict.fromkeys(_CODE.split(), "code"),
    **dict.fromkeys(DATA_SUFFIXES, "data"),
}
"""File suffix (lower case) -> kind of document."""

_SKIP_DIRS = frozenset(
    {"__pycache__", "node_modules", "site-packages", "build", "dist", ".venv", "venv"}
)
_DEF = re.compile(r"^\s*(?:async\s+def|def|class|function|subroutine|module|program)\s+(\w+)", re.I)


@dataclass(frozen=True)
class Chunk:
    """A retrievable piece of a document.

    Attributes
    ----------
    text:
        The chunk's text, exactly as in the source for line-based kinds.
    source:
        The document, as given or relative to the working directory.
    kind:
        ``"text"``, ``"markdown"``, ``"code"``, ``"pdf"``, ``"html"`` or ``"data"``.
    start_line, end_line:
        1-based inclusive line range in the source file (None for PDF and data).
    page:
        1-based PDF page (None otherwise).
    section:
        Heading path (Markdown, HTML), enclosing ``def``/``class`` (code), or None.
    """

    text: str
    source: str
    kind: ChunkKind = "text"
    start_line: int | None = None
    end_line: int | None = None
    page: int | None = None
    section: str | None = None

    @property
    def name(self) -> str:
        """The source's file name (last path component)."""
        return Path(self.source).name if "://" not in self.source else self.source

    @property
    def citation(self) -> str:
        """``"[README.md, lines 10-24]"``, ``"[report.pdf, page 3]"``, ``"[t2m.nc, metadata]"``."""
        if self.page is not None:
            return f"[{self.source}, page {self.page}]"
        if self.start_line is not None:
            if self.end_line is None or self.end_line == self.start_line:
                return f"[{self.source}, line {self.start_line}]"
            return f"[{self.source}, lines {self.start_line}-{self.end_line}]"
        if self.kind == "data":
            return f"[{self.source}, metadata]"
        return f"[{self.source}]"

    @property
    def embed_text(self) -> str:
        """What the embedding model sees: file name and section, then the text."""
        head = self.name if not self.section else f"{self.name} - {self.section}"
        return f"{head}\n{self.text}"


def kind_of(path: Path) -> ChunkKind | None:
    """The document kind of ``path`` from its suffix, or None if not ingestible."""
    return SUFFIX_KINDS.get(path.suffix.lower())


def iter_files(path: Path) -> Iterator[Path]:
    """Ingestible files under ``path`` (itself if a file), in sorted order.

    Hidden entries (``.git``, ``.venv``) and build/cache directories are skipped.
    A file given directly is yielded whatever its suffix.
    """
    if not path.is_dir():
        yield path
        return
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
        for name in sorted(files):
            candidate = Path(root) / name
            if not name.startswith(".") and kind_of(candidate) is not None:
                yield candidate


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise DataFormatError(f"{path}: binary content, not a text document")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _nearest_def(lines: list[str], line: int) -> str | None:
    for i in range(min(line, len(lines)) - 1, -1, -1):
        match = _DEF.match(lines[i])
        if match:
            return match.group(1)
    return None


def _pdf_groups(path: Path) -> list[tuple[int, str]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        pages = [(i + 1, page.extract_text() or "") for i, page in enumerate(reader.pages)]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DataFormatError(f"{path}: not a readable PDF ({type(exc).__name__}: {exc})") from exc
    return pages


_BLOCKS = [
    "p",
    "li",
    "pre",
    "td",
    "th",
    "dt",
    "dd",
    "blockquote",
    "figcaption",
    "caption",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "aside",
    "nav",
    "table",
    "ul",
    "ol",
    "dl",
    "form",
]
_HEADINGS = {f"h{i}": i for i in range(1, 7)}


def _html_sections(path: Path) -> list[tuple[str | None, list[Unit]]]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_read_text(path), "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "svg"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    body = soup.body or soup
    groups: list[tuple[str | None, list[Unit]]] = [(title, [])]
    path_stack: list[tuple[int, str]] = []
    for tag in body.find_all(_BLOCKS):
        if tag.find(_BLOCKS) is not None:
            continue  # only leaf blocks, so no text is taken twice
        text = " ".join(tag.get_text(" ", strip=True).split())
        if not text:
            continue
        unit = Unit(text, tag.sourceline)
        if tag.name in _HEADINGS:
            level = _HEADINGS[tag.name]
            path_stack = [(lvl, t) for lvl, t in path_stack if lvl < level]
            path_stack.append((level, text))
            name = " > ".join(t for _, t in path_stack)
            groups.append((f"{title} > {name}" if title and title != text else name, [unit]))
        else:
            groups[-1][1].append(unit)
    return [(section, units) for section, units in groups if units]


def load_chunks(
    path: str | os.PathLike,
    *,
    chunk_chars: int = 1200,
    overlap_chars: int = 200,
    source: str | None = None,
) -> list[Chunk]:
    """Read a document and split it into chunks with their metadata.

    Parameters
    ----------
    path:
        The file. Its suffix selects the reader (see :data:`SUFFIX_KINDS`); an
        unknown suffix is read as plain text if the file is text.
    chunk_chars, overlap_chars:
        Maximum chunk length and overlap between neighbours, in characters
        (see :func:`~wxai.assistant.rag.chunking.chunk_units`).
    source:
        Name recorded in each chunk; default ``str(path)``.

    Returns
    -------
    list of Chunk
        In document order; empty for an empty document.

    Raises
    ------
    DataFormatError
        If the file is missing, binary where text was expected, or a corrupt PDF,
        NetCDF or GRIB file (the message names the path).
    """
    p = Path(path)
    name = source if source is not None else str(path)
    if not p.is_file():
        raise DataFormatError(f"{p}: no such file")
    kind = kind_of(p) or "text"
    sizes = {"chunk_chars": chunk_chars, "overlap_chars": overlap_chars}
    if kind == "data":
        text = summarise_data_file(p)
        pieces = chunk_units(numbered_lines(text), **sizes)
        return [Chunk(piece.text, name, "data") for piece in pieces]
    if kind == "pdf":
        chunks = []
        for page, text in _pdf_groups(p):
            units = [Unit(line) for line in text.splitlines()]
            for piece in chunk_units(units, **sizes):
                chunks.append(Chunk(piece.text, name, "pdf", page=page))
        return chunks
    if kind == "html":
        groups = _html_sections(p)
    else:
        text = _read_text(p)
        groups = markdown_sections(text) if kind == "markdown" else [(None, numbered_lines(text))]
    chunks = []
    lines = [u.text for u in groups[0][1]] if kind == "code" else []
    for section, units in groups:
        for piece in chunk_units(units, **sizes):
            sec = section
            if kind == "code" and piece.start_line is not None:
                sec = _nearest_def(lines, piece.start_line)
            chunks.append(
                Chunk(piece.text, name, kind, piece.start_line, piece.end_line, section=sec)
            )
    return chunks
