"""Request and response bodies of the cockpit API (pydantic models)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from wxai.cockpit.storage import TaskRecord, TaskState

#: Limits of a chat request, so one request cannot exhaust the server.
MAX_CHAT_MESSAGES = 64
MAX_MESSAGE_CHARS = 16_000


def finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by ``None`` (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


class ErrorOut(BaseModel):
    """Every error answer: what was wrong and what to do."""

    detail: str = Field(examples=["no task with id 'abc'; list the tasks with GET /api/tasks"])


class Health(BaseModel):
    """Answer of ``GET /api/health``."""

    status: Literal["ok"] = "ok"
    version: str


class TaskCreate(BaseModel):
    """Body of ``POST /api/tasks``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "lab",
                    "params": {"name": "sine-regression", "overrides": ["preset=smoke"]},
                }
            ]
        },
    )

    type: str = Field(min_length=1, description="Task type, e.g. 'lab'")
    params: dict[str, Any] = Field(
        default_factory=dict, description="Parameters of the task type (for 'lab': name, overrides)"
    )


class TaskAction(BaseModel):
    """Body of ``PUT /api/tasks/{id}``."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"action": "cancel"}]}
    )

    action: Literal["cancel"] = Field(description="What to do with the task")


class TaskOut(BaseModel):
    """A task as the API shows it."""

    id: str
    type: str
    state: TaskState
    data: dict[str, Any] = Field(
        description="The input, as validated: {'type': ..., 'params': ...}"
    )
    progress: float = Field(ge=0, le=1, description="Fraction done, 0..1")
    message: str = Field(description="The last progress or state message")
    result: dict[str, Any] | None = Field(
        description="What the task produced once completed (a lab task: its LabResult)"
    )
    error: str | None = Field(description="Why the task failed")
    cancel_requested: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_record(cls, record: TaskRecord) -> TaskOut:
        """Build from a stored record."""
        return cls(
            id=record.id,
            type=record.type,
            state=TaskState(record.state),
            data=record.data,
            progress=min(max(record.progress, 0.0), 1.0),
            message=record.message,
            result=finite(record.result),
            error=record.error,
            cancel_requested=record.cancel_requested,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )


class AcceptanceOut(BaseModel):
    """A lab's acceptance figure and verdict."""

    metric: str
    value: float | None
    comparison: str
    threshold: float | None
    baseline: str
    baseline_value: float | None = None
    passed: bool
    description: str = Field(description="One line: value, criterion and verdict")


class LabRunOut(BaseModel):
    """Summary of a lab's most recent run."""

    preset: str
    metrics: dict[str, float | None]
    acceptance: AcceptanceOut
    passed: bool
    summary: str
    figures: list[str] = Field(description="URLs of the run's figures (PNG)")
    run_id: str | None
    experiment_id: str | None
    tracking_url: str | None = Field(description="Link to the run in the MLflow UI, if configured")
    started_at: str
    duration_s: float


class LabOut(BaseModel):
    """A lab and its last result."""

    name: str
    title: str
    topic: str
    day: int
    presets: list[str]
    last_result: LabRunOut | None


class ModelOut(BaseModel):
    """A language-model alias as clients see it; the backend behind it stays on the server."""

    alias: str = Field(examples=["local-fast"])
    tier: str = Field(examples=["fast"])
    supplier: str = Field(examples=["local"])
    description: str = ""
    default: bool = False
    available: bool = Field(description="false when the alias needs an API key that is not set")
    native_tools: bool
    vision: bool
    constrained_output: bool
    context_length: int


class ChatMessageIn(BaseModel):
    """One message of a conversation."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: str = Field(max_length=MAX_MESSAGE_CHARS)


class ChatIn(BaseModel):
    """Body of ``POST /api/llm/chat``."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(default=None, description="model alias; default: the server's")
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=MAX_CHAT_MESSAGES)
    max_tokens: int = Field(default=256, ge=1, le=4096)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    stream: bool = Field(default=False, description="answer as server-sent events")


class ChatOut(BaseModel):
    """A complete (non-streamed) answer of ``POST /api/llm/chat``."""

    model: str
    content: str
    finish_reason: str
