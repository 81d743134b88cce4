"""Every lab's full preset reaches its acceptance figure (the slow lane).

``make test-slow`` (``pytest -m slow``) runs these; the weekly workflow
``.github/workflows/slow.yml`` runs them on a CI runner. The smoke presets, run by
``make test``, only show that a lab works; the full presets are the results the course
quotes, so each is run as a student would (``wxai lab run <name> preset=full``).

No lab needs an accelerator: ``device: auto`` falls back to the CPU, and gpu-matmul
measures every device that is available, the CPU included.
"""

from __future__ import annotations

import pytest

from toolcheck import require_tool
from wxai.labs.framework.registry import list_labs
from wxai.labs.framework.runner import run_lab

#: Debian tools a lab calls, beyond the Python environment (see scripts/system-deps.sh).
TOOLS = {"native-kernels": ("gfortran", "g++"), "coding-agent": ("bwrap",)}


@pytest.mark.slow
@pytest.mark.parametrize("name", [spec.name for spec in list_labs()])
def test_full_preset_passes(name: str) -> None:
    for tool in TOOLS.get(name, ()):
        require_tool(tool)
    result = run_lab(name, ["preset=full"])
    assert result.preset == "full"
    assert result.passed, result.acceptance.describe()
