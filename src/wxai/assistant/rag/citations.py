"""Checking citations: which file a ``[path, lines a-b]`` citation names, and corpora.

A RAG answer cites retrieved blocks as ``[README.md, lines 10-24]`` (see
:mod:`wxai.assistant.rag.answer`). The functions here tell whether such
citations name an expected source file, and collect the files of a corpus.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wxai.core.errors import ConfigError, WxaiError

if TYPE_CHECKING:
    from wxai.assistant.rag.answer import RagAnswer

__all__ = [
    "answer_record",
    "bracketed",
    "cites",
    "corpus_files",
    "is_source",
    "source_checkout",
]


def is_source(path: str, expected: str) -> bool:
    """Whether ``path`` is one of the files ``expected`` names.

    ``expected`` lists alternatives split by ``"|"`` (``"a.md|docs/b.md"``); a path
    matches a name when equal to it or ending in ``"/" + name``.
    """
    return any(path == name or path.endswith("/" + name) for name in expected.split("|"))


def cites(citations: Iterable[str], expected: str) -> bool:
    """Whether one of ``citations`` (``"[path, lines a-b]"``) names an ``expected`` file."""
    return any(is_source(c.strip("[]").rsplit(",", 1)[0].strip(), expected) for c in citations)


def bracketed(text: str) -> list[str]:
    """The closed ``[...]`` spans of free text, brackets included, in order."""
    return [part.split("]", 1)[0].join("[]") for part in text.split("[")[1:] if "]" in part]


def corpus_files(root: Path, patterns: Sequence[str]) -> list[Path]:
    """Files matching the glob ``patterns`` under ``root``, sorted per pattern, no duplicates.

    Raises
    ------
    ConfigError
        If no file matches.
    """
    files: dict[Path, None] = {}
    for pattern in patterns:
        for path in sorted(root.glob(pattern)):
            if path.is_file():
                files[path] = None
    if not files:
        raise ConfigError(f"no file under {root} matches {list(patterns)}")
    return list(files)


def source_checkout() -> Path:
    """The source checkout wxai runs from (the folder holding pyproject.toml and src/wxai).

    Raises
    ------
    WxaiError
        If wxai is installed without its sources (not ``pip install -e``).
    """
    import wxai

    root = Path(wxai.__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "src" / "wxai").is_dir():
        return root
    raise WxaiError(
        "indexing wxai's own documentation (README.md, docs/) needs a source checkout; "
        f"wxai is installed at {root} without one. Run it from a clone of the repository "
        "(pip install -e .)."
    )


def answer_record(question: str, expected: str, result: RagAnswer) -> dict[str, Any]:
    """A JSON-ready record of one RAG answer and whether it cites the ``expected`` file.

    Keys: question, expected_source, answer, found, citations; ``cites_expected``
    (a returned citation names the file, only for found answers),
    ``first_cites_expected`` (the first one does), ``text_cites_expected`` (a
    bracketed citation in the answer text does); hit_sources and hit_cosines of the
    retrieved chunks, best first.
    """
    return {
        "question": question,
        "expected_source": expected,
        "answer": result.text,
        "found": result.found,
        "citations": result.citations,
        "cites_expected": result.found and cites(result.citations, expected),
        "first_cites_expected": result.found and cites(result.citations[:1], expected),
        "text_cites_expected": cites(bracketed(result.text), expected),
        "hit_sources": [h.chunk.source for h in result.hits],
        "hit_cosines": [h.vector_score for h in result.hits],
    }
