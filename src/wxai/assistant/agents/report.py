"""A multi-role report as a LangGraph graph: planner, writer, impact translator, editor.

Bullet-point notes become a Markdown report in five steps, each a graph node:

``planner``
    Chooses a section for every note under a JSON schema; an unusable plan is
    replaced by a deterministic one (:func:`~wxai.assistant.agents.report_plan.fallback_plan`)
    and the reason is kept in the state.
``writer``
    The scientific writer: one paragraph per planned section from its notes. On a
    revision only the sections with findings are rewritten, with the findings in
    the prompt.
``impact``
    The impact translator: a plain-language section for the public and decision
    makers (heading :attr:`ReportPrompts.impacts_title`).
``editor``
    Edits each new paragraph for clarity, keeping an edit only when it loses no
    fact and adds no number, and assembles the document with the planned headings.
``checker``
    :func:`~wxai.assistant.agents.report_check.check_report`, not a model. On
    failure the graph goes back to the writer until ``max_revisions`` is spent.
``finalize``
    Passes the draft through, or, when it still fails, restores the dropped notes
    into their sections with a visible marker, removes sentences with invented
    numbers, and lists all of it under "Checker notes": the report never claims a
    check it did not pass.

Every role is a prompt (``data/report_roles.yaml``) and a model alias
(:class:`ReportRoles`). Nodes send typed events (:mod:`wxai.assistant.agents.events`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field

from wxai.assistant.agents.events import AgentEvent, FinalState, emit, stream_graph
from wxai.assistant.agents.report_assembly import (
    RESTORED_MARK,
    assemble,
    checker_notes,
    drop_invented,
)
from wxai.assistant.agents.report_check import ReportCheck, check_report
from wxai.assistant.agents.report_plan import (
    ReportPlan,
    ReportPrompts,
    clean_paragraph,
    fallback_plan,
    implausible_topics,
    parse_model_plan,
    plan_problems,
    plan_schema,
    plan_summary,
    planner_request,
)
from wxai.assistant.llm.types import LLMProvider, Message
from wxai.core.errors import ConfigError, ProviderUnavailable, WxaiError

__all__ = [
    "MAX_BULLETS",
    "RESTORED_MARK",
    "ReportConfig",
    "ReportResult",
    "ReportRoles",
    "ReportState",
    "build_report_graph",
    "copied_notes",
    "parse_bullets",
    "write_report",
]

#: Most notes one report takes (the plan prompt must fit a 2048-token context).
MAX_BULLETS = 30

Role = Literal["planner", "writer", "impact", "editor"]
ROLES: tuple[Role, ...] = ("planner", "writer", "impact", "editor")
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+(?P<text>\S.*?)\s*$")


class ReportRoles(BaseModel):
    """The model alias that plays each role (``None``: the default alias)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    planner: str | None = None
    writer: str | None = None
    impact: str | None = None
    editor: str | None = None

    @classmethod
    def all(cls, alias: str | None) -> ReportRoles:
        """Every role played by ``alias``."""
        return cls(planner=alias, writer=alias, impact=alias, editor=alias)


class ReportConfig(BaseModel):
    """Settings of one report run.

    Attributes
    ----------
    roles:
        Model alias per role.
    roles_file:
        Prompts and topics; ``None`` is the packaged ``data/report_roles.yaml``.
    max_revisions:
        Rounds checker -> writer after the first draft.
    polish:
        Let the editor model edit paragraphs (kept only when no fact is lost).
    restore:
        Put dropped notes back and remove invented numbers when the final draft
        fails the check (marked, and listed under "Checker notes").
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    roles: ReportRoles = Field(default_factory=ReportRoles)
    roles_file: Path | None = None
    max_revisions: int = Field(default=2, ge=0, le=10)
    polish: bool = True
    restore: bool = True


class ReportState(TypedDict, total=False):
    """The graph's state: inputs, each role's output and the checker's verdicts."""

    bullets: list[str]  # the notes, one fact-bearing line each
    plan: ReportPlan
    plan_source: Literal["model", "fallback"]
    plan_problems: list[str]  # why the model's plan was not used
    sections: dict[str, str]  # section title -> paragraph (writer, maybe edited)
    impacts: str  # the impact translator's paragraph
    edited: list[str]  # sections whose editor edit was kept
    draft: str  # the assembled Markdown before the final step
    check: ReportCheck  # the checker's verdict on the latest draft
    history: list[dict[str, Any]]  # one verdict summary per round
    revisions: int  # rounds checker -> writer taken
    restored: list[str]  # notes put back by finalize
    removed: list[str]  # sentences removed by finalize for invented numbers
    final_check: ReportCheck  # the verdict on the final Markdown
    markdown: str  # the final report
    errors: list[str]  # provider failures and other problems met on the way


@dataclass(frozen=True)
class ReportResult:
    """What :func:`write_report` returns."""

    markdown: str
    check: ReportCheck  # verdict on the final report
    model_check: ReportCheck  # verdict on the last model-written draft
    plan: ReportPlan
    plan_source: str
    plan_problems: list[str]
    revisions: int
    restored: list[str]
    removed: list[str]
    history: list[dict[str, Any]]
    errors: list[str]
    copied: list[int] = field(default_factory=list)  # notes the models copied verbatim
    events: list[AgentEvent] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def model_facts(self) -> int:
        """Facts of the notes that the models' last draft kept."""
        return self.model_check.n_facts - len(self.model_check.missing)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (without the events)."""
        return {
            "passed": self.check.passed,
            "model_draft_passed": self.model_check.passed,
            "check": self.check.to_dict(),
            "model_check": self.model_check.to_dict(),
            "model_facts": self.model_facts,
            "n_facts": self.model_check.n_facts,
            "plan": self.plan.model_dump(),
            "plan_source": self.plan_source,
            "plan_problems": self.plan_problems,
            "revisions": self.revisions,
            "restored": self.restored,
            "removed": self.removed,
            "copied": self.copied,
            "history": self.history,
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
        }


def parse_bullets(text: str) -> list[str]:
    """The Markdown list items of ``text`` (``-``, ``*``, ``+``, ``•`` or ``1.``).

    An indented line without a marker continues the item above it.
    """
    bullets: list[str] = []
    for line in text.splitlines():
        m = _BULLET.match(line)
        if m:
            bullets.append(m["text"])
        elif bullets and line.startswith((" ", "\t")) and line.strip():
            bullets[-1] += " " + line.strip()
    return bullets


def copied_notes(bullets: Sequence[str], texts: Sequence[str]) -> list[int]:
    """Indices of the notes that occur verbatim (up to case and spacing) in ``texts``.

    A model that copies a note keeps its facts without writing anything; this says
    how much of the "model-written" text is such a copy.
    """

    def flat(text: str) -> str:
        return " ".join(text.lower().split()).rstrip(".")

    joined = flat(" ".join(texts))
    return [i for i, b in enumerate(bullets) if flat(b) and flat(b) in joined]


# --------------------------------------------------------------------------- the nodes
class _Nodes:
    """The graph's nodes, sharing the prompts, the providers and the settings."""

    def __init__(
        self, config: ReportConfig, prompts: ReportPrompts, providers: Mapping[Role, LLMProvider]
    ) -> None:
        self.config = config
        self.prompts = prompts
        self.providers = providers

    def _ask(self, role: Role, user: str, **kwargs: Any) -> str:
        spec = getattr(self.prompts, role)
        messages = [Message.system(spec.prompt), Message.user(user)]
        return self.providers[role].chat(messages, max_tokens=spec.max_tokens, **kwargs).content

    def planner(self, state: ReportState) -> ReportState:
        bullets = state["bullets"]
        topics = list(self.prompts.topics)
        problems: list[str] = []
        errors = list(state.get("errors", []))
        try:
            content = self._ask(
                "planner", planner_request(bullets), json_schema=plan_schema(len(bullets), topics)
            )
            plan = parse_model_plan(content, bullets, topics, self.prompts.report_title)
            problems = plan_problems(plan, bullets, [self.prompts.impacts_title])
            problems += implausible_topics(plan, bullets, self.prompts.topics)
        except ValueError as exc:
            problems = [str(exc)]
        except ProviderUnavailable:
            raise  # no server: a report without its models would be a pretence
        except WxaiError as exc:
            problems = [f"the planner model failed: {exc}"]
            errors.append(f"planner: {exc}")
        source: Literal["model", "fallback"] = "model"
        if problems:
            plan = fallback_plan(bullets, self.prompts.topics, self.prompts.report_title)
            source = "fallback"
            emit("error", "planner", message="model plan not used: " + "; ".join(problems))
        emit("message", "planner", text=f"plan ({source}): {plan_summary(plan)}")
        return {"plan": plan, "plan_source": source, "plan_problems": problems, "errors": errors}

    def writer(self, state: ReportState) -> ReportState:
        bullets, plan = state["bullets"], state["plan"]
        sections = dict(state.get("sections", {}))
        check = state.get("check")
        revision = check is not None
        errors = list(state.get("errors", []))
        rewritten = []
        for section in plan.sections:
            notes = [bullets[i] for i in section.bullets]
            request = f"Section: {section.title}\nNotes:\n" + "\n".join(f"- {n}" for n in notes)
            if revision:
                feedback = _feedback(sections.get(section.title, ""), bullets, section.bullets)
                if not feedback:
                    continue
                request += (
                    f"\n\nYour previous paragraph:\n{sections.get(section.title, '')}\n\n"
                    f"Checker: {feedback}"
                )
            try:
                sections[section.title] = clean_paragraph(self._ask("writer", request))
            except ProviderUnavailable:
                raise
            except WxaiError as exc:
                errors.append(f"writer ({section.title}): {exc}")
                sections.setdefault(section.title, "")
            rewritten.append(section.title)
            emit(
                "message",
                "writer",
                text=f"{section.title}: {_summary(sections[section.title])}",
                section=section.title,
                revision=revision,
            )
        edited = [t for t in state.get("edited", []) if t not in rewritten]
        update: ReportState = {"sections": sections, "errors": errors, "edited": edited}
        if revision:
            update["revisions"] = state.get("revisions", 0) + 1
        return update

    def impact(self, state: ReportState) -> ReportState:
        bullets = state["bullets"]
        previous = state.get("impacts")
        errors = list(state.get("errors", []))
        if previous is not None and check_report(previous, bullets, required=[]).passed:
            return {}
        request = "Notes:\n" + "\n".join(f"- {b}" for b in bullets)
        if previous is not None:
            request += f"\n\nYour previous text:\n{previous}\n\nChecker: "
            request += _feedback(previous, bullets, [])
        try:
            text = clean_paragraph(self._ask("impact", request))
        except ProviderUnavailable:
            raise  # no server: a report without its models would be a pretence
        except WxaiError as exc:
            errors.append(f"impact: {exc}")
            text = ""
        emit("message", "impact", text=_summary(text))
        return {"impacts": text, "errors": errors}

    def editor(self, state: ReportState) -> ReportState:
        bullets, plan = state["bullets"], state["plan"]
        sections = dict(state["sections"])
        edited = list(state.get("edited", []))
        errors = list(state.get("errors", []))
        if self.config.polish:
            for section in plan.sections:
                text = sections.get(section.title, "")
                if not text or section.title in edited:
                    continue  # nothing to edit, or already edited and not rewritten since
                before = check_report(text, bullets, required=section.bullets)
                try:
                    candidate = clean_paragraph(self._ask("editor", text))
                except ProviderUnavailable:
                    raise
                except WxaiError as exc:
                    errors.append(f"editor ({section.title}): {exc}")
                    continue
                after = check_report(candidate, bullets, required=section.bullets)
                # an edit may tighten, not pad: commentary about the edit is not kept
                short = len(candidate) <= 1.3 * len(text) + 20
                kept = bool(candidate) and short and _no_worse(after, before)
                if kept:
                    sections[section.title] = candidate
                    edited.append(section.title)
                emit(
                    "message",
                    "editor",
                    text=f"{section.title}: edit {'kept' if kept else 'rejected'}"
                    + ("" if kept else f" ({'; '.join(after.findings()[:3])})"),
                    section=section.title,
                    kept=kept,
                )
        draft = assemble(plan, sections, self.prompts.impacts_title, state.get("impacts", ""))
        emit("message", "editor", text=f"assembled {len(plan.sections) + 1} sections")
        return {"sections": sections, "edited": edited, "draft": draft, "errors": errors}

    def checker(self, state: ReportState) -> ReportState:
        plan = state["plan"]
        check = check_report(
            state["draft"],
            state["bullets"],
            [*plan.titles(), self.prompts.impacts_title],
            placement=_placement(plan),
        )
        round_ = {
            "round": len(state.get("history", [])),
            "passed": check.passed,
            "missing": len(check.missing),
            "unsupported": len(check.unsupported),
            "fact_recall": round(check.fact_recall, 3),
        }
        emit(
            "message",
            "checker",
            text=f"check {'passed' if check.passed else 'failed'}"
            f" ({check.n_facts - len(check.missing)}/{check.n_facts} facts kept, "
            f"{len(check.unsupported)} invented numbers)",
            passed=check.passed,
            findings=check.findings(),
        )
        return {"check": check, "history": [*state.get("history", []), round_]}

    def route(self, state: ReportState) -> str:
        if state["check"].passed or state.get("revisions", 0) >= self.config.max_revisions:
            return "finalize"
        return "writer"

    def finalize(self, state: ReportState) -> ReportState:
        check, plan, bullets = state["check"], state["plan"], state["bullets"]
        titles = [*plan.titles(), self.prompts.impacts_title]
        if check.passed:
            markdown = state["draft"].rstrip() + "\n"
            emit("message", "finalize", text="the model-written draft passed the check")
            return {"markdown": markdown, "final_check": check, "restored": [], "removed": []}
        sections = dict(state["sections"])
        impacts = state.get("impacts", "")
        restored: list[str] = []
        removed: list[str] = []
        if self.config.restore:
            for section in plan.sections:
                text, dropped = drop_invented(sections.get(section.title, ""), bullets)
                sections[section.title] = text
                removed += dropped
            impacts, dropped = drop_invented(impacts, bullets)
            removed += dropped
            pruned = assemble(plan, sections, self.prompts.impacts_title, impacts)
            after = check_report(pruned, bullets, titles, placement=_placement(plan))
            lost = {f.bullet for f in after.missing}
            for section in plan.sections:
                notes = [i for i in section.bullets if i in lost]
                if notes:
                    text = sections.get(section.title, "")
                    sections[section.title] = (text + "\n\n" if text else "") + "\n".join(
                        f"- {bullets[i]} {RESTORED_MARK}" for i in notes
                    )
                    restored += [bullets[i] for i in notes]
        markdown = assemble(plan, sections, self.prompts.impacts_title, impacts)
        final = check_report(markdown, bullets, titles, placement=_placement(plan))
        markdown += "\n" + checker_notes(
            check,
            final,
            restored,
            removed,
            revisions=state.get("revisions", 0),
            errors=state.get("errors", []),
        )
        emit(
            "message",
            "finalize",
            text=f"final check {'passed' if final.passed else 'failed'}: "
            f"{len(restored)} notes restored, {len(removed)} sentences removed",
            restored=restored,
            removed=removed,
        )
        return {
            "markdown": markdown,
            "final_check": final,
            "restored": restored,
            "removed": removed,
        }


def _placement(plan: ReportPlan) -> dict[int, str]:
    """Note index -> the planned section its facts belong in."""
    return {i: s.title for s in plan.sections for i in s.bullets}


def _summary(text: str, width: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def _feedback(text: str, bullets: Sequence[str], required: Sequence[int]) -> str:
    """The checker's findings on a paragraph, as an instruction to the writer.

    Only the facts themselves are quoted (no note numbers), so a model that echoes
    the instruction does not add numbers of its own.
    """
    check = check_report(text, bullets, required=required)
    parts = []
    if check.missing:
        parts.append("include " + ", ".join(dict.fromkeys(f.text for f in check.missing)))
    if check.unsupported:
        parts.append("remove " + ", ".join(dict.fromkeys(m.text for m in check.unsupported)))
    return "; ".join(parts)


def _no_worse(after: ReportCheck, before: ReportCheck) -> bool:
    """Whether ``after`` misses no fact and invents no number that ``before`` did not."""
    return {f.key for f in after.missing} <= {f.key for f in before.missing} and {
        m.key for m in after.unsupported
    } <= {m.key for m in before.unsupported}


# --------------------------------------------------------------------------- the graph
def _providers(
    config: ReportConfig, providers: Mapping[str, LLMProvider] | None
) -> dict[Role, LLMProvider]:
    from wxai.assistant.llm.registry import get_provider

    given = dict(providers or {})
    unknown = set(given) - set(ROLES)
    if unknown:
        raise ConfigError(f"unknown report roles {sorted(unknown)}; roles: {', '.join(ROLES)}")
    by_alias: dict[str | None, LLMProvider] = {}
    out: dict[Role, LLMProvider] = {}
    for role in ROLES:
        if role in given:
            out[role] = given[role]
            continue
        alias = getattr(config.roles, role)
        if alias not in by_alias:
            by_alias[alias] = get_provider(alias)
        out[role] = by_alias[alias]
    return out


def build_report_graph(
    config: ReportConfig | None = None, providers: Mapping[str, LLMProvider] | None = None
) -> Any:
    """The compiled report graph.

    Parameters
    ----------
    config:
        Roles, prompts file and loop settings (default :class:`ReportConfig`).
    providers:
        Providers by role name (``planner``, ``writer``, ``impact``, ``editor``),
        replacing the aliases of ``config.roles`` (tests pass scripted ones).

    Returns
    -------
    langgraph.graph.state.CompiledStateGraph
        Input state: ``{"bullets": [...]}``.
    """
    from langgraph.graph import END, START, StateGraph

    config = config or ReportConfig()
    prompts = ReportPrompts.load(config.roles_file)
    nodes = _Nodes(config, prompts, _providers(config, providers))
    graph = StateGraph(ReportState)
    for name in ("planner", "writer", "impact", "editor", "checker", "finalize"):
        graph.add_node(name, getattr(nodes, name))
    graph.add_edge(START, "planner")
    graph.add_edge("planner", "writer")
    graph.add_edge("writer", "impact")
    graph.add_edge("impact", "editor")
    graph.add_edge("editor", "checker")
    graph.add_conditional_edges(
        "checker", nodes.route, {"writer": "writer", "finalize": "finalize"}
    )
    graph.add_edge("finalize", END)
    return graph.compile()


def write_report(
    bullets: Sequence[str],
    config: ReportConfig | None = None,
    *,
    providers: Mapping[str, LLMProvider] | None = None,
    on_event: Any = None,
) -> ReportResult:
    """Run the report graph on ``bullets``; return the report and how it was made.

    Parameters
    ----------
    bullets:
        The notes (see :func:`parse_bullets`), at most :data:`MAX_BULLETS`.
    config, providers:
        As for :func:`build_report_graph`.
    on_event:
        Called with each :class:`~wxai.assistant.agents.events.AgentEvent` as it happens.

    Raises
    ------
    ConfigError
        No notes, or more than :data:`MAX_BULLETS`.
    """
    bullets = [b.strip() for b in bullets if b.strip()]
    if not bullets:
        raise ConfigError("no notes to write a report from: give at least one bullet point")
    if len(bullets) > MAX_BULLETS:
        raise ConfigError(
            f"{len(bullets)} notes are too many for one report (at most {MAX_BULLETS}); "
            "split them into several reports"
        )
    config = config or ReportConfig()
    graph = build_report_graph(config, providers)
    start = time.perf_counter()
    events: list[AgentEvent] = []
    final: Mapping[str, Any] = {}
    run_config = {"recursion_limit": 12 + 5 * config.max_revisions}
    for item in stream_graph(graph, {"bullets": bullets}, config=run_config):
        if isinstance(item, FinalState):
            final = item.state
        else:
            events.append(item)
            if on_event is not None:
                on_event(item)
    if "markdown" not in final:
        raise WxaiError(
            f"the report graph stopped early: {[e.data for e in events if e.kind == 'error']}"
        )
    return ReportResult(
        markdown=final["markdown"],
        check=final["final_check"],
        model_check=final["check"],
        plan=final["plan"],
        plan_source=final["plan_source"],
        plan_problems=list(final.get("plan_problems", [])),
        revisions=final.get("revisions", 0),
        restored=list(final.get("restored", [])),
        removed=list(final.get("removed", [])),
        history=list(final.get("history", [])),
        errors=list(final.get("errors", [])),
        copied=copied_notes(
            bullets, [*final.get("sections", {}).values(), final.get("impacts", "")]
        ),
        events=events,
        seconds=time.perf_counter() - start,
    )
