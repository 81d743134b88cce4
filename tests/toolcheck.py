"""Checks for Debian tools that some tests need (importable from any test module)."""

from __future__ import annotations

import os
import shutil

import pytest


def require_tool(name: str, debian_package: str | None = None) -> None:
    """Skip the test when tool ``name`` is missing locally; fail in CI (``CI`` set).

    ``make test`` installs the Debian tools the suite needs, so a missing tool in CI
    is a broken set-up, not a reason to skip.
    """
    if shutil.which(name) is not None:
        return
    reason = f"{name} is not installed (apt-get install {debian_package or name})"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)
