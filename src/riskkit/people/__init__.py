"""Resolving subject records to distinct people, with stable pseudonymous ids.

The same person appears in several cases and files with typos, nicknames, swapped names and
missing details. Counting records as people overstates a breach; merging namesakes
understates it and sends one person's letter to another. The resolution (see
docs/methodology.md, "Person resolution"):

1. candidate pairs from several blocking passes (``blocking``), so one corrupted field never
   hides a match;
2. each pair compared detail by detail (``compare``) and scored Fellegi-Sunter style with the
   shipped model (``model``), rare names weighing more than common ones;
3. rules that forbid a merge whatever the score (conflicting NI numbers, a different forename
   or date of birth without an agreeing identifier, a name with nothing to corroborate it);
4. people are the connected components of the pairs at or above a threshold: the best
   estimate, and a range from only near-certain merges (most people) to every plausible
   merge (fewest).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from riskkit import labels
from riskkit.people import blocking, compare, model
from riskkit.people.fields import prepare
from riskkit.people.ids import KEY_ENV, KEY_FILE, details, person_ids, pseudonym_key

__all__ = ["KEY_ENV", "KEY_FILE", "Resolution", "link", "links_table", "person_table", "pseudonym_key", "resolve"]


@dataclass(frozen=True)
class Resolution:
    """People found in the records: ids, the range, and the merged pairs with their evidence."""

    person_id: pd.Series  # index aligned with the records
    fewest: np.ndarray  # a person code per record when every plausible pair is merged
    most: np.ndarray  # a person code per record when only near-certain pairs are merged
    links: pd.DataFrame  # record positions a < b, match probability, evidence in words

    @property
    def people_range(self) -> dict[str, int]:
        return {"min": int(len(np.unique(self.fewest))), "max": int(len(np.unique(self.most)))}


def _components(n: int, a: np.ndarray, b: np.ndarray) -> tuple[int, np.ndarray]:
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    return connected_components(graph, directed=False)


def link(records: pd.DataFrame, key: bytes | None = None, mdl: model.LinkageModel | None = None) -> Resolution:
    """Resolve records to people (see the module docstring)."""
    mdl = mdl or model.default_model()
    n = len(records)
    if not n:
        empty = np.empty(0, np.int64)
        return Resolution(pd.Series([], index=records.index, dtype="string"), empty, empty,
                          pd.DataFrame({"a": empty, "b": empty, "probability": np.empty(0), "evidence": []}))
    f = prepare(records)
    a, b = blocking.candidate_pairs(f)
    levels = compare.levels(f, a, b)
    weight = model.score(mdl, f, a, b, levels)
    t = mdl.thresholds
    plausible = weight >= model.bits(t.plausible)
    a, b, weight = a[plausible], b[plausible], weight[plausible]
    levels = {k: v[plausible] for k, v in levels.items()}
    _, fewest = _components(n, a, b)
    sure = weight >= model.bits(t.near_certain)
    _, most = _components(n, a[sure], b[sure])
    best = np.flatnonzero(weight >= model.bits(t.best))
    n_comp, component = _components(n, a[best], b[best])
    ids = person_ids(component, n_comp, details(f.full, f.dob, f.postcode), key)
    probability = 1.0 / (1.0 + np.exp2(-weight[best]))
    links = pd.DataFrame({"a": a[best], "b": b[best], "probability": probability,
                          "evidence": model.evidence(mdl, levels, best)})
    return Resolution(pd.Series(pd.arrays.ArrowStringArray(ids), index=records.index), fewest, most, links)


def links_table(resolution: Resolution, records: pd.DataFrame) -> pd.DataFrame:
    """The merged pairs for restricted/people_links.csv: each record by its file and row, the
    person, the match probability and the evidence in words; no names or other details."""
    links = resolution.links
    where = records[["source_file", "source_row"]] if {"source_file", "source_row"} <= set(records.columns) else \
        pd.DataFrame({"source_file": "", "source_row": np.arange(len(records))}, index=records.index)
    first, second = where.iloc[links["a"].to_numpy()], where.iloc[links["b"].to_numpy()]
    return pd.DataFrame({
        "person_id": resolution.person_id.iloc[links["a"].to_numpy()].to_numpy(),
        "record_file": first["source_file"].astype("string").to_numpy(), "record_row": first["source_row"].to_numpy(),
        "other_file": second["source_file"].astype("string").to_numpy(), "other_row": second["source_row"].to_numpy(),
        "match_probability": links["probability"].round(4).to_numpy(),
        "evidence": links["evidence"].to_numpy(),
    }).sort_values(["person_id", "record_file", "record_row", "other_file", "other_row"], ignore_index=True)


def resolve(records: pd.DataFrame, key: bytes | None = None) -> pd.Series:
    """A pseudonymous ``person_id`` per record (index aligned with ``records``): the best estimate."""
    return link(records, key=key).person_id


def person_table(records: pd.DataFrame) -> pd.DataFrame:
    """One row per person: home district (where most of their records place them), roles and
    record count."""
    from riskkit.geography import home_districts

    person, ids = pd.factorize(records["person_id"], sort=True)
    n = len(ids)
    home = home_districts(person, n, records["district_code"])
    case, _ = pd.factorize(records["case_ref"])
    first_in_case = ~pd.Series(person.astype(np.int64) * (case.max() + 2) + case).duplicated().to_numpy()
    # Roles as "victim;witness": a bit per role, and the text built once per distinct set.
    role, role_names = pd.factorize(records["role"])
    order = np.argsort(np.asarray(role_names, dtype=object))  # role names in alphabetical order
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    role, role_names = rank[role], [str(role_names[i]) for i in order]
    held = np.zeros(n, dtype=np.int64)
    np.bitwise_or.at(held, person, np.left_shift(1, role.astype(np.int64)))
    patterns, names = labels.joined(held, role_names, ";")
    return pd.DataFrame({
        "records": np.bincount(person, minlength=n),
        "cases": np.bincount(person[first_in_case], minlength=n),
        "roles": pd.array(np.asarray(names, dtype=object)[patterns], dtype="string"),
        "district_code": pd.Categorical(np.where(pd.isna(home), "unassigned", home)),
    }, index=pd.Index(ids, name="person_id"))
