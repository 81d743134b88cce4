"""Parse HTML directory listings of open-data web servers.

Two layouts are understood:

- nginx ``autoindex`` (what ``opendata.dwd.de`` serves): a ``<pre>`` block with one
  line per entry, ``<a href="NAME">SHOWN</a>  23-Nov-2026 03:41   1234567``. The
  shown name is cut to 50 characters with ``..>``, so the ``href`` is the truth;
  the size is in bytes (``-`` for directories).
- Apache ``mod_autoindex``: a table or ``<pre>`` with ``2026-11-23 03:41`` dates and
  sizes such as ``1.2M`` or ``734K``.

Sort links (``?C=N;O=D``), the parent link and absolute links are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from wxai.core.errors import DataFormatError

__all__ = ["ListingEntry", "parse_listing"]

_DATE_PATTERNS = (
    (re.compile(r"(\d{2}-[A-Za-z]{3}-\d{4} \d{2}:\d{2})"), "%d-%b-%Y %H:%M"),
    (re.compile(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2})"), "%Y-%m-%d %H:%M"),
)
_SIZE = re.compile(r"(?:^|\s)(\d+(?:\.\d+)?)([KMGT]?)\s*$")
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


@dataclass(frozen=True)
class ListingEntry:
    """One entry of a directory listing.

    Attributes
    ----------
    name:
        File or directory name (URL-decoded; directories end with ``/``).
    modified:
        Last modification time (UTC, as listed), or ``None`` if not shown.
    size:
        Size in bytes (approximate for Apache's ``1.2M`` style), or ``None``.
    """

    name: str
    modified: datetime | None
    size: int | None

    @property
    def is_dir(self) -> bool:
        """Whether the entry is a sub-directory."""
        return self.name.endswith("/")


class _LinkCollector(HTMLParser):
    """Collect ``(href, text after the link up to the next link)`` pairs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[list[str]] = []
        self._in_a = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href is not None:
                self.links.append([href, ""])
                self._in_a = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._in_a = False

    def handle_data(self, data: str) -> None:
        if self.links and not self._in_a:
            self.links[-1][1] += " " + data


def _parse_meta(text: str) -> tuple[datetime | None, int | None]:
    line = " ".join(text.split())
    modified = None
    for pattern, fmt in _DATE_PATTERNS:
        match = pattern.search(line)
        if match:
            try:
                modified = datetime.strptime(match.group(1), fmt).replace(tzinfo=UTC)
            except ValueError:  # a date-like string that is no date: leave it unknown
                modified = None
            line = line[match.end() :]
            break
    size = None
    match = _SIZE.search(line.strip())
    if match:
        size = int(float(match.group(1)) * _UNITS[match.group(2)])
    return modified, size


def parse_listing(html: str) -> list[ListingEntry]:
    """Entries of an nginx or Apache HTML directory listing, in page order.

    Parameters
    ----------
    html:
        The listing page.

    Raises
    ------
    DataFormatError
        If the page has no links at all (an error page rather than a listing).
    """
    collector = _LinkCollector()
    collector.feed(html)
    collector.close()
    if not collector.links:
        raise DataFormatError("the page is not a directory listing: it has no links")
    entries = []
    for href, after in collector.links:
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or parts.query or not parts.path:
            continue
        name = unquote(parts.path)
        if name.startswith(("/", "../", "./")) or name in {"..", "."}:
            continue
        modified, size = _parse_meta(after)
        entries.append(
            ListingEntry(name=name, modified=modified, size=None if name.endswith("/") else size)
        )
    return entries
