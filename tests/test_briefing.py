"""The leadership briefing's words (issue 17): a headline that states the whole incident, scoped
district briefings that label what is the district's and what is incident-wide, the incident's
own nouns, UK local times, counts right-aligned with separators, durations in days and hours,
overdue actions worded as overdue, and the formula kept for the appendix."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskkit import wording
from riskkit.analysis import scope
from riskkit.register import IncidentState
from riskkit.report import briefing, words


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace(" .", ".").strip()


# --- wording -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("hours", "words"), [
    (988.25, "41 days 4 hours"), (49.5, "2 days 1 hour"), (48, "2 days"), (24.9, "1 day"),
    (5.5, "5 hours 30 minutes"), (1, "1 hour"), (0.2, "12 minutes"), (-988.25, "41 days 4 hours"),
])
def test_durations_are_in_days_and_hours(hours, words):
    assert wording.duration(hours) == words


def test_time_left_and_the_headline_days():
    assert wording.time_left(49.5) == "2 days 1 hour left"
    assert wording.time_left(-988.25) == "overdue by 41 days 4 hours"
    assert wording.days_left(49.5) == "within 2 days"
    assert wording.days_left(5.2) == "within 5 hours"
    assert wording.days_left(-75) == "overdue by 3 days"


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_a_duration_never_overstates_and_is_off_by_less_than_its_smallest_unit(hours):
    words = wording.duration(hours)
    numbers = dict((unit.rstrip("s"), int(n.replace(",", ""))) for n, unit in re.findall(r"([\d,]+) (\w+)", words))
    total = numbers.get("day", 0) * 24 + numbers.get("hour", 0) + numbers.get("minute", 0) / 60
    unit = 1 if "day" in numbers else 1 / 60
    assert total <= abs(hours) + 1e-9 and abs(hours) - total < unit + 1e-9
    assert len(numbers) <= 2


def test_times_are_uk_local_with_the_zone_name_and_counts_have_separators():
    assert wording.when(datetime(2026, 10, 12, 9, 30, tzinfo=UTC)) == "Mon 12 Oct 2026 10:30 BST"
    assert wording.when(datetime(2026, 1, 23, 9, 0, tzinfo=UTC)) == "Fri 23 Jan 2026 09:00 GMT"
    assert wording.when_iso("2026-10-12T10:30:00+01:00") == "Mon 12 Oct 2026 10:30 BST"
    assert wording.number(1067) == "1,067" and wording.number(7) == "7"


def test_register_status_counts_days_not_thousands_of_hours():
    s = IncidentState("x", deadline=datetime(2026, 1, 1, tzinfo=UTC))
    assert s.status(now=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=7276)) == "overdue by 303 days 4 hours"
    assert s.status(now=datetime(2026, 1, 1, tzinfo=UTC) - timedelta(hours=30)) == "due in 1 day 6 hours"


# --- the headline ------------------------------------------------------------------------------

def test_the_headline_states_the_whole_incident(asb_analysis):
    a = asb_analysis
    html = briefing.headline(a).data
    text = _text(html)
    placed = a.districts[a.districts.lad_code != "unassigned"]
    top = placed.sort_values(["cases", "district"], ascending=[False, True]).iloc[0]
    worst = a.people["band"].max()
    assert f"{len(a.people)} people (between" in text
    assert f"in {a.cases} {a.incident.case_noun} across {len(placed)} districts" in text
    assert f"{int((a.people['band'] == worst).sum())} of them at {worst} risk" in text
    assert re.search(r"Report to the ICO within \d+ days? \(by \w{3} \d+ \w{3} 2026 \d\d:\d\d BST\)", text)
    assert f"Most in {top['district']} ({int(top['cases'])} of {a.cases} cases), then " in text
    assert "relate to" not in text  # the old headline read as if the breach were one district's
    assert text.index(f"{len(a.people)} people") < text.index(top["district"])


def test_an_overdue_incident_is_worded_overdue_in_the_headline_and_actions(asb_analysis):
    a = replace(asb_analysis, decisions=replace(asb_analysis.decisions, hours_left=-988.25))
    assert "Report to the ICO now: the deadline passed, overdue by 41 days" in _text(briefing.headline(a).data)
    actions = _text(briefing.actions(a).data)
    assert "now: the deadline was" in actions and "overdue by 41 days 4 hours" in actions
    assert "(41 days 4 hours left)" not in actions and " by Mon" not in actions.split("now:")[0]
    decisions = briefing.decisions(a).data
    assert "overdue by 41 days 4 hours" in decisions and "rk-overdue" in decisions
    assert "hours 15 minutes" not in decisions


def test_a_decision_not_to_notify_is_worded_with_its_own_deadline(asb_analysis):
    d = asb_analysis.decisions
    ahead = replace(asb_analysis, decisions=replace(d, notify=False, hours_left=30))
    assert "not proposed: record the breach and why; the decision is due within 1 day (" in words.decision_text(ahead)
    late = replace(asb_analysis, decisions=replace(d, notify=False, hours_left=-80))
    assert words.decision_text(late).endswith("the decision was due Mon 12 Oct 2026 10:30 BST (overdue by 3 days).")


def test_a_district_briefing_labels_its_own_figures_and_the_whole_incidents(asb_analysis):
    a = scope(asb_analysis, "Dacorum")
    whole = asb_analysis
    head = _text(briefing.headline(a).data)
    assert head.startswith(f"{whole.incident.controller}") and "This briefing is for Dacorum" in head
    assert f"In Dacorum: {a.cases} of the {whole.cases} {whole.incident.case_noun} and {len(a.people)} of the " \
           f"{len(whole.people)} people" in head
    assert "The whole breach:" in head and f"across {len(whole.districts) - 1} districts" in head.split("The whole")[1]
    figures = briefing.key_figures(a).data
    mine, incident_wide = figures.split("Whole incident")
    assert "Districts affected" not in mine and "Rows quarantined" not in mine
    assert "Districts affected" in incident_wide and "Rows quarantined" in incident_wide
    assert f">{len(a.people)}<" in mine and f">{len(whole.people)}<" in incident_wide
    assert "(whole incident)" in briefing.data_quality(a).data
    where = briefing.districts_section(a).data
    assert "whole incident" in where and '<tr class="rk-highlight"><td>Dacorum</td>' in where
    assert "one decision for the whole incident" in briefing.decisions(a).data


# --- nouns, numbers, jargon --------------------------------------------------------------------

def test_the_incidents_own_nouns_and_no_ons_codes(staff_analysis):
    a = staff_analysis
    html = "".join(f(a).data for f in (briefing.headline, briefing.key_figures, briefing.districts_section,
                                       briefing.bands_section, briefing.by_controller))
    assert "Staff records" in html and ">Cases<" not in html and "Distinct staff" in html
    assert "ONS code" not in html and not re.search(r"E0[6-9]\d{6}", html)
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", briefing.districts_section(a).data)
    assert len(headers) == len(set(headers))  # no column shown twice under one name


def test_counts_are_right_aligned_with_thousands_separators(staff_analysis):
    html = briefing.districts_section(staff_analysis).data
    total = re.search(r"<tr><td>Total</td>(.*?)</tr>", html).group(1)
    cells = re.findall(r'<td class="rk-num">([^<]*)</td>', total)
    assert f"{len(staff_analysis.records):,}" in cells and len(cells) >= 2
    assert not re.search(r">\d{4,}<", html)  # no count of four digits or more without its comma
    assert re.search(r'<th class="rk-num" scope="col">Staff records</th>', html)
    assert "<tr><td>Bedford</td>" in html  # names stay left-aligned


def test_times_are_local_and_human(asb_analysis):
    html = briefing.timeline(asb_analysis).data + briefing.decisions(asb_analysis).data
    assert "BST" in html and "UTC+" not in html and "+01:00" not in html
    assert not re.search(r"\d{4}-\d\d-\d\dT", html)


def test_one_view_of_bands_a_chart_only_where_it_shows_something(asb_analysis, staff_analysis):
    asb = briefing.bands_section(asb_analysis).data
    assert asb.count("<img") == 1 and "<table" not in asb
    staff = briefing.bands_section(staff_analysis).data
    low = int((staff_analysis.people["band"] == "Low").sum())
    medium = int((staff_analysis.people["band"] == "Medium").sum())
    assert "<img" not in staff and "<table" not in staff  # 3 Medium beside 1,017 Low: a sentence says it
    assert f"{medium:,} Medium" in staff and f"{low:,} Low" in staff


def test_method_notes_in_words_and_the_formula_in_an_appendix_at_the_end(asb_analysis):
    html = briefing.method_notes(asb_analysis).data
    notes, appendix = html.split("Appendix: the scoring formula")
    assert "SE = DPC" not in notes and "docs/" not in html and "methodology.md" not in html
    assert "SE = DPC × EI + CB" in appendix


def test_the_ico_forms_what_happened_is_still_the_whole_incident(asb_analysis):
    text = words.headline_text(asb_analysis)
    assert f"{len(asb_analysis.people)} people" in text and "Most in " in text and "ICO" not in text


def test_the_page_prints_the_marking_in_every_pages_margin_and_a_marking_cannot_break_out():
    from markupsafe import Markup

    from riskkit.report.export import _page

    page = _page().render(marking="OFFICIAL-SENSITIVE", title="t", body=Markup("<p>x</p>"), version="v",
                          model_version="m", generated="g")
    assert '@top-center { content: "OFFICIAL-SENSITIVE"' in page and '@bottom-center { content: "OFFICIAL-SENSITIVE"' in page
    assert 'counter(page) " of " counter(pages)' in page
    hostile = _page().render(marking='SECRET" } body { display: none } </style><script>x</script>\\', title="t",
                             body=Markup(""), version="v", model_version="m", generated="g")
    assert "<script>" not in hostile and hostile.count("</style>") == 1
    for box in ("top-center", "bottom-center"):  # the marking stays one CSS string: nothing escapes into rules
        assert re.search("@" + box + r' \{ content: "[^"\\]*"; font: bold 9pt', hostile)
