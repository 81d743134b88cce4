"""Assembling the report: the Markdown document, repairs, notes, and a one-shot baseline.

Pure functions used by :mod:`wxai.assistant.agents.report`: :func:`assemble` puts
the planned sections under their headings, :func:`drop_invented` removes sentences
whose numbers or names are not in the notes, :func:`checker_notes` writes the account
of a failed check, and :func:`one_shot_report` is the baseline that asks one model
for the whole report at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from wxai.assistant.agents.report_check import NOTES_HEADING, ReportCheck, check_report
from wxai.assistant.agents.report_plan import ReportPlan
from wxai.assistant.llm.types import LLMProvider, Message

__all__ = ["RESTORED_MARK", "assemble", "checker_notes", "drop_invented", "one_shot_report"]

#: Marks text put back from the notes rather than written by a model.
RESTORED_MARK = "*[restored from the notes]*"


def assemble(
    plan: ReportPlan, sections: Mapping[str, str], impacts_title: str, impacts: str
) -> str:
    """The Markdown document: title, the planned sections in order, the impacts."""
    parts = [f"# {plan.title}"]
    for section in plan.sections:
        parts.append(f"## {section.title}\n\n{sections.get(section.title, '').strip()}".rstrip())
    parts.append(f"## {impacts_title}\n\n{impacts.strip()}".rstrip())
    return "\n\n".join(parts) + "\n"


def drop_invented(text: str, bullets: Sequence[str]) -> tuple[str, list[str]]:
    """``text`` without its sentences that hold numbers or names not in the notes."""
    kept_lines, dropped = [], []
    for line in text.splitlines():
        kept = []
        for sentence in re.split(r"(?<=[.!?])\s+", line):
            if sentence.strip() and check_report(sentence, bullets, required=[]).unsupported:
                dropped.append(sentence.strip())
            else:
                kept.append(sentence)
        if " ".join(kept).strip() or not line.strip():
            kept_lines.append(" ".join(kept).rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept_lines)).strip(), dropped


def checker_notes(
    model: ReportCheck,
    final: ReportCheck,
    restored: Sequence[str],
    removed: Sequence[str],
    *,
    revisions: int,
    errors: Sequence[str] = (),
) -> str:
    """The "Checker notes" section: what the models got wrong and what was done about it."""
    lines = [
        f"## {NOTES_HEADING}",
        "",
        f"- The model-written draft failed the fact check after {revisions} revision(s): "
        f"{model.n_facts - len(model.missing)} of {model.n_facts} facts kept, "
        f"{len(model.unsupported)} number(s) or name(s) not in the notes.",
    ]
    if restored:
        lines.append(f"- {len(restored)} note(s) restored verbatim, marked {RESTORED_MARK}.")
    if removed:
        lines.append(f"- {len(removed)} sentence(s) removed for numbers or names not in the notes.")
    if final.passed:
        lines.append("- After these repairs the report passes the check.")
    else:
        lines.append("- The report still FAILS the check:")
        lines += [f"  - {f}" for f in final.findings()]
    lines += [f"- Error: {error}" for error in errors]
    return "\n".join(lines) + "\n"


def one_shot_report(
    bullets: Sequence[str],
    plan: ReportPlan,
    provider: LLMProvider,
    *,
    impacts_title: str = "What this means",
    max_tokens: int = 400,
) -> str:
    """The baseline: one model call writes the whole report, with no roles and no checker.

    The model is given the notes and the planned headings, so the report can be
    checked with the same rules as the crew's.
    """
    titles = [*plan.titles(), impacts_title]
    system = (
        "You write weather reports in Markdown. Start with '# ' and the title, then one "
        "'## ' heading per section, in the order given, each with a short paragraph. Keep "
        "every number, date, time and name of the notes; add no other numbers."
    )
    user = f"Title: {plan.title}\nSections: {'; '.join(titles)}\nNotes:\n" + "\n".join(
        f"- {b}" for b in bullets
    )
    messages = [Message.system(system), Message.user(user)]
    return provider.chat(messages, max_tokens=max_tokens).content
