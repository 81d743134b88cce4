"""Task types for the cockpit tests, importable by the task's child process.

The worker runs every task in a child process (:mod:`wxai.cockpit.task_process`); the
child imports this module by name (its directory travels on ``PYTHONPATH``), so the
class must live in a module, not in ``conftest.py``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from wxai.core.errors import ConfigError, WxaiError
from wxai.core.progress import ProgressReporter


class WaitParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: int = Field(default=3, ge=0)
    delay: float = Field(default=0.0, ge=0)
    fail: str | None = None
    allocate_mb: int = Field(default=0, ge=0, description="MiB to allocate before the steps")
    spin_seconds: float = Field(default=0.0, ge=0, description="CPU seconds to burn first")
    record: str | None = Field(default=None, description="file to append the process id to")


class WaitTask:
    """A task type for tests: reports ``steps`` progress steps, ``delay`` seconds apart.

    Optionally it first appends its process id to ``record``, allocates ``allocate_mb``
    MiB (touching every page) or spins the CPU for ``spin_seconds``.
    """

    name: ClassVar[str] = "test-wait"
    params: ClassVar[type[BaseModel]] = WaitParams

    def check(self, params: BaseModel) -> str:
        assert isinstance(params, WaitParams)
        if params.fail == "check":
            raise ConfigError("the check of this test task fails on purpose")
        return "checked"

    def execute(self, params: BaseModel, progress: ProgressReporter) -> dict[str, Any]:
        assert isinstance(params, WaitParams)
        if params.record:
            with Path(params.record).open("a") as stream:
                stream.write(f"{os.getpid()}\n")
        blocks = [bytearray(1 << 20) for _ in range(params.allocate_mb)]
        end = time.process_time() + params.spin_seconds
        while time.process_time() < end:
            pass
        for step in range(params.steps):
            time.sleep(params.delay)
            progress((step + 1) / params.steps, f"step {step + 1}/{params.steps}")
            if params.fail == "runtime" and step == 0:
                raise RuntimeError("boom")
            if params.fail == "wxai" and step == 0:
                raise WxaiError("a wxai error with a clear message")
        del blocks
        return {"steps": params.steps, "value": float("nan")}
