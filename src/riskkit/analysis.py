"""One call from an incident file to every number a briefing needs.

Data flows one way: ingest -> geography -> people -> risk -> decisions -> counts. The notebook
calls ``analyse`` once and only presents what comes back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from riskkit import __version__, controllers, counts, districts, geography, groups, people, risk
from riskkit.decisions import Decisions, decide, notify_needed, tell
from riskkit.incident import Incident, load_incident
from riskkit.ingest import Ingested, ingest
from riskkit.outputs import write_json
from riskkit.parameters import BriefingParameters
from riskkit.readers import PARTITION_BYTES


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
    scope: str | None = None  # district code when this is one district's view
    whole: Analysis | None = None  # the whole incident, for context, when scoped
    links: pd.DataFrame | None = None  # each merged record pair, its probability and evidence (restricted)
    incident_risk: risk.IncidentRisk | None = None  # CB, likelihood and unknowns: computed once (always set by _assemble)
    # Every file and sheet of the extract, what it holds and what the mapping covers, as
    # riskkit.inspect.workbook's rows (counts and category words only): for the briefing.
    inventory: list[dict] = field(default_factory=list)

    @property
    def cases(self) -> int:
        return len(self.case_district)

    @property
    def scope_name(self) -> str | None:
        return districts.name_of(pd.Series([self.scope])).iloc[0] if self.scope else None


def _model_path(inc: Incident, model: str | Path | None) -> Path | None:
    return Path(model) if model else (inc.resolve(inc.model) if inc.model else None)


def _geography(inc: Incident, boundaries: str | Path | None) -> geography.Geography:
    if boundaries:
        return geography.load_boundaries(Path(boundaries), schematic=False)
    if inc.boundaries:
        b = inc.boundaries
        return geography.load_boundaries(inc.resolve(b.path), b.code_column, b.name_column, b.schematic)
    return geography.load_boundaries(None)


def analyse(incident: str | Path | Incident, model: str | Path | None = None,
            boundaries: str | Path | None = None, now: datetime | None = None,
            partition_bytes: int | None = PARTITION_BYTES) -> Analysis:
    """Run the whole assessment. ``model`` and ``boundaries`` override the incident's; CSV
    files larger than ``partition_bytes`` are read partition by partition."""
    inc = incident if isinstance(incident, Incident) else load_incident(incident)
    mdl = risk.load_model(_model_path(inc, model))
    risk.check_incident(inc, mdl)  # unknown contexts or categories: one line, before reading data
    data = ingest(inc, partition_bytes)
    records = data.records  # extended in place: a second copy of ten million records would not fit
    # Cases and people are grouped by many steps: sorted categoricals give each step its codes.
    records["case_ref"] = groups.sorted_categorical(records["case_ref"])
    geo = _geography(inc, boundaries)
    lookup = None
    if inc.postcode_lookup:
        p = inc.postcode_lookup
        lookup = geography.load_postcode_lookup(inc.resolve(p.path), p.postcode_column, p.code_column)
    assignment = geography.assign(records, geo, lookup)
    records["district_code"] = assignment.district_code.astype("category")
    records["assign_method"] = assignment.method.astype("category")
    case_district, case_rule = geography.case_districts(records, records["district_code"])

    resolution = people.link(records)
    # Categorical with sorted categories: the person table, features and counts read its codes.
    records["person_id"] = groups.sorted_categorical(resolution.person_id)
    # The range of people: record codes when every plausible pair is merged, and when only
    # near-certain ones are (counts.people_range reads them, so a district's view has its own).
    records["person_fewest"] = resolution.fewest.astype(np.int32)
    records["person_most"] = resolution.most.astype(np.int32)
    links = people.links_table(resolution, records)
    del resolution
    persons = people.person_table(records)
    inc_risk = risk.incident_risk(inc, mdl)
    scored = risk.score(records, inc, mdl, inc_risk)
    if not scored.index.equals(persons.index):
        raise AssertionError("scored people and resolved people differ")
    for column in scored.columns:  # column by column: no second copy of millions of people
        persons[column] = scored.pop(column).values
    del scored
    doubt = data.rows_read > 0 and data.rows_quarantined / data.rows_read > mdl.policy.regulator.doubt_quarantine_share
    told = tell(persons, inc, mdl, notify_needed(persons, mdl, inc_risk.likelihood) or doubt, inc_risk.unintelligible)
    persons["tell"] = told["tell"]
    persons["tell_reason"] = told["tell_reason"]
    persons["channel"] = told["channel"].astype("category")
    persons["district"] = _district_names(persons["district_code"])
    # Highest band, then severity, then likelihood first; ties keep the order of the ids.
    order = np.lexsort((-persons["likelihood"].to_numpy(), -persons["severity"].to_numpy(),
                        -persons["band_rank"].to_numpy()))
    persons = persons.take(order)
    persons["priority"] = np.arange(1, len(persons) + 1)
    return replace(_assemble(inc, mdl, data, records, persons, case_district, case_rule, assignment, geo, now, inc_risk),
                   links=links, inventory=extract_inventory(inc, data))


def _district_names(codes: pd.Series) -> pd.Series:
    """District names for the people's district codes, looked up once per distinct code (a
    million people live in a few hundred districts), as a categorical in name order."""
    cat = codes.astype("category")
    names = districts.name_of(pd.Series(cat.cat.categories.astype(str), dtype="string")).replace(
        {"unassigned": "Unassigned"})
    values = pd.Categorical.from_codes(cat.cat.codes, categories=pd.Index(names.to_numpy(dtype=object))) \
        if names.is_unique else pd.Categorical(names.to_numpy(dtype=object)[cat.cat.codes])
    return pd.Series(values, index=codes.index).cat.reorder_categories(sorted(values.categories))


def extract_inventory(inc: Incident, data: Ingested | None = None) -> list[dict]:
    """Issue 16 item 4: what escaped, sheet by sheet; empty (with no error) when the files
    cannot be re-read, because the assessment itself has already read them. With ``data``
    the row counts are ingest's and only a sample of each table is re-read, to classify it."""
    from dataclasses import asdict

    from riskkit.errors import RiskkitError
    from riskkit.inspect.workbook import workbook_inventory

    try:
        return [{**asdict(row), "sentence": row.sentence()} for row in workbook_inventory(
            inc, data.files if data is not None else None)]
    except (RiskkitError, OSError, ValueError):
        return []


def _assemble(inc: Incident, mdl: risk.RiskModel, data: Ingested, records: pd.DataFrame, persons: pd.DataFrame,
              case_district: pd.Series, case_rule: pd.Series, assignment: geography.Assignment,
              geo: geography.Geography, now: datetime | None, inc_risk: risk.IncidentRisk | None = None) -> Analysis:
    """The cheap, derived parts: counts, decisions and findings (also used when loading)."""
    table = counts.per_district(records, persons, case_district)
    run_at = now or datetime.now(UTC)
    inc_risk = inc_risk or risk.incident_risk(inc, mdl)
    decisions = decide(persons, inc, mdl, data.rows_read, data.rows_quarantined, run_at, inc_risk)
    findings = list(data.findings)
    if assignment.summary["unknown_district_names"]:
        findings.append({"check": "district name not recognised", "count": assignment.summary["unknown_district_names"]})
    if len(assignment.conflicts):
        findings.append({"check": "district methods disagree (higher precedence kept)",
                         "count": assignment.summary["conflicts"]})
    return Analysis(inc, mdl, data, records, persons, case_district, case_rule, table, assignment, geo,
                    decisions, run_at, findings, incident_risk=inc_risk)


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
    ranges = counts.people_range(a.records, a.people)
    d = a.decisions
    extra = {"scope": {"lad_code": a.scope, "district": a.scope_name}} if a.scope else {}
    return {**extra,
        "incident_id": a.incident.id,
        "title": a.incident.title,
        "run_at": a.run_at.isoformat(),
        "riskkit_version": __version__,
        "model_version": a.model.model_version,
        "deadline_hours": a.model.policy.regulator.deadline_hours,
        "rows_read": a.ingested.rows_read,
        "rows_analysed": a.ingested.rows_analysed,
        "rows_quarantined": a.ingested.rows_quarantined,
        "files": a.ingested.files,
        "cases": a.cases,
        "subject_records": len(a.records),
        "people": len(a.people),
        "people_range": ranges["total"],
        "districts": [{**e, "people_range": ranges["districts"].get(e["lad_code"], {"min": e["people"], "max": e["people"]})}
                      for e in entries],
        "unassigned": {**unassigned, "people_range": ranges["districts"].get(
            districts.UNASSIGNED, {"min": unassigned["people"], "max": unassigned["people"]})},
        "assignment": {**a.assignment.summary, "boundaries": a.geo.source, "schematic": a.geo.schematic,
                       "case_rules": {k: int(v) for k, v in a.case_rule.value_counts().items()}},
        "risk_bands": {b: int(bands.get(b, 0)) for b in risk.BANDS},
        "regulator": {"notify": d.notify, "law": d.law, "deadline": d.deadline.isoformat(),
                      "hours_left": round(d.hours_left, 2), "reason": d.reason, "regulator": d.regulator},
        "communicate": {"required": d.required, "recommended": d.recommended, "channels": d.channels,
                        "reason": d.communicate_reason},
        "communicate_channels": d.channels,
        "unknowns": d.unknowns,
        "data_quality": a.findings,
        "fields_set_missing": a.ingested.set_missing,
        "sheets": a.ingested.sheets,
        "controllers": controllers.figures(a, ranges["total"]),
    }


ARTEFACT_TABLES = ("records", "people", "cases", "quarantine", "conflicts")


def save(a: Analysis, folder: str | Path) -> Path:
    """Write the analysis as Parquet tables plus a small JSON, so that many briefings (one per
    district, say) can be rendered without re-reading and re-scoring the extract.

    The tables hold personal data: the folder is created owner-only.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder.chmod(0o700)
    people_t = a.people.assign(band=a.people["band"].astype(str))
    cases = pd.DataFrame({"case_ref": a.case_district.index, "lad_code": a.case_district.values,
                          "rule": a.case_rule.reindex(a.case_district.index).values})
    quarantine = a.ingested.quarantine.astype("string")
    tables = {"records": a.records, "people": people_t, "cases": cases, "quarantine": quarantine,
              "conflicts": a.assignment.conflicts.astype("string")}
    for name, frame in tables.items():
        frame.to_parquet(folder / f"{name}.parquet")
        (folder / f"{name}.parquet").chmod(0o600)
    meta = {"incident": str(a.incident.source), "model": str(a.model.source), "boundaries": a.geo.source,
            "schematic": a.geo.schematic, "files": a.ingested.files, "findings": a.ingested.findings,
            "set_missing": a.ingested.set_missing,
            "mapped_fields": sorted(a.ingested.mapped_fields), "assignment": a.assignment.summary,
            "inventory": a.inventory}
    write_json(folder / "analysis.json", meta, mode=0o600)
    return folder


def load(folder: str | Path, now: datetime | None = None) -> Analysis:
    """Read an analysis written by ``save``; the incident and model files are re-read (they
    are small) and must not have changed, or the batch's input hash would differ."""
    folder = Path(folder)
    meta = json.loads((folder / "analysis.json").read_text())
    inc = load_incident(meta["incident"])
    mdl = risk.load_model(meta["model"])
    tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in ARTEFACT_TABLES}
    persons = tables["people"]
    persons["band"] = pd.Categorical(persons["band"], categories=risk.BANDS, ordered=True)
    cases = tables["cases"]
    case_district = pd.Series(cases["lad_code"].values, index=pd.Index(cases["case_ref"].values), dtype="string")
    case_rule = pd.Series(cases["rule"].values, index=case_district.index, dtype="string")
    data = Ingested(records=tables["records"], quarantine=tables["quarantine"], files=meta["files"],
                    findings=meta["findings"], mapped_fields=set(meta["mapped_fields"]),
                    set_missing=meta.get("set_missing", []))
    records = tables["records"]
    assignment = geography.Assignment(records["district_code"], records["assign_method"], tables["conflicts"],
                                      meta["assignment"])
    if meta["boundaries"].startswith("schematic"):
        geo = geography.load_boundaries(None)
    else:
        geo = _geography(inc, None) if inc.boundaries else geography.load_boundaries(Path(meta["boundaries"]))
    return replace(_assemble(inc, mdl, data, records, persons, case_district, case_rule, assignment, geo, now),
                   inventory=meta.get("inventory", []))


def scope(a: Analysis, district: str) -> Analysis:
    """One district's view for a community safety partnership: its cases, the people who live
    there and their contact list, with the whole incident kept for context. The regulator
    decision stays the incident's: it is one breach."""
    code = districts.code_for(district) or district
    known = set(a.districts["lad_code"])
    if code not in known:
        from riskkit.errors import ParameterError

        names = ", ".join(sorted(a.districts["district"]))
        raise ParameterError(f"district '{district}' has no cases or people in this incident; choose one of {names}.")
    persons = a.people[a.people["district_code"] == code]
    records = a.records[a.records["person_id"].isin(persons.index)]
    cases = a.case_district[a.case_district == code]
    chosen = persons["channel"]
    decisions = replace(a.decisions, communicate_count=int(chosen.notna().sum()),
                        channels={k: int(v) for k, v in chosen.value_counts().items() if v},
                        required=int((persons["tell"] == "required").sum()),
                        recommended=int((persons["tell"] == "recommended").sum()))
    links = a.links[a.links["person_id"].isin(persons.index)] if a.links is not None else None  # its people only
    return replace(a, records=records, people=persons, case_district=cases,
                   case_rule=a.case_rule.reindex(cases.index), decisions=decisions, scope=code, whole=a, links=links)


def for_briefing(params: BriefingParameters) -> Analysis:
    """What the briefing notebook shows: a saved analysis or a fresh one, optionally one district."""
    if params.analysis_dir:
        a = load(params.analysis_dir, now=params.now)
    else:
        a = analyse(params.incident, model=params.model, now=params.now)
    return scope(a, params.district) if params.district else a
