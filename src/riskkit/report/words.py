"""The briefing's sentences about the incident, shared with the ICO form and the terminal.

Text only (no HTML, no plotting): the ICO export imports this without matplotlib. Every
sentence is about counts, bands and the incident file's own words, never a person.
"""

from __future__ import annotations

import pandas as pd

from riskkit import counts, districts, wording
from riskkit.analysis import Analysis
from riskkit.risk import BANDS, exposure_words, recipient_words
from riskkit.wording import number


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def case_word(a: Analysis) -> str:
    """The last word of the case noun ('cases', 'records') for short forms like '(9 of 62 cases)'."""
    return a.incident.case_noun.split()[-1]


def cases_distinct(a: Analysis) -> bool:
    """Whether cases are a count of their own (an ASB case has several people) or one per record."""
    whole = a.whole or a
    return whole.cases != len(whole.records)


def exposed_phrase(a: Analysis) -> str:
    """'Names and addresses', 'Names, addresses and dates of birth', ... from what was exposed."""
    recs = a.records
    parts = [("names", recs["full_name"]), ("addresses", recs["address"]),
             ("dates of birth", recs["date_of_birth"]), ("salary bands", recs["salary_band"]),
             ("phone numbers", recs["phone"])]
    present = [label for label, col in parts if col.notna().mean() >= 0.5]
    if not present:
        return "Personal details"
    text = present[0] if len(present) == 1 else ", ".join(present[:-1]) + " and " + present[-1]
    return text[0].upper() + text[1:]


def exposure_verb(a: Analysis) -> str:
    e = a.incident.exposure
    duration = exposure_words(e.duration_hours)
    return {
        "public_web": "were published on a public web page" + (f" for {duration}" if duration != "ongoing"
                                                              else " and still are"),
        "email": f"were emailed to {recipient_words(e.recipients)}",
        "file_transfer": "were sent to a recipient " + ("under contract" if e.recipients == "trusted_contract"
                                                        else "who should not have had them"),
        "lost_device": "were on a device that was lost",
        "stolen_device": "were on a device that was stolen",
        "paper": "were in paper files that were lost or stolen",
        "cyber_attack": "were reached in a cyber attack" + ("; nothing is known to have been copied out"
                                                            if e.recipients == "none" else ""),
        "post": "were posted to the wrong recipients",
        "other": f"were disclosed to {recipient_words(e.recipients)}",
    }[e.channel]


def people_range_words(a: Analysis) -> str:
    """' (between 128 and 131)' when doubtful matches leave the count of people uncertain, else ''."""
    r = counts.people_range(a.records, a.people)["total"]
    return f" (between {number(r['min'])} and {number(r['max'])})" if r["min"] != r["max"] else ""


def placed_districts(a: Analysis) -> pd.DataFrame:
    """The district table without its 'Unassigned' row (always the whole incident's)."""
    return a.districts[a.districts.lad_code != districts.UNASSIGNED]


def worst_words(a: Analysis) -> str:
    """'87 of them at Very high risk, the highest band' or 'all 1,020 at Low risk'."""
    bands = a.people["band"].value_counts()
    present = [b for b in BANDS if bands.get(b, 0)]
    if not present:
        return ""
    worst, n = present[-1], int(bands[present[-1]])
    if n == len(a.people):
        return f"all {number(n)} at {worst} risk"
    return f"{number(n)} of them at {worst} risk, the highest band"


def top_districts(a: Analysis, limit: int = 3) -> str:
    """'most in Dacorum (9 of 62 cases), then Watford (7) and Hertsmere (5)': the districts
    with most cases (or people, when a case is one record), so no reader takes the breach for
    one district's."""
    table = placed_districts(a)
    if not len(table):
        return ""
    col = "cases" if cases_distinct(a) else "people"
    total = a.cases if col == "cases" else len(a.people)
    noun = case_word(a) if col == "cases" else a.incident.subject_noun
    top = table.sort_values([col, "district"], ascending=[False, True]).head(limit)
    if len(table) == 1:
        return f"all placed in {top.iloc[0]['district']}"
    first = top.iloc[0]
    text = f"most in {first['district']} ({number(int(first[col]))} of {number(total)} {noun})"
    rest = [f"{r['district']} ({number(int(r[col]))})" for _, r in top.iloc[1:].iterrows()]
    if rest:
        text += ", then " + (rest[0] if len(rest) == 1 else ", ".join(rest[:-1]) + " and " + rest[-1])
    return text


def regulator_short(name: str) -> str:
    return "ICO" if name == "Information Commissioner's Office" else name


def decision_text(a: Analysis) -> str:
    """The decision and its deadline in days: 'Report to the ICO within 2 days (by Mon 12 Oct
    2026 10:30 BST).' or 'Report to the ICO now: overdue by 3 days (...)'."""
    d = a.decisions
    reg = regulator_short(d.regulator)
    by = wording.when(d.deadline)
    if not d.notify:
        due = (f"was due {by} ({wording.days_left(d.hours_left)})" if d.hours_left < 0
               else f"is due {wording.days_left(d.hours_left)} ({by})")
        return f"Reporting to the {reg} is not proposed: record the breach and why; the decision {due}."
    if d.hours_left < 0:
        return f"Report to the {reg} now: the deadline passed, {wording.days_left(d.hours_left)} ({by})."
    return f"Report to the {reg} {wording.days_left(d.hours_left)} (by {by})."


def incident_sentence(a: Analysis) -> str:
    """What escaped, of how many people in how many cases across how many districts, and how."""
    inc = a.incident
    placed = len(placed_districts(a))
    text = (f"{exposed_phrase(a)} of {number(len(a.people))} {inc.subject_noun}{people_range_words(a)} in "
            f"{number(a.cases)} {inc.case_noun}")
    if placed:
        text += f" across {wording.plural(placed, 'district')}"
    return f"{text} {exposure_verb(a)}"


def headline_text(a: Analysis) -> str:
    """The whole incident in one or two sentences: people (with the range), cases, districts,
    the worst band and how many, and the top districts. A district's view names its own
    figures first and then the whole breach's, each labelled."""
    inc = a.incident
    if a.whole is not None:
        whole = a.whole
        mine = f"{number(a.cases)} of the {number(whole.cases)} {inc.case_noun}" if cases_distinct(a) else ""
        people = f"{number(len(a.people))} of the {number(len(whole.people))} {inc.subject_noun}"
        own = f"{a.scope_name}: {mine + ' and ' if mine else ''}{people} in this breach (counted where they live)"
        worst = worst_words(a)
        own += f"; {worst}" if worst else ""
        whole_text = f"The whole breach: {incident_sentence(whole)[0].lower()}{incident_sentence(whole)[1:]}"
        worst_whole = worst_words(whole)
        return f"{own}. {whole_text}" + (f"; {worst_whole}" if worst_whole else "") + "."
    text = incident_sentence(a)
    worst = worst_words(a)
    if worst:
        text += f"; {worst}"
    top = top_districts(a)
    return text + (f". {cap(top)}." if top else ".")
