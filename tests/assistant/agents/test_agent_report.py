"""The report graph: control flow with scripted models, one real run, and ``wxai agent report``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from typer.testing import CliRunner

from wxai.assistant.agents.report import (
    MAX_BULLETS,
    RESTORED_MARK,
    ReportConfig,
    build_report_graph,
    parse_bullets,
    write_report,
)
from wxai.assistant.agents.report_check import NOTES_HEADING, check_report, headings
from wxai.assistant.agents.report_plan import (
    PlanSection,
    ReportPlan,
    ReportPrompts,
    fallback_plan,
    plan_problems,
)
from wxai.assistant.llm.types import Capabilities, ChatChunk, ChatResponse, Message
from wxai.core.errors import ConfigError, ProviderResponseError, ProviderUnavailable

NOTES = [
    "Heavy rain of 25 mm in 6 hours expected in Offenbach on 14 March",
    "ICON-EU shows gusts up to 90 km/h on the Brocken",
    "DWD issued warning level 3 for Hesse",
]
GOOD_PLAN = json.dumps(
    {"title": "Rain and wind", "note_1": "Rain", "note_2": "Wind", "note_3": "Warnings"}
)
IMPACTS = "Roads may flood and trees may fall: avoid travel where possible."


class Scripted:
    """A provider whose answer is a function of (role, user message, call number)."""

    name = "scripted"
    model = "script"
    capabilities = Capabilities(constrained_output=True)

    def __init__(self, answer: Callable[[str, str, int], str]) -> None:
        self.answer = answer
        self.calls: list[tuple[str, str]] = []

    def chat(self, messages: Sequence[Message], **kwargs: Any) -> ChatResponse:
        system, user = messages[0].content, messages[-1].content
        role = _role(system, kwargs.get("json_schema"))
        self.calls.append((role, user))
        n = sum(r == role for r, _ in self.calls)
        return ChatResponse(content=self.answer(role, user, n))

    def stream(self, messages: Sequence[Message], **kwargs: Any) -> Iterator[ChatChunk]:
        yield ChatChunk(delta=self.chat(messages, **kwargs).content, finish_reason="stop")

    def roles(self) -> list[str]:
        return [role for role, _ in self.calls]


def _role(system: str, schema: Any) -> str:
    if schema is not None:
        return "planner"
    for role, word in (("writer", "scientific writer"), ("impact", "public"), ("editor", "editor")):
        if word in system:
            return role
    raise AssertionError(f"unknown role prompt {system[:40]!r}")


def _notes_of(user: str) -> list[str]:
    """The notes a writer request lists (before any revision part)."""
    head = user.split("\n\nYour previous", 1)[0]
    return [line[2:] for line in head.splitlines() if line.startswith("- ")]


def faithful(role: str, user: str, n: int) -> str:
    """Plans well, writes every note back as a sentence, edits nothing."""
    if role == "planner":
        return GOOD_PLAN
    if role == "writer":
        return " ".join(f"{note}." for note in _notes_of(user))
    if role == "impact":
        return IMPACTS
    return user  # the editor returns the paragraph unchanged


def _run(answer: Callable[[str, str, int], str], **config: Any):
    provider = Scripted(answer)
    providers = dict.fromkeys(("planner", "writer", "impact", "editor"), provider)
    result = write_report(NOTES, ReportConfig(**config), providers=providers)
    return result, provider


def test_a_faithful_crew_passes_at_once_with_the_planned_structure() -> None:
    result, provider = _run(faithful)
    assert result.check.passed and result.model_check.passed
    assert result.plan_source == "model" and result.plan.title == "Rain and wind"
    assert [t for _, t in headings(result.markdown)] == [
        "Rain and wind", "Rain", "Wind", "Warnings", "What this means",
    ]  # fmt: skip
    assert result.revisions == 0 and len(result.history) == 1
    assert NOTES_HEADING not in result.markdown and RESTORED_MARK not in result.markdown
    assert provider.roles() == ["planner", *["writer"] * 3, "impact", *["editor"] * 3]
    assert result.model_facts == result.model_check.n_facts
    assert result.copied == [0, 1, 2]  # this crew only copies the notes, and it is told
    json.dumps(result.to_dict())


def test_the_revision_loop_feeds_the_findings_back_to_the_writer() -> None:
    def drops_once(role: str, user: str, n: int) -> str:
        if role == "writer" and "Offenbach" in user and "Checker:" not in user:
            return "Heavy rain of 25 mm in 6 hours is expected in the town on 14 March."
        return faithful(role, user, n)

    result, provider = _run(drops_once, max_revisions=2)
    assert result.revisions == 1
    assert [h["passed"] for h in result.history] == [False, True]
    assert result.check.passed and result.model_check.passed
    revision = [u for r, u in provider.calls if r == "writer" and "Checker:" in u]
    assert len(revision) == 1  # only the section with findings is rewritten
    assert "include Offenbach" in revision[0]
    assert "note 1" not in revision[0]  # no numbers of our own for the model to echo
    assert NOTES_HEADING not in result.markdown


def stubborn(role: str, user: str, n: int) -> str:
    """A writer that always drops a name and invents a number in the rain section."""
    if role == "writer" and "Offenbach" in user:
        return "Rain: 25 mm in 6 hours on 14 March. Locally up to 40 mm."
    return faithful(role, user, n)


def test_the_revision_bound_holds_and_the_report_says_what_was_repaired() -> None:
    result, provider = _run(stubborn, max_revisions=2)
    assert result.revisions == 2 and len(result.history) == 3
    assert provider.roles().count("writer") == 3 + 2
    assert not result.model_check.passed
    assert {f.text for f in result.model_check.missing} == {"Offenbach"}
    assert [m.text for m in result.model_check.unsupported] == ["40 mm"]
    # finalize: invented sentence removed, the dropped note restored with a marker
    assert result.removed == ["Locally up to 40 mm."]
    assert result.restored == [NOTES[0]]
    assert f"- {NOTES[0]} {RESTORED_MARK}" in result.markdown
    assert "40 mm" not in result.markdown.split(f"## {NOTES_HEADING}")[0]
    assert result.check.passed
    notes = result.markdown.split(f"## {NOTES_HEADING}")[1]
    assert "failed the fact check after 2 revision(s)" in notes
    assert "passes the check" in notes


def test_without_repair_a_failing_report_says_it_fails() -> None:
    result, _ = _run(stubborn, max_revisions=0, restore=False)
    assert result.revisions == 0
    assert not result.check.passed
    assert "still FAILS the check" in result.markdown
    assert "missing entity: 'Offenbach'" in result.markdown
    assert "number not in the notes: '40 mm'" in result.markdown


@pytest.mark.parametrize(
    "plan",
    [
        "this is not JSON",
        json.dumps({"title": "T", "note_1": "Rain", "note_2": "Wind"}),  # drops note 3
        json.dumps({"title": "T", "note_1": "Rain", "note_2": "Gossip", "note_3": "Wind"}),
        json.dumps({"title": "Rain 12", "note_1": "Rain", "note_2": "Wind", "note_3": "Warnings"}),
        json.dumps(
            {"title": "T", "note_1": "Rain", "note_2": "Snow and ice", "note_3": "Warnings"}
        ),
    ],
)
def test_an_unusable_model_plan_is_replaced_by_the_fallback(plan: str) -> None:
    def planner(role: str, user: str, n: int) -> str:
        return plan if role == "planner" else faithful(role, user, n)

    result, _ = _run(planner)
    assert result.plan_source == "fallback" and result.plan_problems
    assert result.plan.titles() == ["Rain", "Wind", "Warnings"]  # keyword topics
    assert result.check.passed
    errors = [e for e in result.events if e.kind == "error" and e.node == "planner"]
    assert errors and "model plan not used" in errors[0].data["message"]


def test_plan_problems_and_the_fallback_plan() -> None:
    prompts = ReportPrompts.load()
    dropped = ReportPlan(title="T", sections=[PlanSection(title="Rain", bullets=[0, 1])])
    assert plan_problems(dropped, NOTES) == ["notes not in any section: [3]"]
    twice = ReportPlan(
        title="T",
        sections=[PlanSection(title="A", bullets=[0, 1]), PlanSection(title="B", bullets=[1, 2])],
    )
    assert any("note 2 is in" in p for p in plan_problems(twice, NOTES))
    plan = fallback_plan(NOTES, prompts.topics, "Weather report")
    assert [(s.title, s.bullets) for s in plan.sections] == [
        ("Rain", [0]), ("Wind", [1]), ("Warnings", [2]),
    ]  # fmt: skip
    assert plan_problems(plan, NOTES, [prompts.impacts_title]) == []


def test_the_editor_keeps_only_edits_that_lose_nothing() -> None:
    def editor(role: str, user: str, n: int) -> str:
        if role == "editor":
            return user.replace("Offenbach", "the city").replace(" shows ", " forecasts ")
        return faithful(role, user, n)

    result, _ = _run(editor)
    assert "Offenbach" in result.markdown  # the lossy edit was rejected
    assert "ICON-EU forecasts gusts" in result.markdown  # the harmless one kept
    rejected = [e for e in result.events if e.node == "editor" and e.data.get("kept") is False]
    assert len(rejected) == 1 and "Offenbach" in rejected[0].data["text"]


def test_every_role_step_is_an_observable_event() -> None:
    result, _ = _run(stubborn, max_revisions=1)
    started = [e.node for e in result.events if e.kind == "node_started"]
    assert started == ["planner", "writer", "impact", "editor", "checker"] * 1 + [
        "writer", "impact", "editor", "checker", "finalize",
    ]  # fmt: skip
    speakers = {e.node for e in result.events if e.kind == "message"}
    assert speakers == {"planner", "writer", "impact", "editor", "checker", "finalize"}
    verdicts = [e.data for e in result.events if e.kind == "message" and e.node == "checker"]
    assert [v["passed"] for v in verdicts] == [False, False]
    assert any("Offenbach" in f for f in verdicts[0]["findings"])
    json.dumps([e.to_dict() for e in result.events])


def test_a_garbled_answer_is_an_error_in_the_notes_and_no_server_stops_the_run() -> None:
    def garbled(role: str, user: str, n: int) -> str:
        if role == "writer" and "Brocken" in user:
            raise ProviderResponseError("scripted", "answer cannot be parsed")
        return faithful(role, user, n)

    result, _ = _run(garbled, max_revisions=1)
    assert result.errors and "answer cannot be parsed" in result.errors[0]
    assert result.restored == [NOTES[1]] and result.check.passed
    assert "- Error: writer (Wind): scripted: answer cannot be parsed" in result.markdown

    def down(role: str, user: str, n: int) -> str:
        raise ProviderUnavailable("scripted", "connection refused")

    with pytest.raises(ProviderUnavailable, match="connection refused"):
        _run(down)


def test_the_graph_draws_as_mermaid() -> None:
    provider = Scripted(faithful)
    graph = build_report_graph(
        providers=dict.fromkeys(("planner", "writer", "impact", "editor"), provider)
    )
    mermaid = graph.get_graph().draw_mermaid()
    for node in ("planner", "writer", "impact", "editor", "checker", "finalize"):
        assert node in mermaid
    assert re.search(r"checker -\.(\s*writer\s*)?\.?-> writer", mermaid)


def test_bullets_are_read_from_markdown_lists() -> None:
    text = "# Notes\n\nIntro line\n- first\n* second\n  continued\n1. third\n\n+ fourth\n"
    assert parse_bullets(text) == ["first", "second continued", "third", "fourth"]
    with pytest.raises(ConfigError, match="no notes"):
        write_report([" "], providers={"planner": Scripted(faithful)})
    with pytest.raises(ConfigError, match="too many"):
        write_report([f"note {i}" for i in range(MAX_BULLETS + 1)])


# --------------------------------------------------------------------------- the CLI
@pytest.fixture
def scripted_models(monkeypatch) -> Scripted:
    provider = Scripted(stubborn)
    monkeypatch.setattr("wxai.assistant.llm.registry.get_provider", lambda alias=None: provider)
    return provider


def _cli(*args: str):
    from wxai.cli.app import app

    return CliRunner().invoke(app, ["agent", "report", *args])


def test_cli_writes_the_report_atomically_and_prints_the_verdict(tmp_path, scripted_models):
    notes = tmp_path / "notes.md"
    notes.write_text("# Situation\n\n" + "".join(f"- {n}\n" for n in NOTES))
    out = tmp_path / "out" / "report.md"
    result = _cli(str(notes), "--out", str(out), "--max-revisions", "1")
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.startswith("# Rain and wind") and RESTORED_MARK in text
    assert "passed after repairs" in result.stdout and "1 revision" in result.stdout
    assert [p.name for p in out.parent.iterdir()] == ["report.md"]  # no temporary left

    result = _cli(str(notes), "--out", str(out), "--json", "--max-revisions", "0")
    summary = json.loads(result.stdout)
    assert summary["revisions"] == 0 and summary["passed"] and not summary["model_draft_passed"]
    assert summary["out"] == str(out)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("", "is empty"),
        ("Just prose, no list.\n", "no bullet points"),
        ("- x\n" * 40_000, "too large"),
        (b"- caf\xe9\n", "not UTF-8"),
    ],
)
def test_cli_rejects_bad_notes_files(tmp_path, scripted_models, content, message):
    notes = tmp_path / "notes.md"
    if isinstance(content, bytes):
        notes.write_bytes(content)
    elif content is not None:
        notes.write_text(content)
    result = _cli(str(notes), "--out", str(tmp_path / "r.md"))
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "r.md").exists()
    assert scripted_models.calls == []


# --------------------------------------------------------------------------- the real model
def test_the_local_model_writes_a_report_whose_verdict_is_true(local_report) -> None:
    result, bullets = local_report
    titles = [t for _, t in headings(result.markdown)]
    prompts = ReportPrompts.load()
    assert titles[0] == result.plan.title
    assert titles[1 : len(result.plan.sections) + 2] == [
        *result.plan.titles(), prompts.impacts_title,
    ]  # fmt: skip
    # the reported verdict is the checker's verdict on the text that was written
    recheck = check_report(
        result.markdown, bullets, [*result.plan.titles(), prompts.impacts_title],
        placement={i: s.title for s in result.plan.sections for i in s.bullets},
    )  # fmt: skip
    assert recheck.passed == result.check.passed
    assert (NOTES_HEADING in result.markdown) == (not result.model_check.passed)
    if not result.model_check.passed:
        assert f"after {result.revisions} revision(s)" in result.markdown
    assert result.revisions <= 1
    assert set(result.restored) <= set(bullets)


@pytest.fixture(scope="module")
def local_report():
    bullets = [
        "A cold front crosses Bavaria on Tuesday afternoon",
        "Thunderstorms with hail and gusts of 80 km/h near Munich",
        "DWD warning level 2 for the Alps",
    ]
    return write_report(bullets, ReportConfig(max_revisions=1, polish=False)), bullets
