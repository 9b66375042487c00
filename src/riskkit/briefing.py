"""The leadership briefing's sections, as HTML the notebook displays.

Only counts, bands, pseudonymous ids and text from the incident file reach these sections;
every string from a file is escaped before it becomes HTML. Charts are embedded as base64 PNG
so the exported briefing is one self-contained file that opens offline.
"""

from __future__ import annotations

import base64
import io
from html import escape

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from IPython.display import HTML  # noqa: E402

from riskkit import charts, counts, districts  # noqa: E402
from riskkit.analysis import Analysis  # noqa: E402
from riskkit.ingest import Ingested  # noqa: E402
from riskkit.risk import BANDS, circumstance_phrase, exposure_words, recipient_words  # noqa: E402

BAND_COLOURS = {"Low": "#4c9a2a", "Medium": "#e0a800", "High": "#d9480f", "Very high": "#a51d2d"}
_CHANNEL_WORDS = {"in_person": "in person", "phone": "by phone", "letter": "by letter"}


def _n(value: int) -> str:
    return f"{value:,}"


def _section(title: str, body: str) -> HTML:
    return HTML(f'<section class="rk-section"><h2>{escape(title)}</h2>{body}</section>')


def _png(fig: plt.Figure, alt: str) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img class="rk-figure" alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def _table(frame: pd.DataFrame, total: bool = False) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    rows = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    cls = "rk-table rk-total" if total else "rk-table"
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


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


def _verb(a: Analysis) -> str:
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
    return f" (between {_n(r['min'])} and {_n(r['max'])})" if r["min"] != r["max"] else ""


def headline_text(a: Analysis) -> str:
    inc = a.incident
    if a.whole is not None:
        whole = a.whole
        cases_part = f"{_n(a.cases)} {inc.case_noun} and " if whole.cases != len(whole.records) else ""
        whole_cases = f"{_n(whole.cases)} {inc.case_noun} and " if whole.cases != len(whole.records) else ""
        return (f"In {a.scope_name}, {cases_part}{_n(len(a.people))} {inc.subject_noun} who live there are affected, of "
                f"{whole_cases}{_n(len(whole.people))} {inc.subject_noun} in the whole breach: "
                f"{exposed_phrase(whole).lower()} {_verb(whole)}.")
    people, cases = len(a.people), a.cases
    text = f"{exposed_phrase(a)} of {_n(people)} {inc.subject_noun}{people_range_words(a)}"
    if cases != len(a.records):
        text += f" in {_n(cases)} {inc.case_noun}"
    text += f" {_verb(a)}"
    table = a.districts[a.districts.lad_code != districts.UNASSIGNED]
    if len(table):
        col = "cases" if cases != len(a.records) else "people"
        top = table.sort_values(col, ascending=False).iloc[0]
        noun = inc.case_noun if col == "cases" else inc.subject_noun
        text += f"; {_n(int(top[col]))} {noun} relate to {top['district']}"
    return text + "."


def banner(a: Analysis) -> HTML:
    return HTML(f'<div class="rk-banner">{escape(a.incident.protective_marking)}</div>')


def headline(a: Analysis) -> HTML:
    inc = a.incident
    return HTML(f'<header class="rk-header"><p class="rk-kicker">{escape(inc.controller)} · data breach briefing</p>'
                f"<h1>{escape(inc.title)}</h1><p class=\"rk-headline\">{escape(headline_text(a))}</p>"
                f"<p>{escape(inc.summary)}</p></header>")


def decisions(a: Analysis) -> HTML:
    d = a.decisions
    stamp = d.deadline.strftime("%A %d %B %Y, %H:%M %Z").strip()
    status = "rk-overdue" if d.hours_left < 0 else "rk-due"
    reg = ("<strong>Notify the regulator</strong>" if d.notify else "<strong>Record only: notification not proposed</strong>")
    channel_text = ", ".join(f"{_n(v)} {_CHANNEL_WORDS.get(k, k)}" for k, v in sorted(d.channels.items(), key=lambda kv: -kv[1]))
    noun = escape(a.incident.subject_noun)
    if d.communicate_count:
        people = (f"<strong>Tell {_n(d.communicate_count)} {noun}</strong> ({_n(d.required)} required, "
                  f"{_n(d.recommended)} recommended; {escape(channel_text)})")
    else:
        people = f"<strong>No {noun} proposed for individual contact</strong>"
    body = (f'<ul class="rk-decisions"><li>{reg} ({escape(d.law)}) by <span class="{status}">{escape(stamp)}</span>: '
            f"{escape(d.deadline_words)} at the time of this run ({escape(a.run_at.strftime('%d %b %Y %H:%M %Z'))}). "
            f"Reason: {escape(d.reason)}.</li>"
            f"<li>{people} under {escape(d.communicate_law)}: {escape(d.communicate_reason or '')}.</li>")
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
        stamp = d.deadline.strftime("%d %b %Y %H:%M %Z").strip()
        rows.append({"Controller": name, "Law": d.law, "Subject records": _n(len(v.records)),
                     "People": _n(len(v.people)) + people_range_words(v),
                     "Very high or high": _n(int((v.people["band_rank"] >= 2).sum())),
                     "Regulator": (f"notify by {stamp}" if d.notify else "record only") + f" ({d.deadline_words})",
                     "Tell": f"{_n(d.required)} required, {_n(d.recommended)} recommended"})
        reasons.append(f"<li><strong>{escape(name)}</strong>: {escape(d.reason)}. Telling people: "
                       f"{escape(d.communicate_reason)}.</li>")
    frame = pd.DataFrame(rows)
    if a.cases != len(a.records):
        frame.insert(2, "Cases", [_n(v.cases) for v in parts])
    note = ('<p class="rk-note">Each controller has its own duty to notify and its own people to tell. A person '
            "with records in two controllers' files is counted in both, and once in the totals above.</p>")
    return _section("By controller", _table(frame) + "<ul>" + "".join(reasons) + "</ul>" + note)


def key_figures(a: Analysis) -> HTML:
    ing = a.ingested
    figures = [("Cases", a.cases), ("Subject records", len(a.records)), ("Distinct people", len(a.people)),
               ("Very high or high risk", int((a.people["band_rank"] >= 2).sum())),
               ("Districts affected", int((a.districts.lad_code != districts.UNASSIGNED).sum())),
               ("Rows quarantined", ing.rows_quarantined)]
    cells = "".join(f'<div class="rk-figure-box"><span class="rk-number">{_n(v)}</span>'
                    f"<span>{escape(k)}</span></div>" for k, v in figures)
    return _section("Key figures", f'<div class="rk-figures">{cells}</div>')


def district_frame(a: Analysis) -> pd.DataFrame:
    """Counts per district for display (unassigned last)."""
    t = a.districts
    show = pd.DataFrame({"District": t["district"], "ONS code": t["lad_code"].replace({"unassigned": "-"}),
                         "Cases": t["cases"], "Subject records": t["subject_records"], "People": t["people"]})
    for col in [c for c in t.columns if c.startswith("role_")]:
        show[col.removeprefix("role_").replace("_", " ").capitalize()] = t[col]
    total = {"District": "Total", "ONS code": "", **{c: int(show[c].sum()) for c in show.columns[2:]}}
    return pd.concat([show, pd.DataFrame([total])], ignore_index=True)


def counts_text(a: Analysis) -> str:
    """The counts table as plain text: what nbval checks on the sample."""
    return district_frame(a)[["District", "Cases", "Subject records", "People"]].to_string(index=False)


def district_map(a: Analysis) -> str:
    """The map of counts per district as <img> HTML, or "" when none is drawn (see riskkit.charts)."""
    return charts.district_map(a)


def districts_section(a: Analysis) -> HTML:
    drawn = district_map(a)  # "" when no map is drawn: then no note about its boundaries either
    note = ('<p class="rk-note">Map drawn on <strong>schematic boundaries</strong>: approximate shapes for '
            "orientation only; use the official ONS boundaries for real work.</p>" if a.geo.schematic and drawn else "")
    body = (_table(district_frame(a), total=True) + drawn + note +
            '<p class="rk-note">A case belongs to one district (the incident location, else where the '
            "complainant or victim lives, else where most of its subjects live; ties to the lowest district code); "
            "people are counted where they live, so a case can touch several districts. "
            "A person with several roles is counted once per role in the role columns.</p>")
    return _section("Where: cases and people per district", body)


def bands_section(a: Analysis) -> HTML:
    people = a.people.assign(role=a.people["roles"].str.split(";")).explode("role")
    table = pd.crosstab(people["role"], people["band"].astype(str)).reindex(columns=list(BANDS), fill_value=0)
    table.index = [r.replace("_", " ").capitalize() for r in table.index]
    totals = a.people["band"].value_counts().reindex(list(BANDS), fill_value=0)
    chart = charts.band_chart(a)
    if not chart:  # one band, or a band too thin to see: a sentence says it better than a bar
        main, rest = totals.idxmax(), [f"{_n(int(v))} {b}" for b, v in totals.items() if v and b != totals.idxmax()]
        chart = f"<p>All {_n(len(a.people))} people are {main} risk" + (f" except {' and '.join(rest)}" if rest else "") + ".</p>"
    band_table = pd.DataFrame({"Band": list(BANDS), "People": [int(totals[b]) for b in BANDS]})
    shown = table.reset_index().rename(columns={"index": "Role"})
    return _section("Who: people by risk band and role",
                    _table(band_table) + chart + _table(shown))


def timeline(a: Analysis) -> HTML:
    t = a.incident.timestamps
    rows = [("Occurred", t.occurred), ("Became aware", t.became_aware), ("Contained", t.contained),
            (f"Regulator deadline ({a.model.policy.regulator.deadline_hours:g} hours, continuous)", a.decisions.deadline),
            ("This assessment", a.run_at)]
    frame = pd.DataFrame([(k, v.strftime("%a %d %b %Y %H:%M %Z") if v else "not recorded") for k, v in rows],
                         columns=["Event", "When"])
    return _section("Timeline", _table(frame))


def actions(a: Analysis) -> HTML:
    d, inc = a.decisions, a.incident
    items = []
    if d.notify:
        items.append(f"Report to the {d.regulator} under {d.law} by {d.deadline.strftime('%d %b %Y %H:%M %Z')}; if details are "
                     "still incomplete, report in phases.")
    else:
        items.append("Record the breach and the reasons for not notifying in the breach log (Art. 33(5) / s.67(6)).")
    if d.communicate_count:
        items.append(f"Contact the {d.communicate_count:,} people on the restricted contact list in priority order, "
                     "Very high first; give each a named point of contact.")
    if inc.exposure.channel == "public_web" and not inc.containment.removed:
        items.append("Take the pages down and ask search engines to remove cached copies.")
    elif inc.exposure.channel == "public_web":
        items.append("Confirm that cached and archived copies of the pages are gone.")
    if inc.exposure.recipients in ("known", "trusted_contract") and not inc.containment.deletion_confirmed:
        items.append("Obtain written confirmation from the recipients that every copy is deleted.")
    if a.ingested.rows_quarantined:
        items.append(f"Review the {a.ingested.rows_quarantined} quarantined rows: the people in them are not yet counted.")
    if (a.districts.lad_code == districts.UNASSIGNED).any():
        items.append("Place the unassigned records by hand so every district's count is complete.")
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
    return _section("Data quality and reconciliation", _table(frame) + _table(files) + _set_missing(ing)
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
    m = a.model
    r = a.incident_risk  # computed once, on the analysis
    cb, cb_parts, lk, lk_parts = r.cb, r.cb_why, r.likelihood, r.likelihood_why
    body = (f"<p>Model <strong>{escape(m.model_version)}</strong>. Severity per person SE = DPC × EI + CB (ENISA 2013), "
            f"range 0.25 to 6; bands Low &lt; {m.severity_bands['medium']:g} ≤ Medium &lt; {m.severity_bands['high']:g} ≤ "
            f"High &lt; {m.severity_bands['very_high']:g} ≤ Very high, then combined with likelihood on the ICO's "
            "five-point scale.</p>"
            f"<p>Circumstances (CB = {cb:g}): {escape('; '.join(cb_parts) or 'none')}. "
            f"Likelihood: {escape(m.likelihood.labels[lk - 1])} ({escape('; '.join(lk_parts))}).</p>"
            f"<p>Typical drivers: {escape(circumstance_phrase(a.incident))}. People are resolved from subject records "
            "by exact and fuzzy matching within blocks of the same date of birth or postcode; ids are keyed "
            "pseudonyms. The district of a case is its incident location, else where the complainant or victim lives, "
            "else where most of its subjects live.</p>"
            "<p>See docs/methodology.md for every scale and its limits. Personal data are only in the restricted "
            "outputs; this briefing holds counts and pseudonymous ids only.</p>")
    return _section("Method notes", body)


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
        return (e["payload"]["decision"], e["actor"], e["recorded_at"][:16]) if e else ("not yet decided", "", "")

    rows = [("Regulator", "notify" if d.notify else "record only", *decided("regulator")),
            ("People", f"contact {d.communicate_count:,}", *decided("people"))]
    if s.get("first_filing"):
        f = s["first_filing"]
        p = f["payload"]
        rows.append(("Filed with the regulator", "", f"{p['reference']} at {p['filed_at'][:16]}" +
                     (f" ({p['hours_late']:g} hours late)" if p.get("late") else " (on time)"),
                     f["actor"], f["recorded_at"][:16]))
    frame = pd.DataFrame(rows, columns=["Decision", "Proposed by the model", "Decided", "By", "When (UTC)"])
    body = (_table(frame) + f"<p class=\"rk-note\">Breach register head (SHA-256) after this assessment was recorded: "
            f"<code>{escape(s['head'])}</code>; {s['assessments']} assessment(s) recorded for this incident, "
            f"{s['events']} event(s) in the register. Keep a copy of this hash elsewhere: "
            "<code>riskkit register verify --expect-head HASH</code> checks that it is still in the chain.</p>")
    return _section("Decisions recorded", body)
