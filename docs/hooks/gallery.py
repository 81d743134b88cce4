"""MkDocs hook: the lab gallery, generated at build time.

Reads the lab registry and the results stored in the wxai home (``WXAI_HOME``) through
:func:`wxai.labs.framework.report.lab_entries`, the source of ``wxai lab report`` too,
and adds ``gallery/index.md``, one page per lab and the figures of each lab's last run
as in-memory files: nothing is written into ``docs/``. The nav entry
``gallery/index.md`` becomes a section with the lab pages grouped by course day.
"""

from __future__ import annotations

from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

from wxai.labs.framework import gallery
from wxai.labs.framework.report import lab_entries

_entries: list[gallery.Entry] = []


def _expand(nav: Any, section: list[Any]) -> Any:
    """``nav`` with the item whose target is ``gallery/index.md`` replaced by ``section``."""
    if isinstance(nav, list):
        return [_expand(item, section) for item in nav]
    if isinstance(nav, dict):
        return {
            title: section if target == gallery.INDEX_PAGE else _expand(target, section)
            for title, target in nav.items()
        }
    return nav


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Read the labs and their results once per build; put the lab pages in the nav."""
    _entries[:] = lab_entries()
    if config.nav is not None:
        config.nav = _expand(config.nav, gallery.nav_section(_entries))
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the gallery's pages and the figures of the stored runs to the site."""
    files.append(File.generated(config, gallery.INDEX_PAGE, content=gallery.index_page(_entries)))
    for spec, result in _entries:
        targets = gallery.figure_targets(result) if result is not None else []
        for source, uri in targets:
            files.append(File.generated(config, uri, abs_src_path=str(source)))
        page = gallery.lab_page(spec, result, [uri for _, uri in targets])
        files.append(File.generated(config, gallery.lab_page_path(spec.name), content=page))
    return files
