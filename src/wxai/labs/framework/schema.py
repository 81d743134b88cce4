"""The base schema every lab configuration extends."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Preset = Literal["smoke", "full"]


class LabConfig(BaseModel):
    """Fields shared by all labs; a lab subclasses this with its own fields.

    Unknown keys are rejected, so a typo in an override is an error, not a no-op.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    preset: Preset = Field(description="smoke: seconds on a 2-core CPU (CI); full: real results")
    seed: int = Field(default=42, ge=0, description="Seed of every random generator")
    device: str = Field(default="auto", description="auto, cpu, cuda, cuda:N or mps")
