"""An exclusive lock shared by threads and processes: a thread lock plus ``flock`` on a file."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def exclusive(lock_file: Path, thread_lock: threading.Lock) -> Iterator[None]:
    """Hold ``thread_lock`` (this process) and an ``flock`` on ``lock_file`` (other processes).

    The file is created if missing. Where ``fcntl`` does not exist (Windows), only the
    thread lock is held.
    """
    with thread_lock, Path(lock_file).open("a") as handle:
        try:
            import fcntl
        except ImportError:
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
