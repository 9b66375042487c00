"""One call from an incident file to every number a briefing needs.

Data flows one way: ingest -> geography -> people -> risk -> decisions -> counts. The notebook
calls ``analyse`` once and only presents what comes back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from riskkit import __version__, counts, districts, geography, people, risk
from riskkit.decisions import Decisions, channels, decide
from riskkit.incident import Incident, load_incident
from riskkit.ingest import Ingested, ingest


@dataclass
class Analysis:
    incident: Incident
    model: risk.RiskModel
    ingested: Ingested
    records: pd.DataFrame  # one row per subject record, with district and person_id
    people: pd.DataFrame  # one row per distinct person, scored
    case_district: pd.Series  # case_ref -> lad code
    case_rule: pd.Series  # case_ref -> rule used
    districts: pd.DataFrame  # counts per district, unassigned last
    assignment: geography.Assignment
    geo: geography.Geography
    decisions: Decisions
    run_at: datetime
    findings: list[dict] = field(default_factory=list)

    @property
    def cases(self) -> int:
        return len(self.case_district)


def analyse(incident: str | Path | Incident, model: str | Path | None = None,
            boundaries: str | Path | None = None, now: datetime | None = None) -> Analysis:
    """Run the whole assessment in memory. ``model`` and ``boundaries`` override the incident's."""
    inc = incident if isinstance(incident, Incident) else load_incident(incident)
    model_path = Path(model) if model else (inc.resolve(inc.model) if inc.model else None)
    mdl = risk.load_model(model_path)
    data = ingest(inc)
    records = data.records.copy()

    if boundaries:
        geo = geography.load_boundaries(Path(boundaries), schematic=False)
    elif inc.boundaries:
        b = inc.boundaries
        geo = geography.load_boundaries(inc.resolve(b.path), b.code_column, b.name_column, b.schematic)
    else:
        geo = geography.load_boundaries(None)
    lookup = None
    if inc.postcode_lookup:
        p = inc.postcode_lookup
        lookup = geography.load_postcode_lookup(inc.resolve(p.path), p.postcode_column, p.code_column)
    assignment = geography.assign(records, geo, lookup)
    records["district_code"] = assignment.district_code
    records["assign_method"] = assignment.method
    case_district, case_rule = geography.case_districts(records, records["district_code"])

    records["person_id"] = people.resolve(records)
    persons = people.person_table(records)
    scored = risk.score(records, inc, mdl)
    persons = persons.join(scored)
    persons["channel"] = channels(persons, mdl)
    persons["district"] = districts.name_of(persons["district_code"]).replace({"unassigned": "Unassigned"})
    persons = persons.sort_values(["band_rank", "severity", "likelihood"], ascending=False, kind="stable")
    persons["priority"] = range(1, len(persons) + 1)

    table = counts.per_district(records, persons, case_district)
    run_at = now or datetime.now(UTC)
    decisions = decide(persons, inc, mdl, data.rows_read, data.rows_quarantined, run_at)
    findings = list(data.findings)
    if assignment.summary["unknown_district_names"]:
        findings.append({"check": "district name not recognised", "count": assignment.summary["unknown_district_names"]})
    if len(assignment.conflicts):
        findings.append({"check": "district methods disagree (higher precedence kept)",
                         "count": assignment.summary["conflicts"]})
    return Analysis(inc, mdl, data, records, persons, case_district, case_rule, table, assignment, geo,
                    decisions, run_at, findings)


def _counts(row: pd.Series) -> dict:
    return {"cases": int(row["cases"]), "subject_records": int(row["subject_records"]), "people": int(row["people"])}


def summary(a: Analysis) -> dict:
    """The machine-readable summary: counts, bands and decisions only, never personal data."""
    table = a.districts
    role_cols = [c for c in table.columns if c.startswith("role_")]
    entries = []
    unassigned = {"cases": 0, "subject_records": 0, "people": 0, "roles": {}}
    for _, row in table.iterrows():
        roles = {c.removeprefix("role_"): int(row[c]) for c in role_cols if int(row[c])}
        if row["lad_code"] == districts.UNASSIGNED:
            unassigned = {**_counts(row), "roles": roles}
        else:
            entries.append({"lad_code": row["lad_code"], "district": row["district"], **_counts(row), "roles": roles})
    bands = a.people["band"].value_counts()
    d = a.decisions
    return {
        "incident_id": a.incident.id,
        "title": a.incident.title,
        "run_at": a.run_at.isoformat(),
        "riskkit_version": __version__,
        "model_version": a.model.model_version,
        "rows_read": a.ingested.rows_read,
        "rows_analysed": a.ingested.rows_analysed,
        "rows_quarantined": a.ingested.rows_quarantined,
        "files": a.ingested.files,
        "cases": a.cases,
        "subject_records": len(a.records),
        "people": len(a.people),
        "districts": entries,
        "unassigned": unassigned,
        "assignment": {**a.assignment.summary, "boundaries": a.geo.source, "schematic": a.geo.schematic,
                       "case_rules": {k: int(v) for k, v in a.case_rule.value_counts().items()}},
        "risk_bands": {b: int(bands.get(b, 0)) for b in risk.BANDS},
        "regulator": {"notify": d.notify, "law": d.law, "deadline": d.deadline.isoformat(),
                      "hours_left": round(d.hours_left, 2), "reason": d.reason},
        "communicate": d.communicate_count,
        "communicate_channels": d.channels,
        "data_quality": a.findings,
    }
