"""The leadership briefing's sections, as HTML the notebook displays.

Only counts, bands, pseudonymous ids and text from the incident file reach these sections;
every string from a file is escaped before it becomes HTML. Charts are embedded as base64 PNG
so the exported briefing is one self-contained file that opens offline.

The reader is a chief officer with five minutes: the headline states the whole incident (never
one district), numbers are right-aligned with thousands separators, times are UK local time and
durations are in days and hours (riskkit.wording), the incident's own nouns are used ("staff
records", not "cases"), and the scoring formula waits in an appendix at the end.
"""

from __future__ import annotations

import re
from html import escape

import pandas as pd
from IPython.display import HTML

from riskkit import districts, wording
from riskkit.analysis import Analysis
from riskkit.ingest import Ingested
from riskkit.report import charts
from riskkit.report.words import (
    cap,
    case_word,
    cases_distinct,
    decision_text,
    exposed_phrase,
    exposure_verb,
    incident_sentence,
    people_range_words,
    placed_districts,
    top_districts,
    worst_words,
)
from riskkit.risk import BANDS, circumstance_phrase
from riskkit.wording import number

_CHANNEL_WORDS = {"in_person": "in person", "phone": "by phone", "letter": "by letter"}
# A cell that reads as a count ("1,067", "130 (between 130 and 132)", "-"): right-aligned.
_NUMERIC = re.compile(r"^(-|\d[\d,]*(\.\d+)?)( \(.*\))?$")


def _section(title: str, body: str, cls: str = "") -> HTML:
    extra = f" {cls}" if cls else ""
    return HTML(f'<section class="rk-section{extra}"><h2>{escape(title)}</h2>{body}</section>')


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)) and not pd.isna(value):
        return number(int(value)) if float(value).is_integer() else number(float(value))
    return str(value)


def _table(frame: pd.DataFrame, total: bool = False, highlight: str | None = None) -> str:
    """A table in its own scrolling box (so a phone never scrolls the page sideways), counts
    right-aligned with thousands separators; ``highlight`` marks the row whose first cell is it."""
    text = [[_cell(v) for v in row] for row in frame.itertuples(index=False)]
    numeric = [bool(text) and all(_NUMERIC.match(r[i]) for r in text if r[i] != "") and any(r[i] for r in text)
               for i in range(len(frame.columns))]
    num = ' class="rk-num"'
    head = "".join(f"<th{num if numeric[i] else ''} scope=\"col\">{escape(str(c))}</th>"
                   for i, c in enumerate(frame.columns))
    rows = "".join(('<tr class="rk-highlight">' if highlight is not None and r and r[0] == highlight else "<tr>")
                   + "".join(f"<td{num if numeric[i] else ''}>{escape(v)}</td>" for i, v in enumerate(r)) + "</tr>"
                   for r in text)
    cls = "rk-table rk-total" if total else "rk-table"
    return (f'<div class="rk-scroll"><table class="{cls}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table></div>")


def banner(a: Analysis) -> HTML:
    return HTML(f'<div class="rk-banner">{escape(a.incident.protective_marking)}</div>')


def _lead(a: Analysis) -> str:
    """The first, bold line: how many people in how many cases across how many districts, and
    the worst band; a district's view gives its share of the whole incident's figures."""
    inc = a.incident
    worst = worst_words(a)
    if a.whole is not None:
        whole = a.whole
        mine = f"{number(a.cases)} of the {number(whole.cases)} {inc.case_noun} and " if cases_distinct(a) else ""
        return (f"In {a.scope_name}: {mine}{number(len(a.people))} of the {number(len(whole.people))} {inc.subject_noun} "
                f"(counted where they live)" + (f"; {worst}" if worst else "") + ".")
    placed = len(placed_districts(a))
    text = f"{number(len(a.people))} {inc.subject_noun}{people_range_words(a)} in {number(a.cases)} {inc.case_noun}"
    if placed:
        text += f" across {wording.plural(placed, 'district')}"
    return text + (f"; {worst}" if worst else "") + "."


def _detail(a: Analysis) -> str:
    """The second line: what escaped and how, and where most are (for a district's view, the
    whole breach, labelled as such)."""
    if a.whole is not None:
        whole = a.whole
        worst = worst_words(whole)
        sentence = incident_sentence(whole)
        return f"The whole breach: {sentence[0].lower()}{sentence[1:]}" + (f"; {worst}" if worst else "") + "."
    top = top_districts(a)
    return f"{exposed_phrase(a)} {exposure_verb(a)}." + (f" {cap(top)}." if top else "")


def headline(a: Analysis) -> HTML:
    inc = a.incident
    scope = (f'<p class="rk-scope">This briefing is for <strong>{escape(a.scope_name)}</strong>. Figures marked '
             "<em>whole incident</em> are for the breach as a whole, across every district.</p>" if a.scope else "")
    return HTML(f'<header class="rk-header"><p class="rk-kicker">{escape(inc.controller)} · data breach briefing</p>'
                f"<h1>{escape(inc.title)}</h1>{scope}<div class=\"rk-headline\">"
                f"<p class=\"rk-lead\">{escape(_lead(a))} {escape(decision_text(a))}</p>"
                f"<p class=\"rk-detail\">{escape(_detail(a))}</p></div>"
                f"<p>{escape(inc.summary)}</p></header>")


def decisions(a: Analysis) -> HTML:
    d = a.decisions
    stamp = wording.when(d.deadline)
    status = "rk-overdue" if d.hours_left < 0 else "rk-due"
    reg = ("<strong>Notify the regulator</strong>" if d.notify else "<strong>Record only: notification not proposed</strong>")
    channel_text = ", ".join(f"{number(v)} {_CHANNEL_WORDS.get(k, k)}"
                             for k, v in sorted(d.channels.items(), key=lambda kv: -kv[1]))
    noun = escape(a.incident.subject_noun)
    where = f" in {escape(a.scope_name)}" if a.scope else ""
    if d.communicate_count:
        people = (f"<strong>Tell {number(d.communicate_count)} {noun}{where}</strong> ({number(d.required)} required, "
                  f"{number(d.recommended)} recommended; {escape(channel_text)})")
    else:
        people = f"<strong>No {noun}{where} proposed for individual contact</strong>"
    whole = " (one decision for the whole incident)" if a.scope else ""
    whole_reason = "across the whole incident, " if a.scope else ""
    body = (f'<ul class="rk-decisions"><li>{reg}{whole} ({escape(d.law)}) by <span class="{status}">{escape(stamp)}</span>: '
            f"{escape(d.deadline_words)} at the time of this run ({escape(wording.when(a.run_at))}). "
            f"Reason: {escape(d.reason)}.</li>"
            f"<li>{people} under {escape(d.communicate_law)}: {whole_reason}{escape(d.communicate_reason or '')}.</li>")
    if d.unknowns:
        body += f"<li>Not yet known, scored cautiously: {escape('; '.join(d.unknowns))}.</li>"
    if d.restriction_prompt:
        body += f"<li>{escape(d.restriction_prompt)}</li>"
    body += f'</ul><p class="rk-note">{escape(d.policy_label)} These are the model\'s proposals; people decide.</p>'
    return HTML(_section("Decisions and deadline", body).data + by_controller(a).data)


def by_controller(a: Analysis) -> HTML:
    """Issue 16 item 3: each controller's people, bands, decision and deadline, when the
    incident has more than one; nothing otherwise. Names of organisations and counts only."""
    from riskkit.controllers import views

    parts = views(a)
    if len(parts) <= 1:
        return HTML("")
    rows, reasons = [], []
    for v in parts:
        d, name = v.decisions, v.incident.controller
        stamp = wording.when(d.deadline, weekday=False)
        rows.append({"Controller": name, "Law": d.law, "Subject records": number(len(v.records)),
                     "People": number(len(v.people)) + people_range_words(v),
                     "Very high or high": number(int((v.people["band_rank"] >= 2).sum())),
                     "Regulator": (f"notify by {stamp}" if d.notify else "record only") + f" ({d.deadline_words})",
                     "Tell": f"{number(d.required)} required, {number(d.recommended)} recommended"})
        reasons.append(f"<li><strong>{escape(name)}</strong>: {escape(d.reason)}. Telling people: "
                       f"{escape(d.communicate_reason)}.</li>")
    frame = pd.DataFrame(rows)
    if cases_distinct(a):
        frame.insert(2, cap(a.incident.case_noun), [number(v.cases) for v in parts])
    note = ('<p class="rk-note">Each controller has its own duty to notify and its own people to tell. A person '
            "with records in two controllers' files is counted in both, and once in the totals above.</p>")
    return _section("By controller", _table(frame) + "<ul>" + "".join(reasons) + "</ul>" + note)


def _figure_boxes(figures: list[tuple[str, int]]) -> str:
    cells = "".join(f'<div class="rk-figure-box"><span class="rk-number">{number(v)}</span>'
                    f"<span>{escape(k)}</span></div>" for k, v in figures)
    return f'<div class="rk-figures">{cells}</div>'


def _own_figures(a: Analysis) -> list[tuple[str, int]]:
    figures = [(cap(a.incident.case_noun), a.cases)]
    if cases_distinct(a):
        figures.append(("Subject records", len(a.records)))
    figures += [(f"Distinct {a.incident.subject_noun}", len(a.people)),
                ("Very high or high risk", int((a.people["band_rank"] >= 2).sum()))]
    return figures


def key_figures(a: Analysis) -> HTML:
    """The counts at a glance; a district's view shows its own and, apart and labelled, the
    whole incident's (districts affected and rows quarantined are never a district's)."""
    ing = a.ingested
    whole = a.whole or a
    incident_wide = [("Districts affected", len(placed_districts(whole))), ("Rows quarantined", ing.rows_quarantined)]
    if a.whole is None:
        return _section("Key figures", _figure_boxes(_own_figures(a) + incident_wide))
    body = (f"<h3>{escape(a.scope_name)}</h3>" + _figure_boxes(_own_figures(a))
            + "<h3>Whole incident</h3>" + _figure_boxes(_own_figures(whole) + incident_wide))
    return _section("Key figures", body)


def district_frame(a: Analysis) -> pd.DataFrame:
    """Counts per district for display (unassigned last)."""
    t = a.districts
    show = pd.DataFrame({"District": t["district"], "Cases": t["cases"], "Subject records": t["subject_records"],
                         "People": t["people"]})
    for col in [c for c in t.columns if c.startswith("role_")]:
        show[col.removeprefix("role_").replace("_", " ").capitalize()] = t[col]
    total = {"District": "Total", **{c: int(show[c].sum()) for c in show.columns[1:]}}
    return pd.concat([show, pd.DataFrame([total])], ignore_index=True)


def counts_text(a: Analysis) -> str:
    """The counts table as plain text: what nbval checks on the sample."""
    return district_frame(a)[["District", "Cases", "Subject records", "People"]].to_string(index=False)


def district_map(a: Analysis) -> str:
    """The map of counts per district as <img> HTML, or "" when none is drawn (see riskkit.report.charts)."""
    return charts.district_map(a)


def districts_section(a: Analysis) -> HTML:
    """Cases and people per district, in the incident's nouns; a district's view shows the
    whole incident's table with its own row marked."""
    drawn = district_map(a)  # "" when no map is drawn: then no note about its boundaries either
    note = ('<p class="rk-note">Map drawn on <strong>schematic boundaries</strong>: approximate shapes for '
            "orientation only; use the official ONS boundaries for real work.</p>" if a.geo.schematic and drawn else "")
    inc = a.incident
    frame = district_frame(a)
    if not cases_distinct(a):  # one case per record: one column, in the incident's noun
        frame = frame.drop(columns=["Subject records"])
    roles = list(frame.columns[frame.columns.get_loc("People") + 1:])
    if len(roles) == 1:  # one role only: its column repeats the people column
        frame = frame.drop(columns=roles)
    frame = frame.rename(columns={"Cases": cap(inc.case_noun), "People": f"Distinct {inc.subject_noun}"})
    scope = (f'<p class="rk-note">The table and map are for the <strong>whole incident</strong>; '
             f"{escape(a.scope_name)}'s row is highlighted.</p>" if a.scope else "")
    body = (scope + _table(frame, total=True, highlight=a.scope_name) + drawn + note +
            f'<p class="rk-note">{escape(_placement_note(a, len(roles) > 1))}</p>')
    what = f"{inc.case_noun} and {inc.subject_noun}" if cases_distinct(a) else inc.subject_noun
    return _section(f"Where: {what} per district", body)


def _placement_note(a: Analysis, roles: bool) -> str:
    """How cases and people are placed, in words; only the rules that this incident uses."""
    inc = a.incident
    text = f"{cap(inc.subject_noun)} are counted where they live."
    if cases_distinct(a):
        text = (f"A {case_word(a).removesuffix('s')} belongs to one district (the incident location, else where the "
                "complainant or victim lives, else where most of its subjects live; ties to the lowest district "
                f"code); {inc.subject_noun} are counted where they live, so a {case_word(a).removesuffix('s')} can "
                "touch several districts.")
    return text + (" Someone with several roles is counted once per role in the role columns." if roles else "")


def _band_sentence(a: Analysis) -> str:
    """'87 Very high, 38 High, 5 Medium and no one Low.' (highest first)."""
    totals = a.people["band"].value_counts().reindex(list(BANDS), fill_value=0)
    parts = [f"{number(int(totals[b]))} {b}" for b in reversed(BANDS)]
    where = f" in {a.scope_name}" if a.scope else ""
    return (f"Of the {number(len(a.people))} {a.incident.subject_noun}{where}, by risk band: "
            + ", ".join(parts[:-1]) + " and " + parts[-1] + ".")



def bands_section(a: Analysis) -> HTML:
    """One view of the bands: a sentence with every band's count, and the chart by role where
    it shows something (else the sentence alone)."""
    sentence = f'<p class="rk-bands">{escape(_band_sentence(a))}</p>'
    title = f"Who: {a.incident.subject_noun} by risk band"
    chart = charts.band_chart(a)  # "" for one band, or a band too thin to see: the sentence says it
    if not chart:
        return _section(title, sentence)
    return _section(title + " and role", sentence + chart)


def timeline(a: Analysis) -> HTML:
    t = a.incident.timestamps
    rows = [("Occurred", t.occurred), ("Became aware", t.became_aware), ("Contained", t.contained),
            (f"Regulator deadline ({a.model.policy.regulator.deadline_hours:g} hours, continuous)",  # as the law says
             a.decisions.deadline),
            ("This assessment", a.run_at)]
    frame = pd.DataFrame([(k, wording.when(v)) for k, v in rows], columns=["Event", "When (UK time)"])
    return _section("Timeline", _table(frame))


def actions(a: Analysis) -> HTML:
    d, inc = a.decisions, a.incident
    ing_whole = "" if a.whole is None else " (whole incident)"
    items = []
    if d.notify and d.hours_left < 0:
        items.append(f"Report to the {d.regulator} under {d.law} now: the deadline was {wording.when(d.deadline)}, "
                     f"{wording.time_left(d.hours_left)}. Say why the report is late; if details are still "
                     "incomplete, report in phases.")
    elif d.notify:
        items.append(f"Report to the {d.regulator} under {d.law} by {wording.when(d.deadline)} "
                     f"({wording.time_left(d.hours_left)}); if details are still incomplete, report in phases.")
    else:
        items.append("Record the breach and the reasons for not notifying in the breach log (Art. 33(5) / s.67(6)).")
    if d.communicate_count:
        where = f" in {a.scope_name}" if a.scope else ""
        items.append(f"Contact the {number(d.communicate_count)} {inc.subject_noun}{where} on the restricted contact list "
                     "in priority order, highest band first; give each a named point of contact.")
    if inc.exposure.channel == "public_web" and not inc.containment.removed:
        items.append("Take the pages down and ask search engines to remove cached copies.")
    elif inc.exposure.channel == "public_web":
        items.append("Confirm that cached and archived copies of the pages are gone.")
    if inc.exposure.recipients in ("known", "trusted_contract") and not inc.containment.deletion_confirmed:
        items.append("Obtain written confirmation from the recipients that every copy is deleted.")
    if a.ingested.rows_quarantined:
        items.append(f"Review the {number(a.ingested.rows_quarantined)} quarantined rows{ing_whole}: the people in them "
                     "are not yet counted.")
    if (a.districts.lad_code == districts.UNASSIGNED).any():
        items.append(f"Place the unassigned records{ing_whole} by hand so every district's count is complete.")
    if d.restriction_prompt:
        items.append(d.restriction_prompt)
    return _section("Recommended actions", "<ol>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ol>")


def data_quality(a: Analysis) -> HTML:
    ing, s = a.ingested, a.assignment.summary
    rows = [("Rows read", ing.rows_read), ("Rows analysed", ing.rows_analysed),
            ("Rows quarantined (restricted/quarantine.csv)", ing.rows_quarantined),
            *[(f"Records placed by {m.replace('_', ' ')}", n) for m, n in s["by_method"].items()],
            ("Placed by nearest district (just outside every boundary)", s["nearest_polygon"]),
            ("Records unassigned", s["unassigned"]),
            ("Records where placement methods disagree", s["conflicts"])]
    rows += [(f["check"].capitalize(), f["count"]) for f in a.findings]
    frame = pd.DataFrame(rows, columns=["Check", "Count"])
    reconciled = ing.rows_read == ing.rows_analysed + ing.rows_quarantined
    files = pd.DataFrame(ing.files)[["file", "rows_read", "unparseable_rows"]].rename(
        columns={"file": "File", "rows_read": "Rows read", "unparseable_rows": "Unparseable rows"})
    note = "Reconciled: every row read is analysed or quarantined." if reconciled else "NOT RECONCILED."
    title = "Data quality and reconciliation" + (" (whole incident)" if a.whole is not None else "")
    return _section(title, _table(frame) + _table(files) + _set_missing(ing)
                    + _sheets(ing) + f"<p>{escape(note)}</p>" + inventory_html(a))


def _set_missing(ing: Ingested) -> str:
    """Per file and field, the values that could not be used and were set to missing: the
    people are still counted (docs/troubleshooting.md says how to fix each reason)."""
    if not ing.set_missing:
        return ""
    frame = pd.DataFrame(ing.set_missing)
    frame["file"] = frame["file"] + frame["sheet"].map(lambda s: f" [{s}]" if isinstance(s, str) else "")
    frame = frame[["file", "field", "reason", "count"]].rename(
        columns={"file": "File", "field": "Field", "reason": "Set to missing because", "count": "Values"})
    return "<p>Values that could not be used were set to missing; the people are still counted.</p>" + _table(frame)


def _sheets(ing: Ingested) -> str:
    """Every workbook sheet read, hidden or not: a leaked workbook leaks every sheet."""
    if not ing.sheets:
        return ""
    frame = pd.DataFrame(ing.sheets).rename(columns={
        "file": "File", "sheet": "Sheet", "visibility": "Visibility", "rows_read": "Rows read",
        "hidden_rows": "Hidden rows", "hidden_columns": "Hidden columns", "title_rows": "Title rows (not read)"})
    return _table(frame)


def inventory_html(a: Analysis) -> str:
    """Issue 16 item 4: every file and sheet of the extract (hidden ones too), its rows, the data
    categories found in it and what no mapping covers, so leadership sees all that escaped.
    Sentences from riskkit.inspect.workbook: file and sheet names, counts and category words,
    never a header or a value."""
    if not a.inventory:
        return ""
    items = "".join(f"<li>{escape(row['sentence'])}</li>" for row in a.inventory)
    uncovered = sum(row["uncovered_personal"] for row in a.inventory)
    hidden = sum(row["visibility"] != "visible" for row in a.inventory)
    unused = sum(not row["listed"] for row in a.inventory)
    notes = []
    if hidden:
        notes.append(f"{hidden} hidden sheet{'s' if hidden != 1 else ''} escaped with the visible ones")
    if unused:
        notes.append(f"{unused} sheet{'s' if unused != 1 else ''} not used in this assessment")
    if uncovered:
        notes.append(f"{uncovered} column{'s' if uncovered != 1 else ''} that may be personal data "
                     "not covered by any mapping: the analyst should map or exclude them")
    note = f'<p class="rk-note">{escape("; ".join(notes).capitalize())}.</p>' if notes else ""
    return f"<h3>What the extract holds</h3><ul>{items}</ul>{note}"


def method_notes(a: Analysis) -> HTML:
    """How the figures were reached, in words; the formula and the band thresholds follow in
    an appendix at the very end, for the reader who wants them."""
    m = a.model
    r = a.incident_risk  # computed once, on the analysis
    cb_parts, lk, lk_parts = r.cb_why, r.likelihood, r.likelihood_why
    body = (f"<p>Each person's harm is scored from what was exposed about them, how easily they can be identified "
            "and the circumstances of the breach (the European Union Agency for Cybersecurity's method, 2013), then "
            f"combined with how likely misuse is, on the regulator's five-point scale, into one of four bands: "
            f"{', '.join(BANDS)}.</p>"
            f"<p>Circumstances that raise everyone's score: {escape('; '.join(cb_parts) or 'none')}. "
            f"Likelihood: {escape(m.likelihood.labels[lk - 1])} ({escape('; '.join(lk_parts))}).</p>"
            f"<p>Typical drivers: {escape(circumstance_phrase(a.incident))}. People are counted once however many "
            "records they have: records are matched on names, dates of birth, addresses and identifiers, allowing for "
            "spelling differences; where a match is doubtful the count is given as a range. "
            f"{escape(_placement_note(a, roles=False))}</p>"
            f"<p>Risk model version {escape(m.model_version)}. Personal data are only in the restricted outputs held "
            "by the analysts; this briefing holds counts and pseudonymous ids only.</p>")
    appendix = (f"<p>Severity per person, SE = DPC × EI + CB (ENISA 2013): DPC is the data processing context "
                "(what kind of data), EI the ease of identification, CB the circumstances of the breach "
                f"(here {r.cb:g}); range 0.25 to 6. Bands: Low &lt; {m.severity_bands['medium']:g} ≤ Medium &lt; "
                f"{m.severity_bands['high']:g} ≤ High &lt; {m.severity_bands['very_high']:g} ≤ Very high, then "
                "combined with likelihood on the ICO's five-point scale. Every weight and threshold is in the risk "
                f"model file (version {escape(m.model_version)}); the methodology document that ships with riskkit "
                "explains each scale and its limits.</p>")
    return HTML(_section("Method notes", body).data + _section("Appendix: the scoring formula", appendix,
                                                               "rk-appendix").data)


def register_section(a: Analysis, snapshot: str | None) -> HTML:
    """Proposed against decided, by whom and when, with the register's head hash, from the
    snapshot file riskkit wrote after recording this run's event (the kernel never opens the
    register itself, so the head shown is the head ``riskkit register verify`` prints)."""
    if not snapshot:
        return HTML("")
    import json
    from pathlib import Path

    from riskkit.errors import ParameterError

    try:
        s = json.loads(Path(snapshot).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ParameterError(f"parameter 'register': {snapshot} is not a register snapshot written by riskkit; "
                             "leave it empty for no decisions section.") from None
    d = a.decisions

    def decided(key: str) -> tuple[str, str, str]:
        e = s.get(key)
        return (e["payload"]["decision"], e["actor"], wording.when_iso(e["recorded_at"])) if e else ("not yet decided", "", "")

    rows = [("Regulator", "notify" if d.notify else "record only", *decided("regulator")),
            ("People", f"contact {d.communicate_count:,}", *decided("people"))]
    if s.get("first_filing"):
        f = s["first_filing"]
        p = f["payload"]
        rows.append(("Filed with the regulator", "", f"{p['reference']} at {wording.when_iso(p['filed_at'])}" +
                     (f" ({wording.duration(p['hours_late'])} late)" if p.get("late") else " (on time)"),
                     f["actor"], wording.when_iso(f["recorded_at"])))
    frame = pd.DataFrame(rows, columns=["Decision", "Proposed by the model", "Decided", "By", "When (UK time)"])
    body = (_table(frame) + f"<p class=\"rk-note\">Breach register head (SHA-256) after this assessment was recorded: "
            f"<code>{escape(s['head'])}</code>; {s['assessments']} assessment(s) recorded for this incident, "
            f"{s['events']} event(s) in the register. Keep a copy of this hash elsewhere: "
            "<code>riskkit register verify --expect-head HASH</code> checks that it is still in the chain.</p>")
    return _section("Decisions recorded", body)
