"""The base schema every lab configuration extends."""

from __future__ import annotations

import re
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from wxai.core.errors import ConfigError

Preset = Literal["smoke", "full"]


class LabConfig(BaseModel):
    """Fields shared by all labs; a lab subclasses this with its own fields.

    Unknown keys are rejected, so a typo in an override is an error, not a no-op.
    Integer fields that size the work (epochs, steps, samples, batch sizes, members,
    grid sizes; see :data:`SIZE_BOUNDS`) have upper bounds.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    preset: Preset = Field(description="smoke: seconds on a 2-core CPU (CI); full: real results")
    seed: int = Field(default=42, ge=0, description="Seed of every random generator")
    device: str = Field(default="auto", description="auto, cpu, cuda, cuda:N or mps")

    @model_validator(mode="after")
    def _sizes_are_bounded(self) -> Self:
        too_large = []
        for name in type(self).model_fields:
            value, bound = getattr(self, name), size_bound(name)
            is_int = isinstance(value, int) and not isinstance(value, bool)
            if is_int and bound is not None and value > bound:
                too_large.append(f"{name} = {value} is above its upper bound {bound}")
        if too_large:
            raise ConfigError("; ".join(too_large) + "; choose smaller values")
        return self


#: Upper bounds of integer fields that size a lab's work, by a pattern of the field's
#: name (first match wins). Each is far above every full preset in ``configs/labs``
#: (largest there: epochs 3000, steps 8000, batch_size 512, counts 200 000), so they
#: only stop an override that asks for unbounded work (``epochs=1000000000``).
SIZE_BOUNDS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"epoch"), 100_000),
    (re.compile(r"batch"), 65_536),
    (re.compile(r"step|iter|cycle"), 1_000_000),
    (re.compile(r"sample|member|particle|^n_|_n$|points|grid|size|len"), 10_000_000),
)


def size_bound(name: str) -> int | None:
    """The upper bound of the integer field ``name``, or None if it does not size work."""
    for pattern, bound in SIZE_BOUNDS:
        if pattern.search(name):
            return bound
    return None
