"""The outputs for officers inside the restricted environment, and ``summary.json``.

Only this module and the quarantine writer put personal data on disk, and only under
``restricted/`` with owner-only permissions.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from riskkit.analysis import Analysis, summary
from riskkit.outputs import restricted_dir, write_json, write_restricted_csv, write_restricted_xlsx

PERSON_COLUMNS = ["priority", "person_id", "district", "roles", "records", "cases", "band", "severity",
                  "likelihood_label", "dpc", "ei", "cb", "drivers", "channel"]


def person_table(a: Analysis) -> pd.DataFrame:
    """The per-person table with pseudonymous ids only (no names or addresses)."""
    return a.people.reset_index()[PERSON_COLUMNS].assign(band=lambda d: d["band"].astype(str))


def contact_list(a: Analysis) -> pd.DataFrame:
    """Who to contact, highest priority first, with the details officers need to reach them."""
    recs = a.records.sort_values(["source_file", "source_row"])
    first = recs.groupby("person_id").agg(
        name=("full_name", "first"), address=("address", "first"), town=("town", "first"),
        postcode=("postcode", "first"), phone=("phone", "first"), email=("email", "first"),
        case_refs=("case_ref", lambda s: "; ".join(sorted(set(s)))))
    people = a.people.join(first)
    people = people[people["channel"].notna()].reset_index()
    out = people[["priority", "person_id", "band", "channel", "name", "address", "town", "postcode", "phone",
                  "email", "district", "roles", "case_refs", "drivers"]].copy()
    out["band"] = out["band"].astype(str)
    if a.decisions.restriction_prompt:
        out["before_contact"] = a.decisions.restriction_prompt
    return out


def write_outputs(a: Analysis, out_dir: str | Path) -> dict[str, Path]:
    """summary.json beside the briefing; personal data only under restricted/ (0600/0700)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    folder = restricted_dir(out)
    written = {"summary": write_json(out / "summary.json", summary(a))}
    written["people"] = write_restricted_csv(folder / "people.csv", person_table(a))
    written["contact_list"] = write_restricted_xlsx(folder / "contact_list.xlsx", {"Contact list": contact_list(a)})
    written["quarantine"] = write_restricted_csv(folder / "quarantine.csv", a.ingested.quarantine)
    written["conflicts"] = write_restricted_csv(folder / "district_conflicts.csv", a.assignment.conflicts)
    return written
