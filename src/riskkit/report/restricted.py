"""The outputs for officers inside the restricted environment (``summary.json``, which is not
restricted, is written by ``riskkit.report.summary_file``).

Only this module and the quarantine writer put personal data on disk, and only under
``restricted/`` with owner-only permissions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from riskkit.analysis import Analysis
from riskkit.outputs import XLSX_MAX_ROWS, restricted_dir, write_restricted_csv, write_restricted_xlsx

PERSON_COLUMNS = ["priority", "person_id", "district", "roles", "records", "cases", "band", "severity",
                  "likelihood_label", "dpc", "ei", "cb", "drivers", "channel", "severity_band", "likelihood", "tell",
                  "tell_reason"]


def people_sheet(a: Analysis) -> pd.DataFrame:
    """The per-person table with pseudonymous ids only (no names or addresses)."""
    return a.people.reset_index()[PERSON_COLUMNS].assign(band=lambda d: d["band"].astype(str),
                                                         severity_band=lambda d: d["severity_band"].astype(str))


DETAILS = {"full_name": "name", "address": "address", "town": "town", "postcode": "postcode", "phone": "phone",
           "email": "email"}


def _case_refs(person: np.ndarray, case_ref: pd.Series, n_people: int) -> np.ndarray:
    """Each person's distinct case references, sorted and joined, indexed by person code.

    Works on integer codes: (person, case) keys deduplicated and ordered by one sort, the case
    codes numbered in text order. Most people have one case, so only the others are joined in Python."""
    case, values = pd.factorize(case_ref, sort=True)
    values = np.asarray(values, dtype=object)
    keys = np.sort(person.astype(np.int64) * len(values) + case)
    keys = keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys
    owner, text = keys // len(values), values[keys % len(values)]
    out = np.full(n_people, None, dtype=object)
    several = np.bincount(owner, minlength=n_people)[owner] > 1
    out[owner[~several]] = text[~several]
    if not several.any():
        return out
    owner, text = owner[several], text[several].tolist()  # contiguous per person, in text order
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    ends = np.r_[starts[1:], len(owner)]
    out[owner[starts]] = ["; ".join(text[s:e]) for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
    return out


def contact_list(a: Analysis) -> pd.DataFrame:
    """Who to contact, highest priority first, with the details officers need to reach them.
    Each detail is the first one given for the person in file order."""
    recs = a.records[["source_file", "source_row", "person_id", "case_ref", *DETAILS]].sort_values(
        ["source_file", "source_row"])
    person, ids = pd.factorize(recs["person_id"])
    first = recs[list(DETAILS)].groupby(person).first().rename(columns=DETAILS)
    first["case_refs"] = _case_refs(person, recs["case_ref"], len(ids))
    people = a.people[a.people["channel"].notna()]
    details = first.take(pd.Index(ids).get_indexer(people.index)).set_axis(people.index)  # all have records
    people = pd.concat([people, details], axis=1).reset_index()
    out = people[["priority", "person_id", "band", "channel", "name", "address", "town", "postcode", "phone",
                  "email", "district", "roles", "case_refs", "drivers", "tell", "tell_reason"]].copy()
    out["band"] = out["band"].astype(str)
    if a.decisions.restriction_prompt:
        out["before_contact"] = a.decisions.restriction_prompt
    return out


def workbook_sheets(contacts: pd.DataFrame, max_rows: int = XLSX_MAX_ROWS) -> dict[str, pd.DataFrame]:
    """The contact-list workbook's sheets. Past ``max_rows`` people a spreadsheet stops being a
    calling list (and takes minutes to write), so the workbook keeps the highest-priority
    ``max_rows`` and says on its first sheet that everyone is in contact_list.csv."""
    if len(contacts) <= max_rows:
        return {"Contact list": contacts}
    note = (f"This workbook lists the {max_rows:,} highest-priority people of {len(contacts):,} to contact. "
            "Everyone is in contact_list.csv beside it, in the same order and columns. "
            "Set RISKKIT_XLSX_MAX_ROWS to change the limit.")
    return {"Read me": pd.DataFrame({"note": [note]}), "Contact list": contacts.head(max_rows)}


def write_restricted(a: Analysis, out_dir: str | Path) -> dict[str, Path]:
    """The officers' files, only under restricted/ (folder 0700, files 0600)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    folder = restricted_dir(out)
    written = {"people": write_restricted_csv(folder / "people.csv", people_sheet(a))}
    contacts = contact_list(a)
    written["contact_list_csv"] = write_restricted_csv(folder / "contact_list.csv", contacts)
    written["contact_list"] = write_restricted_xlsx(folder / "contact_list.xlsx", workbook_sheets(contacts))
    written["quarantine"] = write_restricted_csv(folder / "quarantine.csv", a.ingested.quarantine)
    written["conflicts"] = write_restricted_csv(folder / "district_conflicts.csv", a.assignment.conflicts)
    if a.links is not None:  # each merged record pair with its evidence, so officers can check a merge
        written["people_links"] = write_restricted_csv(folder / "people_links.csv", a.links)
    return written
