"""Build a reference case as a small incident folder (incident.yml plus one CSV) and assess it."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.calibration.cases import Case

CANONICAL = ("case_ref", "role", "full_name", "first_name", "last_name", "date_of_birth", "address", "postcode",
             "phone", "email", "employee_id", "job_title", "ni_number", "bank_account")


def write_case(case: Case, folder: Path) -> Path:
    """incident.yml and extract.csv for ``case`` in ``folder``; returns the incident path."""
    headers = list(dict.fromkeys(k for r in case.rows for k in r))
    with (folder / "extract.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=headers)
        writer.writeheader()
        writer.writerows(case.rows)
    extract: dict = {"path": "extract.csv", "columns": {h: h for h in headers if h in CANONICAL}}
    if case.categories:
        extract["categories"] = case.categories
    incident = {
        "id": case.id.lower(), "title": case.title, "controller": "Calibration controller",
        "regime": case.incident.get("regime", "uk_gdpr"),
        "timestamps": {"occurred": "2026-10-01T09:00:00+01:00", "became_aware": "2026-10-02T09:00:00+01:00"},
        "exposure": case.exposure, "containment": case.containment or {"removed": True},
        **{k: v for k, v in case.incident.items() if k != "regime"},
        "files": [extract],
    }
    path = folder / "incident.yml"
    path.write_text(yaml.safe_dump(incident, sort_keys=False))
    return path


@dataclass
class Outcome:
    notify: bool
    tell: bool  # anyone required (Art. 34 / s.68)
    required: int
    recommended: int
    people: int
    dpc: float
    ei: float
    severity_band: str


def assess(case: Case, folder: Path) -> Outcome:
    from riskkit.analysis import analyse

    a = analyse(write_case(case, folder))
    d, p = a.decisions, a.people
    top = p.sort_values(["severity", "band_rank"], ascending=False).iloc[0]
    required = getattr(d, "required", d.communicate_count)
    return Outcome(d.notify, required > 0, required, getattr(d, "recommended", 0), len(p), float(top["dpc"]),
                   float(top["ei"]), str(top.get("severity_band", "")))
