"""Chunking and ingestion of text, Markdown, code, PDF, HTML and data files."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from wxai.assistant.rag.chunking import Unit, chunk_units, markdown_sections, numbered_lines
from wxai.assistant.rag.documents import Chunk, iter_files, load_chunks
from wxai.core.errors import DataFormatError


def _lines(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [f"line {i + 1} " + "x" * int(rng.integers(0, 90)) for i in range(n)]


@pytest.mark.parametrize(("chunk_chars", "overlap_chars"), [(300, 60), (500, 0), (200, 150)])
def test_chunks_are_exact_line_ranges_with_bounded_overlap(chunk_chars, overlap_chars):
    lines = _lines(120)
    pieces = chunk_units(
        numbered_lines("\n".join(lines)), chunk_chars=chunk_chars, overlap_chars=overlap_chars
    )
    assert pieces[0].start_line == 1
    assert pieces[-1].end_line == len(lines)
    for piece in pieces:
        # The text is exactly the file's lines start..end, and within the size limit.
        assert piece.text == "\n".join(lines[piece.start_line - 1 : piece.end_line])
        assert len(piece.text) <= chunk_chars
    for prev, nxt in itertools.pairwise(pieces):
        assert prev.start_line < nxt.start_line <= prev.end_line + 1  # advances, no gap
        shared = lines[nxt.start_line - 1 : prev.end_line]
        overlap = len("\n".join(shared)) if shared else 0
        assert overlap <= overlap_chars
        if overlap_chars == 0:
            assert not shared
        # The overlap is maximal: one more line would exceed the budget (or the chunk).
        if prev.end_line >= nxt.start_line and nxt.start_line - 1 > prev.start_line:
            longer = "\n".join(lines[nxt.start_line - 2 : prev.end_line])
            assert len(longer) > overlap_chars


def test_long_line_is_cut_and_keeps_its_line_number():
    units = [Unit("a", 1), Unit("b" * 250, 2), Unit("c", 3)]
    pieces = chunk_units(units, chunk_chars=100, overlap_chars=0)
    assert "".join(p.text for p in pieces if p.start_line == 2 == p.end_line) == "b" * 200
    assert all(len(p.text) <= 100 for p in pieces)
    assert pieces[0].start_line == 1 and pieces[-1].end_line == 3


def test_invalid_sizes_raise():
    with pytest.raises(ValueError, match="overlap"):
        chunk_units([Unit("a", 1)], chunk_chars=100, overlap_chars=100)


def test_markdown_sections_follow_heading_path_and_ignore_code_fences(tmp_path: Path):
    text = (
        "intro line\n"
        "# Install\n"
        "pip install wxai\n"
        "## From source\n"
        "```bash\n"
        "# not a heading\n"
        "make\n"
        "```\n"
        "# Usage\n"
        "run it\n"
    )
    sections = markdown_sections(text)
    assert [s for s, _ in sections] == [None, "Install", "Install > From source", "Usage"]
    assert [u.line for u in sections[2][1]] == [4, 5, 6, 7, 8]
    path = tmp_path / "guide.md"
    path.write_text(text)
    chunks = load_chunks(path)
    by_section = {c.section: c for c in chunks}
    assert by_section["Install > From source"].start_line == 4
    assert by_section["Install > From source"].end_line == 8
    assert by_section["Install > From source"].kind == "markdown"
    assert by_section["Usage"].citation == f"[{path}, lines 9-10]"


def test_code_chunks_carry_line_ranges_and_enclosing_definition(tmp_path: Path):
    body = ["import os", ""]
    for i in range(30):
        body += [f"def func_{i}(x):", f'    """Doc {i}."""', f"    return x + {i}", ""]
    path = tmp_path / "mod.py"
    path.write_text("\n".join(body) + "\n")
    chunks = load_chunks(path, chunk_chars=300, overlap_chars=50, source="mod.py")
    lines = path.read_text().splitlines()
    assert all(c.kind == "code" for c in chunks)
    for c in chunks:
        assert c.text == "\n".join(lines[c.start_line - 1 : c.end_line])
    later = chunks[3]
    first_def = next(line for line in lines[: later.start_line][::-1] if line.startswith("def "))
    assert later.section == first_def.split("(")[0].removeprefix("def ")
    assert later.citation == f"[mod.py, lines {later.start_line}-{later.end_line}]"


def test_pdf_pages(tmp_path: Path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    topics = ["Radar reflectivity", "Ensemble spread", "Soil moisture"]
    for topic in topics:
        pdf.add_page()
        pdf.multi_cell(0, 8, f"{topic}. " + "This page explains the topic in detail. " * 5)
    path = tmp_path / "report.pdf"
    pdf.output(str(path))
    chunks = load_chunks(path, source="report.pdf")
    assert [c.page for c in chunks] == [1, 2, 3]
    for chunk, topic in zip(chunks, topics, strict=True):
        assert topic in chunk.text
        assert chunk.kind == "pdf"
    assert chunks[2].citation == "[report.pdf, page 3]"


def test_html_text_sections_and_source_lines(tmp_path: Path):
    html = (
        "<html><head><title>Station guide</title><style>p {color: red}</style></head>\n"
        "<body>\n"
        "<h1>Sensors</h1>\n"
        "<p>The anemometer measures wind speed.</p>\n"
        "<script>var hidden = 1;</script>\n"
        "<h2>Calibration</h2>\n"
        "<ul><li>Check the zero offset.</li>\n"
        "<li>Compare with the reference.</li></ul>\n"
        "</body></html>\n"
    )
    path = tmp_path / "guide.html"
    path.write_text(html)
    chunks = load_chunks(path, source="guide.html")
    text = "\n".join(c.text for c in chunks)
    assert "anemometer" in text and "hidden" not in text and "color" not in text
    calib = next(c for c in chunks if "zero offset" in c.text)
    assert calib.section == "Station guide > Sensors > Calibration"
    assert (calib.start_line, calib.end_line) == (6, 8)
    assert calib.kind == "html"


def _small_dataset() -> xr.Dataset:
    times = pd.date_range("2024-01-01", periods=3, freq="6h")
    lat = np.linspace(50.0, 40.0, 5)
    lon = np.linspace(0.0, 10.0, 6)
    data = 280 + np.random.default_rng(0).normal(size=(3, 5, 6))
    return xr.Dataset(
        {"t2m": (("time", "latitude", "longitude"), data)},
        coords={"time": times, "latitude": lat, "longitude": lon},
        attrs={"title": "Test analysis of near-surface temperature"},
    )


def test_netcdf_summary(tmp_path: Path):
    from wxai.data.formats.netcdf import write_netcdf

    path = write_netcdf(_small_dataset(), tmp_path / "analysis.nc")
    (chunk,) = load_chunks(path, source="analysis.nc")
    assert chunk.kind == "data"
    assert chunk.citation == "[analysis.nc, metadata]"
    text = chunk.text
    assert "Variable t2m" in text and "[K]" in text
    assert "temperature" in text.lower()
    assert "2024-01-01T00:00, 2024-01-01T06:00, 2024-01-01T12:00" in text
    assert "latitude=5" in text and "longitude=6" in text
    assert "Test analysis of near-surface temperature" in text


def test_grib_summary(tmp_path: Path):
    from wxai.data.formats.grib import write_grib

    ds = _small_dataset().rename(time="init_time")
    path = write_grib(ds, tmp_path / "t2m.grib2")
    (chunk,) = load_chunks(path, source="t2m.grib2")
    text = chunk.text
    assert "3 messages" in text
    assert "Variable 2t" in text and "2 metre temperature" in text and "[K]" in text
    assert "regular_ll 6 x 5 points" in text
    assert "2024-01-01T00:00 to 2024-01-01T12:00" in text


@pytest.mark.parametrize("name", ["broken.nc", "broken.grib", "broken.pdf"])
def test_corrupt_files_raise_data_format_error_with_path(tmp_path: Path, name: str):
    path = tmp_path / name
    path.write_bytes(b"\x00\x01 this is not what the suffix says" * 10)
    with pytest.raises(DataFormatError, match="broken"):
        load_chunks(path)


def test_binary_file_with_text_suffix_is_refused(tmp_path: Path):
    path = tmp_path / "blob.txt"
    path.write_bytes(b"\x00\xff" * 100)
    with pytest.raises(DataFormatError, match="binary"):
        load_chunks(path)


def test_iter_files_skips_hidden_and_unknown(tmp_path: Path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config.txt").write_text("x")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.py").write_text("x")
    (tmp_path / "a.md").write_text("# A")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.py").write_text("x = 1")
    assert [p.relative_to(tmp_path).as_posix() for p in iter_files(tmp_path)] == [
        "a.md",
        "sub/b.py",
    ]


def test_citation_forms():
    assert Chunk("t", "a.md", "markdown", 10, 24).citation == "[a.md, lines 10-24]"
    assert Chunk("t", "a.md", "markdown", 7, 7).citation == "[a.md, line 7]"
    assert Chunk("t", "r.pdf", "pdf", page=3).citation == "[r.pdf, page 3]"
