"""The ``weather-workflow`` lab (unit U7): forecast questions answered from data, not invented.

Each configured question goes through the LangGraph weather workflow
(:func:`~wxai.assistant.agents.weather.graph.run_weather_workflow`): time, place
and variable by rules, the newest published run, the data (offline: cache, then
synthetic), the value at the place and a map. The baseline is the language
model asked the same question alone: it answers with numbers that come from
nowhere, and no model run or valid time.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from pydantic import Field, model_validator

from wxai.core.errors import ConfigError
from wxai.labs.framework import Acceptance, LabConfig, LabOutcome, lab
from wxai.labs.framework.context import LabContext

U7 = "U7 Agents and function calling"
#: Lecture 10 (Agents and Coding with LLMs) and its lab are on the third course day.
DAY_AGENTS = 3


class WeatherWorkflowConfig(LabConfig):
    """Settings of ``weather-workflow``."""

    questions: list[str] = Field(min_length=1, description="forecast questions (en/de)")
    expected_places: list[str | None] = Field(
        min_length=1, description="gazetteer name answering question i (null: none named)"
    )
    n_questions: int = Field(ge=1, description="how many of the questions are asked")
    now: datetime = Field(description="the fixed current time (ISO with offset)")
    timezone: str = "Europe/Berlin"
    model: str = Field("auto", description="auto, icon-eu or ifs")
    offline: bool = Field(True, description="cache, then synthetic data; no network")
    baseline_questions: int = Field(ge=0, description="questions also put to the LLM alone")
    baseline_max_tokens: int = Field(64, ge=8)
    min_answered: float = Field(gt=0, le=1, description="acceptance: answered with provenance")

    @model_validator(mode="after")
    def _consistent(self) -> WeatherWorkflowConfig:
        if len(self.questions) != len(self.expected_places):
            raise ConfigError(
                "questions and expected_places differ in length; give one place per question"
            )
        if self.n_questions > len(self.questions):
            raise ConfigError(
                f"n_questions > the {len(self.questions)} questions listed; lower it or list more"
            )
        if self.now.tzinfo is None:
            raise ConfigError("now needs a UTC offset, e.g. 2026-12-03T17:20:00+01:00")
        return self


_PROVENANCE = re.compile(r"\brun \d{4}-\d{2}-\d{2} \d{2} UTC, lead time \+\d+ h")


@lab(
    "weather-workflow",
    title="Forecast questions answered from model data with provenance, not invented",
    topic=U7,
    day=DAY_AGENTS,
    config=WeatherWorkflowConfig,
)
def weather_workflow(cfg: WeatherWorkflowConfig, ctx: LabContext) -> LabOutcome:
    """Ask the workflow the configured questions; compare with the LLM alone."""
    from wxai.assistant.agents.weather.graph import run_weather_workflow

    figures = ctx.run_dir / "figures"
    records = []
    n = cfg.n_questions
    for i, (question, place) in enumerate(
        zip(cfg.questions[:n], cfg.expected_places[:n], strict=True)
    ):
        ctx.progress(0.8 * i / n, f"question {i + 1}/{n}")
        result = run_weather_workflow(
            question, now=cfg.now, timezone=cfg.timezone, model=cfg.model,
            offline=cfg.offline, figure_dir=figures,
        )  # fmt: skip
        got = result.state.get("place")
        records.append({
            **result.to_dict(),
            "expected_place": place,
            "place_right": (got.name if got else None) == place,
            "with_provenance": bool(_PROVENANCE.search(result.answer)),
            "labelled_synthetic": (not result.ok or not result.state["data"].synthetic)
            or "SYNTHETIC" in result.answer,
        })  # fmt: skip
        if result.figure:
            ctx.figures.append(result.figure)
            ctx.tracker.log_artifact(result.figure, subdir="figures")
    ctx.progress(0.8, "the language model alone (baseline)")
    baseline = _llm_alone(cfg.questions[: cfg.baseline_questions], cfg.baseline_max_tokens)
    answered = sum(r["ok"] and r["place_right"] and r["with_provenance"] for r in records) / n
    labelled = sum(r["labelled_synthetic"] for r in records) / n
    baseline_value = (
        sum(bool(_PROVENANCE.search(a)) for a in baseline) / len(baseline) if baseline else 0.0
    )
    (ctx.run_dir / "answers.json").write_text(
        json.dumps({"workflow": records, "llm_alone": baseline}, indent=2, ensure_ascii=False)
    )
    ctx.tracker.log_artifact(ctx.run_dir / "answers.json")
    accepted = answered if labelled == 1.0 else 0.0
    return LabOutcome(
        metrics={
            "answered_with_provenance": answered,
            "synthetic_labelled": labelled,
            "llm_alone_with_provenance": baseline_value,
            "n_questions": float(n),
        },
        acceptance=Acceptance(
            metric="answered_with_provenance",
            value=accepted,
            comparison=">=",
            threshold=cfg.min_answered,
            baseline=(
                "fraction of questions answered for the right place with model run and lead "
                "time (0 unless every synthetic answer says so) vs the LLM alone"
            ),
            baseline_value=baseline_value,
        ),
        summary=(
            f"{n} questions: {answered:.0%} answered for the right place with run and lead time; "
            f"the LLM alone gave provenance in {baseline_value:.0%} of {len(baseline)}."
        ),
    )


def _llm_alone(questions: list[str], max_tokens: int) -> list[str]:
    """The embedded model's answers to the questions, with no tools or data."""
    if not questions:
        return []
    from wxai.assistant.llm.local import LocalProvider
    from wxai.assistant.llm.types import Message

    provider = LocalProvider()
    return [provider.chat([Message.user(q)], max_tokens=max_tokens).content for q in questions]
