"""Several controllers in one breach: each one's people, bands, decision and deadline.

Three forces whose staff files went to one firm are three controllers, each with its own duty
to notify and its own staff to write to. A record's controller is its ``controller`` column
(a "Force" or "Organisation" column), else its file entry's ``controller:``, else the
incident's ``controller``. Spellings are matched to ``controllers:`` in the incident by name or
listed ``values``, case-insensitively.

A person belongs to every controller one of their records belongs to: a person in two
controllers' files counts once overall and once in each. ``check`` holds that invariant every
run (each record in exactly one controller, every person in at least one, none invented).
Only names of organisations, counts and decisions leave this module.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from riskkit import counts
from riskkit.decisions import decide
from riskkit.errors import ExtractError, ParameterError
from riskkit.incident import Controller, Incident
from riskkit.risk import BANDS

if TYPE_CHECKING:
    from riskkit.analysis import Analysis

# A controller column names a few organisations; many distinct values mean a wrong mapping
# (and the values, which would be printed as controller names, might then be personal data).
MAX_CONTROLLERS = 50


def _lookup(incident: Incident) -> dict[str, Controller]:
    """Every spelling (casefolded) of every listed controller."""
    return {v.casefold(): c for c in incident.controllers for v in (c.name, *c.values)}


def record_controllers(records: pd.DataFrame, incident: Incident) -> pd.Series:
    """Per record, its controller's name (listed name when known, else the column's value,
    else the incident's ``controller``). Works on the column's distinct values: ten million
    records name a handful of organisations."""
    given = records["controller"] if "controller" in records else pd.Series(pd.NA, index=records.index)
    column = given.astype("category")
    spelled = pd.Series(column.cat.categories.astype(str)).str.strip()
    if spelled.ne("").sum() > MAX_CONTROLLERS:
        raise ExtractError(f"the column mapped to 'controller' has {int(spelled.ne('').sum()):,} different values "
                           f"(at most {MAX_CONTROLLERS} organisations expected); check that mapping in the incident file.")
    lookup = _lookup(incident)
    named = [lookup[v.casefold()].name if v.casefold() in lookup else (v or incident.controller) for v in spelled]
    targets = sorted(set(named) | {incident.controller})
    code_of = np.array([targets.index(n) for n in named] + [targets.index(incident.controller)], dtype=np.int64)
    codes = code_of[column.cat.codes.to_numpy()]  # code -1 (no value) takes the last: the incident's controller
    return pd.Series(pd.Categorical.from_codes(codes, targets), index=records.index)


def names(a: Analysis, of: pd.Series | None = None) -> list[str]:
    """The controllers with any record: listed ones in the incident's order, then others by name."""
    of = record_controllers(a.records, a.incident) if of is None else of
    present = set(of.cat.categories[np.unique(of.cat.codes.to_numpy())])
    listed = [c.name for c in a.incident.controllers if c.name in present]
    return listed + sorted(present - set(listed))


def info(incident: Incident, name: str) -> Controller:
    """The listed controller of that name, or one with the incident's regime."""
    found = _lookup(incident).get(name.casefold())
    return found if found else Controller(name=name)


def _positions(a: Analysis) -> tuple[np.ndarray, np.ndarray]:
    """Per record, the position of its person in ``a.people`` and of its case in ``a.case_district``
    (hash lookups once, so that each controller's view is a boolean mask, not a string search)."""
    person = a.people.index.get_indexer(a.records["person_id"])
    case = pd.Index(a.case_district.index.astype(str)).get_indexer(a.records["case_ref"].astype(str))
    return person, case


def scope(a: Analysis, name: str, of: pd.Series | None = None,
          positions: tuple[np.ndarray, np.ndarray] | None = None) -> Analysis:
    """One controller's view: its records, every person with a record of its, its cases, and
    its own decisions under its own regime. The incident's facts are otherwise the same."""
    of = record_controllers(a.records, a.incident) if of is None else of
    person, case = _positions(a) if positions is None else positions
    mask = (of == name).to_numpy()
    records = a.records[mask]
    people_mask = np.zeros(len(a.people), dtype=bool)
    people_mask[person[mask]] = True
    case_mask = np.zeros(len(a.case_district), dtype=bool)
    case_mask[case[mask][case[mask] >= 0]] = True
    persons, cases = a.people[people_mask], a.case_district[case_mask]
    ctrl = info(a.incident, name)
    inc = a.incident.model_copy(update={"controller": ctrl.name, "regime": ctrl.regime or a.incident.regime})
    table = counts.per_district(records, persons, cases)
    decisions = decide(persons, inc, a.model, a.ingested.rows_read, a.ingested.rows_quarantined, a.run_at,
                       a.incident_risk)
    return replace(a, incident=inc, records=records, people=persons, case_district=cases,
                   case_rule=a.case_rule.reindex(cases.index), districts=table, decisions=decisions)


def views(a: Analysis) -> list[Analysis]:
    """One view per controller (the analysis itself when there is only one)."""
    of = record_controllers(a.records, a.incident)
    found = names(a, of)
    if len(found) <= 1:
        return [a]
    positions = _positions(a)
    out = [scope(a, n, of, positions) for n in found]
    check(a, out, positions[0], of)
    return out


def check(a: Analysis, parts: list[Analysis], person: np.ndarray, of: pd.Series) -> None:
    """Raise unless every record is in exactly one controller and every person in at least one."""
    if sum(len(p.records) for p in parts) != len(a.records):
        raise AssertionError("controllers' subject records do not add up to the total")
    if (person < 0).any():
        raise AssertionError("a record's person is missing from the people table")
    covered = np.zeros(len(a.people), dtype=bool)
    covered[person] = True  # every person has a record, and every record a controller
    if not covered.all() or sum(len(p.people) for p in parts) < len(a.people):
        raise AssertionError(f"controllers cover {int(covered.sum())} people, total is {len(a.people)}")


def figures(a: Analysis, whole_range: dict | None = None) -> list[dict]:
    """summary.json's ``controllers``: counts, bands and decisions per controller, no personal data.
    ``whole_range`` is the incident's people range when already computed (one controller's is the same)."""
    out = []
    parts = views(a)
    for v in parts:
        d = v.decisions
        bands = v.people["band"].value_counts()
        out.append({
            "name": v.incident.controller,
            "regime": str(v.incident.regime),
            "cases": v.cases,
            "subject_records": len(v.records),
            "people": len(v.people),
            "people_range": whole_range if whole_range and len(parts) == 1 else
            counts.people_range(v.records, v.people)["total"],
            "risk_bands": {b: int(bands.get(b, 0)) for b in BANDS},
            "regulator": {"notify": d.notify, "law": d.law, "deadline": d.deadline.isoformat(),
                          "hours_left": round(d.hours_left, 2), "reason": d.reason, "regulator": d.regulator},
            "communicate": {"required": d.required, "recommended": d.recommended, "channels": d.channels,
                            "reason": d.communicate_reason},
        })
    return out


def slug(name: str) -> str:
    """A file-name-safe form of a controller's name ('Herts Police' -> 'herts-police')."""
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")[:60] or "controller"


def resolve_name(incident: Incident, name: str) -> str:
    """A ``--controller`` argument as the incident names it; refused when the incident lists
    controllers and this is none of them."""
    if not incident.controllers:
        return name.strip()
    found = _lookup(incident).get(name.strip().casefold())
    if found is None:
        raise ParameterError(f"--controller: not one of the controllers listed in the incident file "
                           f"({', '.join(c.name for c in incident.controllers)}).")
    return found.name


def in_events(events: list, name: str) -> str | None:
    """The controller ``name`` as an incident's register events spell it (its assessments'
    ``controllers`` or a decision recorded with ``--controller``), matched case-insensitively;
    None when the incident does not involve it. The register keeps no incident file, so this
    is what ``register list --controller`` can match against."""
    wanted = name.strip().casefold()
    for e in events:
        found = [c.get("name") for c in e.payload.get("controllers") or [] if isinstance(c, dict)]
        found.append(e.payload.get("controller"))
        for spelled in found:
            if isinstance(spelled, str) and spelled.casefold() == wanted:
                return spelled
    return None
