"""The report checker: facts of the notes in, invented numbers out, planned headings in order."""

from __future__ import annotations

import json

import pytest

from wxai.assistant.agents.report_check import (
    NOTES_HEADING,
    check_report,
    extract_facts,
    find_mentions,
    normalise_title,
)
from wxai.assistant.agents.report_plan import PlanSection, ReportPlan

NOTES = [
    "Heavy rain of 25 mm in 6 hours expected in Offenbach on 14 March",
    "ICON-EU shows gusts up to 90 km/h on the Brocken",
    "DWD issued warning level 3 for Hesse",
    "Temperatures fall to -3.5 °C overnight, 70 % chance of snow",
]
PLAN = ReportPlan(
    title="Weather report",
    sections=[
        PlanSection(title="Rain", bullets=[0]),
        PlanSection(title="Wind", bullets=[1]),
        PlanSection(title="Warnings", bullets=[2, 3]),
    ],
)
GOOD = """# Weather report

## Rain

Offenbach can expect heavy rain: 25mm within 6 h on March 14th.

## Wind

The ICON-EU model brings gusts of up to 90 kilometres per hour to the Brocken.

## Warnings

The DWD has issued a warning at level 3 for Hesse. Overnight it gets as cold as
−3,5 °C, with a 70 per cent chance of snow.
"""


def _keys(text: str) -> list[str]:
    return [m.key for m in find_mentions(text)]


def test_a_faithful_report_passes_whatever_the_spelling() -> None:
    check = check_report(GOOD, NOTES, PLAN)
    assert check.passed, check.findings()
    assert check.fact_recall == 1.0
    assert check.n_facts == len(extract_facts(NOTES)) >= 12
    json.dumps(check.to_dict())


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("25 mm", "number:25|mm"),
        ("25mm", "number:25|mm"),
        ("25 millimetres", "number:25|mm"),
        ("-3.5 °C", "number:-3.5|°C"),
        ("\u22123,5\u00a0°C", "number:-3.5|°C"),  # unicode minus, decimal comma, no-break space
        ("minus 3.5 degrees Celsius", "number:-3.5|°C"),
        ("90 km/h", "number:90|km/h"),
        ("70%", "number:70|%"),
        ("70 per cent", "number:70|%"),
        ("1,500 J/kg", "number:1500|J/kg"),
        ("25.0 mm", "number:25|mm"),
        ("14 March", "date:03-14"),
        ("March 14th", "date:03-14"),
        ("18 UTC", "time:18:00"),
        ("1800 UTC", "time:18:00"),
        ("18Z", "time:18:00"),
        ("18:00", "time:18:00"),
    ],
)
def test_numbers_dates_and_times_are_normalised(text: str, key: str) -> None:
    assert _keys(text) == [key]


def test_numeric_dates_match_written_ones_and_keep_their_year() -> None:
    assert _keys("2026-03-14") == ["date:03-14", "number:2026|"]
    assert _keys("14.03.2026") == ["date:03-14", "number:2026|"]
    assert _keys("14 March 2026") == ["date:03-14", "number:2026|"]


def test_ranges_and_names_with_digits_are_not_negative_numbers() -> None:
    assert _keys("10-15 mm") == ["number:10|", "number:15|mm"]
    assert _keys("ICON-D2 and ICON-EU") == []


def test_names_models_and_warning_levels_are_facts() -> None:
    notes = [
        "Storm Xaver reaches the Black Forest at night",
        "ICON-D2 and ECMWF agree; orange warning for Bavaria",
        "Heavy snow later",
    ]
    facts = {(f.kind, f.text) for f in extract_facts(notes)}
    assert {("entity", "Xaver"), ("entity", "Black Forest"), ("entity", "ICON-D2")} <= facts
    assert {("entity", "ECMWF"), ("entity", "Bavaria"), ("level", "orange warning")} <= facts
    # a common word that only starts a note is not a name
    assert not any(text in ("Storm", "Heavy") for _, text in facts)


def test_a_dropped_fact_fails_and_is_named() -> None:
    check = check_report(GOOD.replace("Offenbach", "The town"), NOTES, PLAN)
    assert not check.passed
    assert [f.text for f in check.missing] == ["Offenbach"]
    assert check.findings() == ["missing entity: 'Offenbach' (note 1, section 'Rain')"]


def test_a_wrong_unit_is_both_missing_and_invented() -> None:
    check = check_report(GOOD.replace("90 kilometres per hour", "90 m/s"), NOTES, PLAN)
    assert [f.text for f in check.missing] == ["90 km/h"]
    assert [m.text for m in check.unsupported] == ["90 m/s"]


def test_a_hallucinated_number_is_flagged_with_its_section() -> None:
    check = check_report(GOOD + "\nUp to 40 mm fall locally.\n", NOTES, PLAN)
    assert not check.passed
    assert [(m.text, m.section) for m in check.unsupported] == [("40 mm", "Warnings")]


def test_section_numbering_and_list_markers_are_not_numbers() -> None:
    numbered = GOOD.replace("## Rain", "## 1. Rain").replace("## Wind", "## 2) Wind")
    numbered = numbered.replace("## Warnings", "## 3. Warnings\n\n1. First point\n2. Second")
    check = check_report(numbered, NOTES, PLAN)
    assert check.passed, check.findings()


def test_a_missing_section_heading_fails() -> None:
    check = check_report(GOOD.replace("## Wind\n", ""), NOTES, PLAN)
    assert check.missing_sections == ("Wind",)
    assert not check.passed


def test_headings_out_of_order_fail() -> None:
    swapped = GOOD.replace("## Rain", "## TMP").replace("## Wind", "## Rain")
    swapped = swapped.replace("## TMP", "## Wind")
    check = check_report(swapped, NOTES, ["Rain", "Wind", "Warnings"])
    assert not check.order_ok and not check.passed
    assert "not in the planned order" in check.findings()[-1]


def test_facts_must_be_in_their_planned_section() -> None:
    moved = GOOD.replace("Offenbach can expect", "Expect").replace(
        "for Hesse.", "for Hesse and Offenbach."
    )
    assert check_report(moved, NOTES, [s.title for s in PLAN.sections]).passed  # titles only
    check = check_report(moved, NOTES, PLAN)
    assert [(f.text, f.section) for f in check.missing] == [("Offenbach", "Rain")]


def test_the_checker_notes_section_is_not_checked() -> None:
    report = GOOD + f"\n## {NOTES_HEADING}\n\n- removed a sentence with 40 mm\n"
    assert check_report(report, NOTES, PLAN).passed


def test_heading_titles_compare_without_numbering_case_or_emphasis() -> None:
    assert normalise_title("2. **What this means**") == normalise_title("What This Means")


def test_an_invented_name_is_flagged_but_capitalised_note_words_are_not() -> None:
    invented = GOOD + "\nThe warning also covers Düsseldorf and the Pacific Ocean.\n"
    check = check_report(invented, NOTES, PLAN)
    assert [(m.kind, m.text) for m in check.unsupported] == [
        ("entity", "Düsseldorf"), ("entity", "Pacific Ocean"),
    ]  # fmt: skip
    assert "name not in the notes: 'Düsseldorf' (section 'Warnings')" in check.findings()
    # "Heavy" and "Temperatures" are words of the notes; headings are not checked
    fine = GOOD + "\nIn short: Heavy rain, falling Temperatures.\n\n## Outlook Beyond\n"
    assert check_report(fine, NOTES, PLAN).passed
