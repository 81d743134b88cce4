"""MkDocs hook: Sphinx roles in docstrings (``:func:`name```) shown as plain code.

The docstrings use Sphinx roles, which mkdocstrings renders literally
(``:func:<code>fit</code>``); this drops the role and, as Sphinx does, shortens a
``~a.b.name`` target to ``name``.
"""

from __future__ import annotations

import re

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

ROLE = re.compile(
    r":(?:py:)?(?:func|class|mod|meth|attr|data|exc|obj|const):<code>(~?)([^<]*)</code>"
)


def plain(match: re.Match[str]) -> str:
    """The code span of one role, shortened to its last name after ``~``."""
    short, target = match.groups()
    return f"<code>{target.rsplit('.', 1)[-1] if short else target}</code>"


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Rewrite the roles of the API reference pages."""
    if not page.file.src_uri.startswith("reference/"):
        return html
    return ROLE.sub(plain, html)
