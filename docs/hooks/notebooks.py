"""MkDocs hook: the course notebooks (``notebooks/day*.py``) become pages ``notebooks/...``.

The jupytext files stay in ``notebooks/`` at the repository root; this hook adds them to
the site's files before mkdocs-jupyter (which renders them, unexecuted) looks for them,
hence the higher priority.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

PATTERN = "day*.py"


def repository_root(config: MkDocsConfig) -> Path:
    """The folder of ``mkdocs.yml``, which holds ``notebooks/``."""
    return Path(config.config_file_path).resolve().parent


@event_priority(100)
def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add every ``notebooks/day*.py`` as the page ``notebooks/<name>.py``."""
    root = repository_root(config)
    for path in sorted((root / "notebooks").glob(PATTERN)):
        # a plain File rooted at the repository (not File.generated): mkdocs-jupyter wraps
        # it and needs its src_dir to find the source
        notebook = File(
            f"notebooks/{path.name}",
            src_dir=str(root),
            dest_dir=config.site_dir,
            use_directory_urls=config.use_directory_urls,
        )
        files.append(notebook)
    return files
