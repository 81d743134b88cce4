"""JSON files kept beside an inference checkpoint (``scorecard.json``, ``ensemble.json``).

They are caches of work done for that checkpoint: valid while newer than it, written
atomically, and optional (a read-only folder means no cache, not an error).
"""

from __future__ import annotations

import json
from typing import Any

from wxai.data.formats._common import atomic_path
from wxai.emulator.training.emulator import InferenceCheckpoint

__all__ = ["read_sidecar", "write_sidecar"]


def read_sidecar(ckpt: InferenceCheckpoint, name: str) -> Any | None:
    """The JSON ``name`` beside the checkpoint; None when missing, older or unreadable."""
    path = ckpt.path.parent / name
    try:
        if path.stat().st_mtime < ckpt.path.stat().st_mtime:
            return None
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def write_sidecar(ckpt: InferenceCheckpoint, name: str, data: Any) -> bool:
    """Write ``data`` as the JSON ``name`` beside the checkpoint; False where it cannot."""
    try:
        with atomic_path(ckpt.path.parent / name) as tmp:
            tmp.write_text(json.dumps(data, indent=1))
    except OSError:
        return False
    return True
