"""Writing small PDF documents to ingest: one titled page per topic."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from wxai.core.errors import ConfigError

__all__ = ["write_topic_pdf"]


def write_topic_pdf(
    path: Path,
    titles: Sequence[str],
    texts: Sequence[str],
    *,
    title: str = "Topics",
    author: str = "wxai",
) -> Path:
    """Write a PDF with one page per topic: a numbered bold heading, then its text.

    Uses fpdf2 with the core Helvetica font (Latin-1 text). The file is written to a
    temporary name and renamed when complete.

    Parameters
    ----------
    path
        Target file.
    titles, texts
        Heading and body text of each page; equal lengths.
    title, author
        Document metadata.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from fpdf import FPDF

    if len(titles) != len(texts):
        raise ConfigError(f"{len(titles)} titles but {len(texts)} page texts")
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_author(author)
    for number, (heading, text) in enumerate(zip(titles, texts, strict=True), start=1):
        pdf.add_page()
        pdf.set_font("Helvetica", style="B", size=18)
        pdf.multi_cell(0, 10, f"{number}. {heading}")
        pdf.ln(4)
        pdf.set_font("Helvetica", size=12)
        pdf.multi_cell(0, 7, text)
    tmp = path.with_suffix(".tmp.pdf")
    pdf.output(str(tmp))
    tmp.replace(path)
    return path
