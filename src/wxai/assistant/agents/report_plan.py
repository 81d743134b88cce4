"""The report's plan and the role prompts: sections, the notes each covers, validation.

A :class:`ReportPlan` is a title and an ordered list of sections, each naming the
notes (by index) it covers. The planner model chooses a section topic for every
note under a JSON schema (:func:`plan_schema`), so with constrained decoding it
cannot drop a note; :func:`plan_problems` still checks any plan (remote models
without constrained output, hand-written plans), and :func:`fallback_plan` builds
a deterministic plan from topic keywords when the model's is unusable.

The role prompts, the topics and their keywords live in the package file
``wxai/assistant/agents/data/report_roles.yaml`` (:class:`ReportPrompts`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wxai.assistant.agents.report_check import NOTES_HEADING, find_mentions, normalise_title
from wxai.core.errors import ConfigError, ModelAnswerError

__all__ = [
    "PlanSection",
    "ReportPlan",
    "ReportPrompts",
    "RolePrompt",
    "clean_paragraph",
    "fallback_plan",
    "implausible_topics",
    "parse_model_plan",
    "plan_problems",
    "plan_schema",
    "plan_summary",
    "planner_request",
]

#: Longest section title (words) a plan may use.
MAX_TITLE_WORDS = 6


class PlanSection(BaseModel):
    """One planned section: its heading and the notes (0-based indices) it covers."""

    model_config = ConfigDict(extra="forbid")

    title: str
    bullets: list[int]


class ReportPlan(BaseModel):
    """The report's title and its sections, in order."""

    model_config = ConfigDict(extra="forbid")

    title: str
    sections: list[PlanSection]

    def titles(self) -> list[str]:
        """The section headings, in order."""
        return [s.title for s in self.sections]


class RolePrompt(BaseModel):
    """A role's system prompt and answer length."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=10)
    max_tokens: int = Field(ge=16, le=4096)


class ReportPrompts(BaseModel):
    """Everything about the roles that is text: prompts, topics, fixed headings."""

    model_config = ConfigDict(extra="forbid")

    report_title: str = Field(min_length=1)
    impacts_title: str = Field(min_length=1)
    planner: RolePrompt
    writer: RolePrompt
    impact: RolePrompt
    editor: RolePrompt
    topics: dict[str, list[str]] = Field(min_length=1)

    @classmethod
    def load(cls, path: Path | str | None = None) -> ReportPrompts:
        """Read the roles file (default: the one shipped in the package).

        Raises
        ------
        ConfigError
            The file is missing, not YAML, or does not match the schema.
        """
        try:
            if path is None:
                text = (
                    resources.files("wxai.assistant.agents")
                    .joinpath("data/report_roles.yaml")
                    .read_text(encoding="utf-8")
                )
                where = "the packaged report_roles.yaml"
            else:
                text = Path(path).read_text(encoding="utf-8")
                where = str(path)
            data = yaml.safe_load(text)
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read the report roles file {path}: {exc}") from exc
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(
                f"{where} is not a valid report roles file: {exc}; compare it with "
                "src/wxai/assistant/agents/data/report_roles.yaml"
            ) from exc


def plan_schema(n_bullets: int, topics: Sequence[str]) -> dict[str, Any]:
    """JSON schema of the planner's answer: a title and a topic for every note.

    Every ``note_<i>`` is required and must be one of ``topics``, so a model under
    constrained decoding covers every note with a known section.
    """
    properties: dict[str, Any] = {
        "title": {"type": "string", "pattern": "^[A-Za-z][A-Za-z ,'-]{2,48}$"}
    }
    for i in range(n_bullets):
        properties[f"note_{i + 1}"] = {"type": "string", "enum": list(topics)}
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def planner_request(bullets: Sequence[str]) -> str:
    """The planner's user message: the notes, numbered as the schema names them."""
    return "\n".join(f"note_{i + 1}: {b}" for i, b in enumerate(bullets))


def parse_model_plan(
    content: str, bullets: Sequence[str], topics: Sequence[str], default_title: str
) -> ReportPlan:
    """Turn the planner's JSON answer into a plan (sections in topic order).

    The model's title is kept only if it is at most 8 words and each of its words
    of four letters or more occurs in the notes, the topics or ``default_title``;
    otherwise the plan gets ``default_title``.

    Raises
    ------
    ModelAnswerError
        The answer is not JSON, or a note has no topic or an unknown one (a
        :class:`ValueError` too).
    """
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise ModelAnswerError(f"the plan is not JSON ({exc.msg})") from exc
    if not isinstance(data, Mapping):
        raise ModelAnswerError("the plan is not a JSON object")
    chosen: dict[str, list[int]] = {}
    unknown = []
    for i in range(len(bullets)):
        topic = data.get(f"note_{i + 1}")
        if topic not in topics:
            unknown.append(f"note_{i + 1}={topic!r}")
            continue
        chosen.setdefault(str(topic), []).append(i)
    if unknown:
        raise ModelAnswerError(f"notes without a known section: {', '.join(unknown)}")
    title = data.get("title")
    title = title.strip() if isinstance(title, str) else ""
    known = " ".join([*topics, default_title, *bullets]).lower()
    words = re.findall(r"[^\W\d_]{4,}", title)
    if not title or len(title.split()) > 8 or any(w.lower() not in known for w in words):
        title = default_title  # an empty, long or made-up title ("Dierke-Bammer-...")
    sections = [PlanSection(title=t, bullets=chosen[t]) for t in topics if t in chosen]
    return ReportPlan(title=title, sections=sections)


def plan_problems(
    plan: ReportPlan, bullets: Sequence[str], reserved: Sequence[str] = ()
) -> list[str]:
    """What is wrong with ``plan`` for these notes (empty when it is usable).

    Checks: every note is covered exactly once, indices exist, titles are short,
    unique, not a reserved heading (``reserved``, the checker notes) and hold no
    number that is not in the notes.
    """
    problems: list[str] = []
    if not plan.sections:
        return ["the plan has no sections"]
    seen: dict[int, str] = {}
    for section in plan.sections:
        for index in section.bullets:
            if not 0 <= index < len(bullets):
                problems.append(
                    f"section {section.title!r} names note {index + 1}, which does not exist"
                )
            elif index in seen:
                problems.append(f"note {index + 1} is in {seen[index]!r} and {section.title!r}")
            else:
                seen[index] = section.title
        if not section.bullets:
            problems.append(f"section {section.title!r} covers no note")
    dropped = [i + 1 for i in range(len(bullets)) if i not in seen]
    if dropped:
        problems.append(f"notes not in any section: {dropped}")
    titles = [normalise_title(t) for t in [plan.title, *plan.titles()]]
    taken = {normalise_title(t) for t in [*reserved, NOTES_HEADING]}
    note_numbers = {m.key for b in bullets for m in find_mentions(b)}
    for raw, key in zip([plan.title, *plan.titles()], titles, strict=True):
        if not key:
            problems.append("a title is empty")
        elif len(key.split()) > MAX_TITLE_WORDS and raw != plan.title:
            problems.append(f"section title {raw!r} is longer than {MAX_TITLE_WORDS} words")
        if key in taken:
            problems.append(f"title {raw!r} is reserved")
        invented = [m.text for m in find_mentions(raw) if m.key not in note_numbers]
        if invented:
            problems.append(f"title {raw!r} has numbers not in the notes: {invented}")
    if len(set(titles[1:])) != len(titles) - 1:
        problems.append("two sections have the same title")
    return problems


def _scores(bullet: str, topics: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Keyword hits of ``bullet`` per topic (case-insensitive substrings)."""
    text = f" {bullet.lower()} "
    return {name: sum(text.count(k.lower()) for k in words) for name, words in topics.items()}


def implausible_topics(
    plan: ReportPlan, bullets: Sequence[str], topics: Mapping[str, Sequence[str]]
) -> list[str]:
    """Notes put under a topic none of their keywords suggest while another's do.

    "Dry and sunny weekend, 24 °C" under "Snow and ice" is such a case; a note
    that hits no topic's keywords may go anywhere.
    """
    problems = []
    for section in plan.sections:
        for index in section.bullets:
            if not 0 <= index < len(bullets):
                continue
            scores = _scores(bullets[index], topics)
            if max(scores.values(), default=0) > 0 and scores.get(section.title, 0) == 0:
                problems.append(
                    f"note {index + 1} is under {section.title!r}, which none of its words suggest"
                )
    return problems


def fallback_plan(
    bullets: Sequence[str], topics: Mapping[str, Sequence[str]], title: str
) -> ReportPlan:
    """A deterministic plan: each note goes to the topic whose keywords it hits most.

    Ties go to the earlier topic, notes without a hit to the first topic; sections
    follow the order of ``topics``.
    """
    names = list(topics)
    chosen: dict[str, list[int]] = {}
    for index, bullet in enumerate(bullets):
        scores = _scores(bullet, topics)
        top = max(scores.values())
        best = next(n for n in names if scores[n] == top) if top > 0 else names[0]
        chosen.setdefault(best, []).append(index)
    return ReportPlan(
        title=title,
        sections=[PlanSection(title=n, bullets=chosen[n]) for n in names if n in chosen],
    )


def plan_summary(plan: ReportPlan) -> str:
    """One line: ``Title: Rain (notes 1, 3); Wind (note 2)``."""
    parts = []
    for s in plan.sections:
        notes = ", ".join(str(i + 1) for i in s.bullets)
        parts.append(f"{s.title} (note{'s' if len(s.bullets) > 1 else ''} {notes})")
    return f"{plan.title}: " + "; ".join(parts)


def clean_paragraph(text: str) -> str:
    """A model's paragraph without headings, echoed labels or surrounding space.

    Heading lines would break the planned structure, so they are dropped; echoed
    prompt labels (``Section: ...``, ``Notes:``) are removed, and so is a sentence
    that repeats an earlier one (greedy decoding of a small model loops).
    """
    lines = []
    seen: set[str] = set()
    for raw in text.strip().splitlines():
        kept = []
        for sentence in re.split(r"(?<=[.!?])\s+", raw):
            key = " ".join(sentence.lower().split())
            if key and key in seen:
                continue
            seen.add(key)
            kept.append(sentence)
        line = " ".join(kept)
        stripped = line.strip()
        if re.match(r"(?i)^(your previous (paragraph|text)|checker)\s*:", stripped):
            break  # the model echoes the revision request: nothing after it is new
        if stripped.startswith("#") or re.match(
            r"(?i)^(section|title)\s*:|notes?\s*:\s*$", stripped
        ):
            continue
        lines.append(line.rstrip())
    return "\n".join(lines).strip()
