"""Cases, subject records and distinct people per district and role, with invariants.

A case belongs to exactly one district; people are counted where they live, so one case can
touch several districts. The invariants (districts plus unassigned equal the totals) are
checked every run: a briefing whose table does not add up should never be rendered.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskkit import districts

ROLE_ORDER = ("victim", "alleged_perpetrator", "witness", "reporting_person", "staff", "other")


def per_district(records: pd.DataFrame, people: pd.DataFrame, case_district: pd.Series) -> pd.DataFrame:
    """One row per district with any count, plus ``unassigned`` last."""
    # Categories can outnumber the values (one district's view of the whole): count present ones.
    cases, recs, ppl = (s.value_counts().loc[lambda c: c > 0] for s in (case_district, records["district_code"],
                                                                       people["district_code"]))
    names = dict(districts.reference()[["lad_code", "district"]].values)
    codes = sorted(set(cases.index) | set(recs.index) | set(ppl.index),
                   key=lambda c: (c == districts.UNASSIGNED, names.get(c, c)))
    table = pd.DataFrame(index=pd.Index(codes, name="lad_code"))
    table["district"] = districts.name_of(table.index.to_series()).values
    table.loc[table.index == districts.UNASSIGNED, "district"] = "Unassigned"
    table["cases"] = cases.reindex(table.index).fillna(0).astype(int)
    table["subject_records"] = recs.reindex(table.index).fillna(0).astype(int)
    table["people"] = ppl.reindex(table.index).fillna(0).astype(int)
    # People share a handful of role sets: count (district, role set) pairs, then split the sets.
    sets = people.groupby(["district_code", "roles"], observed=True).size().rename("n").reset_index()
    roles = sets.assign(role=sets["roles"].str.split(";")).explode("role")
    by_role = roles.groupby(["district_code", "role"])["n"].sum().unstack(fill_value=0)
    for role in ROLE_ORDER:
        if role in by_role.columns:
            table[f"role_{role}"] = by_role[role].reindex(table.index).fillna(0).astype(int)
    check(table, records, people, case_district)
    return table.reset_index()


def check(table: pd.DataFrame, records: pd.DataFrame, people: pd.DataFrame, case_district: pd.Series) -> None:
    """Raise if the districts and unassigned do not add up to the totals."""
    for column, total in (("cases", len(case_district)), ("subject_records", len(records)),
                          ("people", len(people))):
        if int(table[column].sum()) != total:
            raise AssertionError(f"district {column} add up to {int(table[column].sum())}, total is {total}")


def people_range(records: pd.DataFrame, people: pd.DataFrame) -> dict:
    """How many people at least and at most: ``{"total": {"min", "max"}, "districts": {lad_code:
    {"min", "max"}}}``. min counts the people when every plausible match is merged, max when
    only near-certain ones are (record codes ``person_fewest`` and ``person_most``, from
    people.link); a district counts the groups its best-estimate people's records fall into, so
    its range always contains its count. Without those codes the range is the count itself."""
    n = len(people)
    if not {"person_fewest", "person_most"} <= set(records.columns):
        return {"total": {"min": n, "max": n},
                "districts": {k: {"min": int(v), "max": int(v)} for k, v in people["district_code"].value_counts().items()}}
    home = people["district_code"].astype("string")
    district = pd.Series(home.to_numpy(), index=people.index).reindex(records["person_id"]).to_numpy()
    codes, names = pd.factorize(pd.Series(district, dtype="string"))
    out: dict = {"total": {}, "districts": {str(k): {} for k in names}}
    for key, column in (("min", "person_fewest"), ("max", "person_most")):
        group = records[column].to_numpy(dtype=np.int64)
        out["total"][key] = int(len(np.unique(group)))
        pairs = np.unique(codes.astype(np.int64) * (int(group.max(initial=0)) + 1) + group)
        per = np.bincount(pairs // (int(group.max(initial=0)) + 1), minlength=len(names))
        for i, name in enumerate(names):
            out["districts"][str(name)][key] = int(per[i])
    return out
