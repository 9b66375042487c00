"""The ICO personal data breach report, pre-filled from the assessment: no personal data.

Each field is marked ``pre-filled`` (from the assessment and the incident file), ``needs a
person`` (only the controller can say), or ``not applicable``. The regulator's form changes
over time: the output says which layout it follows, and a person checks it before filing.
"""

from __future__ import annotations

from pathlib import Path

from riskkit.analysis import Analysis, summary
from riskkit.outputs import atomic_write_text, write_json
from riskkit.register import IncidentState
from riskkit.report.words import exposed_phrase, headline_text
from riskkit.risk import circumstance_phrase
from riskkit.risk_model import ICO_CATEGORIES

FORM_VERSION = ("riskkit ICO form map 1.0: the section order of the ICO's online 'Report a personal data breach' "
                "form (ico.org.uk, report a breach) as understood in November 2026. Check against the live form.")
PRE, PERSON, NA = "pre-filled", "needs a person", "not applicable"


def fields(a: Analysis, reg: IncidentState | None = None, contact: str = "") -> list[dict]:
    s, inc, d = summary(a), a.incident, a.decisions
    t = inc.timestamps
    filing = reg.first_filing if reg else None
    r = a.incident_risk  # computed once, on the analysis
    lk, lk_why = r.likelihood, r.likelihood_why
    people_told = reg.people.payload.get("decision") if reg and reg.people else None
    rows = [
        ("About the report", "Initial report or follow-up", "follow-up" if filing else "initial", PRE),
        ("About the report", "ICO case reference", filing.payload.get("reference") if filing else "", PRE if filing else NA),
        ("About the breach", "What happened", f"{inc.summary} {headline_text(a)}".strip(), PRE),
        ("About the breach", "How did you find out about the breach", "", PERSON),
        ("About the breach", "When did you discover the breach", t.became_aware.isoformat(), PRE),
        ("About the breach", "When did the breach happen", t.occurred.isoformat() if t.occurred else "",
         PRE if t.occurred else PERSON),
        ("About the breach", "Why are you reporting after 72 hours (if late)",
         "" if not (filing and filing.payload.get("late")) else "", PERSON if filing and filing.payload.get("late") else NA),
        ("About the breach", "Was the breach caused by a cyber incident",
         "yes" if inc.exposure.malicious else "no (as recorded)", PRE),
        ("Personal data", "Categories of personal data", "; ".join(ico_categories(a)) + f" ({exposed_phrase(a)}" + (
            "; special category or criminal offence data: involvement in a police case" if inc.data_context else "")
         + ")", PRE),
        ("Personal data", "Number of personal data records concerned", f"{s['subject_records']:,}", PRE),
        # The ICO asks for the largest number that may be affected: the top of the range.
        ("Personal data", "Number of data subjects affected", f"{s.get('people_range', {}).get('max', s['people']):,}", PRE),
        ("Personal data", "Categories of data subjects",
         ", ".join(c.replace("_", " ") for c in inc.subject_categories) or
         ", ".join(sorted({r.replace('_', ' ') for roles in a.people['roles'] for r in roles.split(';')})), PRE),
        ("Potential consequences", "Likely consequences for the people",
         "; ".join(f"{k}: {v:,} people" for k, v in s["risk_bands"].items() if v) +
         f". Typical drivers: {a.people['drivers'].iloc[0] if len(a.people) else ''}", PRE),
        ("Potential consequences", "How likely is harm", f"{a.model.likelihood.labels[lk - 1]} ({'; '.join(lk_why)})", PRE),
        ("Taking action", "Measures taken to address the breach",
         "; ".join(x for x in [inc.containment.description, "removed" if inc.containment.removed else "",
                               "deletion confirmed" if inc.containment.deletion_confirmed else ""] if x), PRE),
        ("Taking action", "Measures planned to mitigate the effects", "", PERSON),
        ("Telling people", "Have you told the data subjects",
         people_told or f"not yet; model proposes telling {d.required:,} people (required) and {d.recommended:,} "
         f"(recommended): {d.communicate_reason}", PRE),
        ("Telling people", "Have you told other organisations", "", PERSON),
        ("About you", "Organisation and data protection officer contact details",
         f"{inc.controller}; {contact}" if contact else inc.controller, PERSON),
        ("About the assessment", "Method and model", f"ENISA 2013 severity with likelihood; model {s['model_version']}; "
         f"exposure: {circumstance_phrase(inc)}", PRE),
    ]
    return [{"section": sec, "field": f, "value": v, "status": st} for sec, f, v, st in rows]


def ico_categories(a: Analysis) -> list[str]:
    """The ICO form's data categories the extract exposes, in the form's order (from the model file)."""
    m, recs, found = a.model, a.records, set()
    for name, rule in m.fields.items():
        if name in recs and (recs[name].fillna(False).astype(bool) if recs[name].dtype == bool else recs[name].notna()).any():
            found.add(rule.ico)
    for name, rule in m.categories.items():
        if f"cat__{name}" in recs and recs[f"cat__{name}"].any():
            found.add(rule.ico)
    return [c for c in ICO_CATEGORIES if c in found] or ["not yet known"]


def write(a: Analysis, out_dir: Path, reg: IncidentState | None = None, stem: str = "ico_form",
          contact: str = "") -> tuple[Path, Path]:
    """``<stem>.md`` and ``<stem>.json`` in ``out_dir`` (one pair per controller: see riskkit.controllers)."""
    items = fields(a, reg, contact)
    data = {"form": FORM_VERSION, "incident_id": a.incident.id, "controller": a.incident.controller, "fields": items}
    js = write_json(Path(out_dir) / f"{stem}.json", data)
    lines = [f"# ICO breach report: {a.incident.title}", "", f"Controller: {a.incident.controller}", "",
             f"_{FORM_VERSION}_", ""]
    section = None
    for item in items:
        if item["section"] != section:
            section = item["section"]
            lines += ["", f"## {section}", ""]
        value = item["value"].replace("\n", " ") if item["value"] else "_(to complete)_"
        lines.append(f"- **{item['field']}** [{item['status']}]: {value}")
    md = atomic_write_text(Path(out_dir) / f"{stem}.md", "\n".join(lines) + "\n")
    return md, js
