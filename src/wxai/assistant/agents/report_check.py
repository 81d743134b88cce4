"""The report checker: a rule-based test that a report keeps the facts of its notes.

No model is involved: the notes' numbers (with units), dates, times, warning levels
and names are extracted with regular expressions and looked for in the report.

Rules
-----
* **Facts survive.** Every number of the notes, with its unit where one is written
  (``25 mm``, ``-3.5 °C``, ``90 km/h``, ``70 %``), every date (``14 March``,
  ``2026-03-14`` and ``14.03.2026`` are the same date), every time (``18 UTC``,
  ``1800 UTC``, ``18Z`` and ``18:00`` are the same time), every warning level
  (``level 3``, ``orange warning``) and every name (``Offenbach``, ``Black Forest``,
  ``ICON-EU``, ``DWD``) must appear in the report. Forms are normalised first:
  ``25mm`` = ``25 mm``, ``2,5`` = ``2.5`` (a comma followed by exactly three digits
  is a thousands separator), the unicode minus and dashes = ``-``, ``minus 3`` =
  ``-3``, unit words (``millimetres``, ``per cent``, ``degrees Celsius``) = symbols.
* **No invented numbers or names.** Every number in the report must be a number of
  the notes with a compatible unit (the same unit, or no unit on either side).
  Section numbering (``## 2. Wind``) and ordered-list markers are not numbers of
  the text. Every name in the report's text (headings aside) must be made of words
  that occur in the notes (case-insensitively): "Düsseldorf" in a report on Hesse
  is flagged, and so is an expanded acronym ("German Weather Service" for "DWD").
* **Structure.** The planned section titles are Markdown headings of the report, in
  the planned order.

The section called :data:`NOTES_HEADING` (the honest list of what the checker found,
added by the report graph) is left out of the check.

Limits: a capitalised word that only ever starts a bullet or sentence is not taken
as a name (``Heavy rain ...`` would otherwise demand the word "Heavy"); numbers
written as words are not seen.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Protocol

__all__ = [
    "NOTES_HEADING",
    "Fact",
    "Mention",
    "PlanLike",
    "ReportCheck",
    "check_report",
    "extract_facts",
    "find_mentions",
    "headings",
    "normalise_title",
]

#: Heading of the checker's own notes in a report; that section is not checked.
NOTES_HEADING = "Checker notes"

FactKind = Literal["number", "date", "time", "level", "entity"]

_MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ]
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_ORD = r"(?:st|nd|rd|th)?"

# canonical unit: spellings (matched case-insensitively unless listed in _CASED_UNITS)
_UNITS: dict[str, tuple[str, ...]] = {
    "mm/h": ("mm/h", "mm per hour", "millimetres per hour", "millimeters per hour"),
    "l/m2": ("l/m2", "l/m²", "litres per square metre", "liters per square meter"),
    "km/h": ("km/h", "kmh", "kph", "kilometres per hour", "kilometers per hour"),
    "m/s": ("m/s", "metres per second", "meters per second"),
    "J/kg": ("j/kg",),
    "W/m2": ("w/m2", "w/m²"),
    "mm": ("mm", "millimetres", "millimeters", "millimetre", "millimeter"),
    "cm": ("cm", "centimetres", "centimeters", "centimetre", "centimeter"),
    "km": ("km", "kilometres", "kilometers", "kilometre", "kilometer"),
    "m": ("m", "metres", "meters", "metre", "meter"),
    "°C": ("°c", "° c", "degc", "degrees celsius", "degree celsius", "degrees c"),
    "°F": ("°f", "° f", "degrees fahrenheit"),
    "kn": ("kn", "kt", "kts", "knots"),
    "mph": ("mph",),
    "hPa": ("hpa", "hectopascals", "hectopascal", "mbar", "mb"),
    "%": ("%", "per cent", "percent"),
    "h": ("h", "hr", "hrs", "hours", "hour"),
    "min": ("min", "minutes", "minute"),
    "days": ("days", "day"),
    "K": ("K",),
}
_CASED_UNITS = {"K"}
_UNIT_OF = {spelling: unit for unit, spellings in _UNITS.items() for spelling in spellings}
_UNIT = (
    r"(?P<unit>"
    + "|".join(re.escape(s) for s in sorted(_UNIT_OF, key=len, reverse=True))
    + r")(?![\w/²])"
)

_DATE_DM = re.compile(rf"\b(?P<day>[0-3]?\d){_ORD}\.?\s+(?:of\s+)?{_MONTH}(?![a-z])", re.I)
_DATE_MD = re.compile(rf"\b{_MONTH}\s+(?P<day>[0-3]?\d){_ORD}\b(?!\s*[:.,]?\d)", re.I)
_DATE_ISO = re.compile(r"\b(?P<year>\d{4})-(?P<month>[01]\d)-(?P<day>[0-3]\d)\b")
_DATE_DOTS = re.compile(r"\b(?P<day>[0-3]?\d)\.(?P<month>[01]?\d)\.(?P<year>\d{4})\b")
_TIME_COLON = re.compile(
    r"\b(?P<hour>[01]?\d|2[0-3]):(?P<minute>[0-5]\d)(?:\s*(?:UTC|Z|CET|CEST|MEZ|MESZ)\b)?"
)
_TIME_ZONE = re.compile(r"\b(?P<hour>[01]?\d|2[0-3])(?P<minute>[0-5]\d)?\s?(?:UTC|Z)\b")
_NUMBER = re.compile(
    r"(?:(?<![\w.,])(?P<sign>-|minus\s+)|(?<![\w.,]))"
    r"(?P<num>\d+(?:[.,]\d+)?)(?:st|nd|rd|th)?"
    rf"(?:\s?{_UNIT})?",
    re.I,
)
_LEVEL_NUM = re.compile(r"\b(?:warning\s+)?level\s+(?P<n>\d)\b", re.I)
_LEVEL_COLOUR = re.compile(r"\b(?P<c>red|orange|amber|yellow|purple)\s+(?:warning|alert)s?\b", re.I)
_HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<title>.*?)\s*#*\s*$")
_NUMBERING = re.compile(r"^(?:\d+(?:\.\d+)*[.)]?|[IVX]+\.)\s+")
_LIST_MARKER = re.compile(r"^(?P<indent>\s*)(?:\d+[.)]|[-*+])\s+")
_WORD = re.compile(r"[^\W\d_][\w]*(?:-[\w]+)*")
_NOT_NAMES = {"I", "A", "UTC", "Z", *(m.capitalize() for m in _MONTHS)}


@dataclass(frozen=True)
class Fact:
    """One fact of the notes that the report must keep.

    Attributes
    ----------
    kind:
        ``number``, ``date``, ``time``, ``level`` (warning level) or ``entity`` (a name).
    text:
        The fact as written in the notes.
    key:
        Its normalised form, compared with the report's.
    bullet:
        Index of the first note that holds it.
    section:
        The section it must be in ("" when anywhere in the report will do).
    """

    kind: FactKind
    text: str
    key: str
    bullet: int
    section: str = ""


@dataclass(frozen=True)
class Mention:
    """A number, date or time found in a text, with the section it is in."""

    kind: FactKind
    text: str
    key: str
    section: str = ""


@dataclass(frozen=True)
class ReportCheck:
    """The checker's verdict on a report.

    Attributes
    ----------
    missing:
        Facts of the notes not found in the report.
    unsupported:
        Numbers, dates, times and names of the report that are not in the notes.
    missing_sections:
        Planned section titles with no matching heading.
    order_ok:
        Whether the planned headings that are present come in the planned order.
    n_facts:
        How many facts the notes hold.
    """

    missing: tuple[Fact, ...] = ()
    unsupported: tuple[Mention, ...] = ()
    missing_sections: tuple[str, ...] = ()
    order_ok: bool = True
    n_facts: int = 0
    headings: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        """True when nothing is missing, nothing invented and the structure is right."""
        return not (self.missing or self.unsupported or self.missing_sections) and self.order_ok

    @property
    def fact_recall(self) -> float:
        """Fraction of the notes' facts found in the report (1.0 without facts)."""
        return 1.0 - len(self.missing) / self.n_facts if self.n_facts else 1.0

    def findings(self) -> list[str]:
        """One human-readable line per problem (empty when the check passed)."""
        lines = [
            f"missing {f.kind}: {f.text!r} (note {f.bullet + 1}"
            + (f", section {f.section!r})" if f.section else ")")
            for f in self.missing
        ]
        for m in self.unsupported:
            where = f" (section {m.section!r})" if m.section else ""
            what = "name" if m.kind == "entity" else "number"
            lines.append(f"{what} not in the notes: {m.text!r}{where}")
        lines += [f"missing section heading: {t!r}" for t in self.missing_sections]
        if not self.order_ok:
            lines.append("the section headings are not in the planned order")
        return lines

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, with ``passed``, ``fact_recall`` and ``findings``."""
        out = asdict(self)
        out.update(passed=self.passed, fact_recall=self.fact_recall, findings=self.findings())
        return out


def _clean(text: str) -> str:
    """NFKC, one kind of minus and hyphen, no non-breaking spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[\u2212\u2012\u2013\u2014\uFE63\uFF0D](?=\s?\d)", "-", text)
    return text.replace("\u2011", "-").replace("\u2010", "-")


def _value(raw: str, sign: str | None) -> str:
    """Canonical decimal string of a number: decimal comma, thousands comma, sign."""
    if "," in raw:
        head, tail = raw.split(",", 1)
        raw = head + tail if len(tail) == 3 else f"{head}.{tail}"
    try:
        value = Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the regex only passes digits
        return raw
    if sign:
        value = -value
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _mask(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def find_mentions(text: str, section: str = "") -> list[Mention]:
    """Numbers (with units), dates and times of ``text``, each with a normalised key.

    Keys: ``number:<value>|<unit>`` (unit empty when none), ``date:MM-DD``,
    ``time:HH:MM``. A year written in a numeric date is also a number.
    """
    text = _clean(text)
    found: list[tuple[int, Mention]] = []

    def add(pos: int, kind: FactKind, raw: str, key: str) -> None:
        found.append((pos, Mention(kind, raw.strip(), key, section)))

    for pattern in (_DATE_ISO, _DATE_DOTS, _DATE_DM, _DATE_MD):
        for m in pattern.finditer(text):
            month = m["month"]
            month_n = _MONTHS[month.lower().rstrip(".")] if month.isalpha() else int(month)
            day = int(m["day"])
            if not (1 <= month_n <= 12 and 1 <= day <= 31):
                continue
            add(m.start(), "date", m[0], f"date:{month_n:02d}-{day:02d}")
            if "year" in m.groupdict() and m["year"]:
                add(m.start(), "number", m["year"], f"number:{int(m['year'])}|")
            text = _mask(text, m.start(), m.end())
    for pattern in (_TIME_COLON, _TIME_ZONE):
        for m in pattern.finditer(text):
            minute = int(m["minute"] or 0)
            add(m.start(), "time", m[0], f"time:{int(m['hour']):02d}:{minute:02d}")
            text = _mask(text, m.start(), m.end())
    for m in _NUMBER.finditer(text):
        unit = m["unit"]
        canonical = ""
        if unit is not None:
            spelling = unit if unit in _CASED_UNITS else unit.lower()
            canonical = _UNIT_OF.get(spelling, "")
            if not canonical:  # a lower-case "k" is not kelvin
                canonical = ""
        value = _value(m["num"].replace(" ", ""), m["sign"])
        add(m.start(), "number", m[0], f"number:{value}|{canonical}")
    return [mention for _, mention in sorted(found, key=lambda item: item[0])]


def _levels(text: str) -> list[tuple[str, str]]:
    """Warning levels of ``text`` as (as written, key)."""
    out = [(m[0], f"level:{m['n']}") for m in _LEVEL_NUM.finditer(text)]
    out += [(m[0], f"level:{m['c'].lower()}") for m in _LEVEL_COLOUR.finditer(text)]
    return out


def _is_acronym(word: str) -> bool:
    """DWD, ICON-EU, ICON-D2, GraphCast: two capitals, or a capital with digits."""
    capitals = sum(c.isupper() for c in word)
    return capitals >= 2 or (capitals >= 1 and any(c.isdigit() for c in word))


def _names(text: str) -> list[str]:
    """Capitalised names of ``text``: acronyms and runs of capitalised words.

    A capitalised plain word at the start of a sentence counts only when the same
    word is capitalised elsewhere in ``text`` (not at a sentence start).
    """
    text = _clean(text)
    tokens: list[tuple[str, bool, bool]] = []  # word, starts a sentence, joins previous
    previous_end: int | None = None
    for m in _WORD.finditer(text):
        gap = "" if previous_end is None else text[previous_end : m.start()]
        first = previous_end is None or re.search(r"[.!?:;]\s|\n", gap) is not None
        joins = previous_end is not None and gap in (" ", "\t")
        tokens.append((m[0], first, joins))
        previous_end = m.end()
    inner = {w for w, first, _ in tokens if not first and w[:1].isupper()}
    names: list[str] = []
    run: list[str] = []

    def close() -> None:
        if run:
            names.append(" ".join(run))
            run.clear()

    for word, first, joins in tokens:
        capital = word[:1].isupper() and word not in _NOT_NAMES
        keep = capital and (_is_acronym(word) or not first or word in inner)
        if keep and run and joins:
            run.append(word)
        elif keep:
            close()
            run.append(word)
        else:
            close()
    close()
    return [n for n in names if len(n) > 1]


def extract_facts(bullets: Sequence[str]) -> list[Fact]:
    """The facts of the notes, first occurrence only, in note order."""
    facts: list[Fact] = []
    seen: set[str] = set()
    context = "\n".join(_clean(b) for b in bullets)
    inner = set(_names(context))  # a name used mid-sentence anywhere counts everywhere
    for index, bullet in enumerate(bullets):
        found: list[tuple[FactKind, str, str]] = [
            (m.kind, m.text, m.key) for m in find_mentions(bullet)
        ]
        found += [("level", text, key) for text, key in _levels(_clean(bullet))]
        names = dict.fromkeys(_names(bullet))
        for word in _WORD.findall(_clean(bullet)):
            if word in inner and word not in names:
                names[word] = None
        found += [("entity", name, f"entity:{name}") for name in names]
        for kind, text, key in found:
            if key not in seen:
                seen.add(key)
                facts.append(Fact(kind, text, key, index))
    return facts


def headings(markdown: str) -> list[tuple[int, str]]:
    """(level, title) of every Markdown ATX heading outside fenced code."""
    out: list[tuple[int, str]] = []
    fenced = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        m = None if fenced else _HEADING.match(line)
        if m:
            out.append((len(m["hashes"]), m["title"]))
    return out


def normalise_title(title: str) -> str:
    """A heading title for comparison: no numbering, emphasis, case or punctuation."""
    title = _NUMBERING.sub("", _clean(title).strip().strip("*_ "))
    return " ".join(re.sub(r"[^\w\s/-]", " ", title.lower()).split())


def _sections(markdown: str) -> list[tuple[str, str]]:
    """(heading title, body) pieces; the text before the first heading has title ''.

    Heading numbering and list markers are removed from the text, so that they are
    not read as numbers.
    """
    pieces: list[tuple[str, list[str]]] = [("", [])]
    for line in _clean(markdown).splitlines():
        m = _HEADING.match(line)
        if m:
            title = m["title"]
            pieces.append((title, [_NUMBERING.sub("", title.strip())]))
            continue
        pieces[-1][1].append(_LIST_MARKER.sub(r"\g<indent>", line))
    return [(title, "\n".join(lines)) for title, lines in pieces]


def _present(fact: Fact, text: str, keys: set[str]) -> bool:
    if fact.kind == "entity":
        name = re.escape(fact.key.removeprefix("entity:")).replace(r"\ ", r"\s+")
        return re.search(rf"(?<![\w-]){name}(?![\w-])", text) is not None
    if fact.kind == "level":
        return fact.key in {key for _, key in _levels(text)}
    return fact.key in keys


def _invented_names(parts: Sequence[tuple[str, str]], bullets: Sequence[str]) -> list[Mention]:
    """Names in the report's text (headings aside) with a word that is in no note.

    Words are compared case-insensitively, so "Forecast" is supported by
    "forecast"; "Düsseldorf" or "Pacific Ocean" in a report on Hesse is not.
    """
    known = {
        w.lower() for b in bullets for w in re.split(r"[\s-]+", " ".join(_WORD.findall(_clean(b))))
    }
    out = []
    for title, body in parts:
        text = body.split("\n", 1)[1] if title and "\n" in body else ("" if title else body)
        for name in dict.fromkeys(_names(text)):
            if any(w.lower() not in known for w in re.split(r"[\s-]+", name) if w):
                out.append(Mention("entity", name, f"entity:{name}", title))
    return out


def _supported(mention: Mention, keys: set[str]) -> bool:
    if mention.key in keys:
        return True
    if mention.kind != "number":
        return False
    value, unit = mention.key.removeprefix("number:").split("|")
    for key in keys:
        if key.startswith("number:"):
            v, u = key.removeprefix("number:").split("|")
            if v == value and (not u or not unit):
                return True
    return False


class _Section(Protocol):
    title: str
    bullets: list[int]


class PlanLike(Protocol):
    """What :func:`check_report` needs of a plan: sections with titles and note indices."""

    @property
    def sections(self) -> Sequence[_Section]: ...


def check_report(
    markdown: str,
    bullets: Sequence[str],
    plan: PlanLike | Sequence[str] | None = None,
    *,
    required: Sequence[int] | None = None,
    placement: Mapping[int, str] | None = None,
) -> ReportCheck:
    """Check ``markdown`` against the notes ``bullets`` and the planned headings.

    Parameters
    ----------
    markdown:
        The report (or one section of it).
    bullets:
        The notes, one fact-bearing line each.
    plan:
        The planned sections: a plan (sections with ``title`` and ``bullets``), or
        just the titles. The titles must be headings, in this order. With a plan,
        each note's facts must be in the section planned for it. ``None`` skips the
        structure check (for checking one section).
    required:
        Indices of the notes whose facts must be in ``markdown`` (default: all). All
        notes count as support for the report's numbers either way.
    placement:
        Note index -> section title its facts must be in; replaces the placement
        taken from ``plan``. Notes without a place may be anywhere.

    Returns
    -------
    ReportCheck
        The verdict; :attr:`ReportCheck.passed` and :meth:`ReportCheck.findings`.
    """
    titles_planned: list[str] | None = None
    where: dict[int, str] = {}
    if plan is not None and hasattr(plan, "sections"):
        titles_planned = [s.title for s in plan.sections]
        where = {i: s.title for s in plan.sections for i in s.bullets}
    elif plan is not None:
        titles_planned = [str(t) for t in plan]  # type: ignore[union-attr]
    if placement is not None:
        where = dict(placement)
    facts = extract_facts(bullets)
    wanted = set(range(len(bullets))) if required is None else set(required)
    body_parts = [
        (title, body)
        for title, body in _sections(markdown)
        if normalise_title(title) != normalise_title(NOTES_HEADING)
    ]
    by_title: dict[str, str] = {}
    for title, text in body_parts:
        key = normalise_title(title)
        by_title[key] = by_title.get(key, "") + "\n" + text
    body = "\n".join(text for _, text in body_parts)
    mentions = [m for title, text in body_parts for m in find_mentions(text, title)]
    missing: list[Fact] = []
    for fact in facts:
        if fact.bullet not in wanted:
            continue
        section = where.get(fact.bullet, "")
        text = by_title.get(normalise_title(section), "") if section else body
        keys = {m.key for m in find_mentions(text)} if section else {m.key for m in mentions}
        if not _present(fact, text, keys):
            missing.append(replace(fact, section=section))
    note_keys = {f.key for f in facts if f.kind in ("number", "date", "time")}
    # "the 14th" and "18 o'clock" refer to a date's day and a time's hour
    note_keys |= {f"number:{int(f.key[-2:])}|" for f in facts if f.kind == "date"}
    note_keys |= {f"number:{int(f.key[5:7])}|" for f in facts if f.kind == "time"}
    unsupported = [m for m in mentions if not _supported(m, note_keys)]
    unsupported += _invented_names(body_parts, bullets)
    titles = tuple(title for _, title in headings(markdown))
    missing_sections: tuple[str, ...] = ()
    order_ok = True
    if titles_planned is not None:
        found = [normalise_title(t) for t in titles]
        positions = []
        missing_list = []
        for planned in titles_planned:
            key = normalise_title(planned)
            if key in found:
                positions.append(found.index(key))
            else:
                missing_list.append(planned)
        missing_sections = tuple(missing_list)
        order_ok = positions == sorted(positions)
    return ReportCheck(
        missing=tuple(missing),
        unsupported=tuple(unsupported),
        missing_sections=missing_sections,
        order_ok=order_ok,
        n_facts=sum(f.bullet in wanted for f in facts),
        headings=titles,
    )
