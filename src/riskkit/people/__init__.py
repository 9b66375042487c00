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

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from riskkit import labels
from riskkit.people import blocking, compare, model
from riskkit.people.fields import Fields, prepare
from riskkit.people.ids import KEY_ENV, KEY_FILE, digests_ahead, person_ids, pseudonym_key
from riskkit.people.threads import beside, worth_threads

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
        return {"min": _count(self.fewest), "max": _count(self.most)}


def _count(labels: np.ndarray) -> int:
    """Distinct person labels (small non-negative integers) by counting, not np.unique's hash."""
    return int(np.count_nonzero(np.bincount(labels))) if len(labels) else 0


def _components(n: int, a: np.ndarray, b: np.ndarray) -> tuple[int, np.ndarray]:
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    return connected_components(graph, directed=False)


def _people(n: int, a: np.ndarray, b: np.ndarray, weight: np.ndarray,
            apart: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]) -> tuple[int, np.ndarray]:
    """Connected components of the merged pairs, except that a chain of merges never puts two
    records kept apart (``apart(components)`` gives them) into one person.

    Only components holding such a pair (usually none) are rebuilt: their merges are taken
    strongest first, all merges of one score together, and a merge that would join two records
    kept apart is left out, so the result depends on the scores, never on the order of rows."""
    n_comp, comp = _components(n, a, b)
    fa, fb = apart(comp)
    clash = comp[fa] == comp[fb]
    if not clash.any():
        return n_comp, comp
    label = comp.copy()
    fa, fb = fa[clash], fb[clash]
    for c in np.unique(comp[fa]).tolist():
        inside = comp[a] == c
        members = np.flatnonzero(comp == c)
        apart = {(int(x), int(y)) for x, y in zip(fa[comp[fa] == c], fb[comp[fa] == c], strict=True)}
        groups = _greedy(members.tolist(), a[inside].tolist(), b[inside].tolist(), weight[inside].tolist(), apart)
        for k, group in enumerate(groups):
            label[group] = n + c * n + k if k else c  # fresh labels, compacted below
    _, label = np.unique(label, return_inverse=True)
    return int(label.max()) + 1, label


def _chain_rules(f: Fields, fa: np.ndarray, fb: np.ndarray,
                 rule: np.ndarray) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The pairs a chain of merges must not join, given the components: two conflicting NI or
    payroll numbers always; twins only where a record in between has no forename (so nothing
    told it from either twin), a parent and child only where one has no date of birth. Other
    chains are trusted: each of their merges stood on its own evidence."""
    ids = rule == model.IDS_CONFLICT
    twins, parent = rule == model.TWINS, rule == model.PARENT_CHILD

    def apart(comp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n_comp = int(comp.max(initial=-1)) + 1
        no_first = np.bincount(comp[f.first.codes < 0], minlength=n_comp) > 0
        no_dob = np.bincount(comp[f.dob < 0], minlength=n_comp) > 0
        keep = ids | (twins & no_first[comp[fa]]) | (parent & no_dob[comp[fa]])
        return fa[keep], fb[keep]

    return apart


def _greedy(members: list[int], a: list[int], b: list[int], weight: list[float],
            apart: set[tuple[int, int]]) -> list[list[int]]:
    """Groups of one component: merges strongest first, one score at a time; within a score,
    the merges that would join records kept apart are all left out."""
    parent = {m: m for m in members}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def clashes(p: dict[int, int]) -> bool:
        return any(find(x) == find(y) for x, y in apart)

    by_weight: dict[float, list[tuple[int, int]]] = {}
    for x, y, w in zip(a, b, weight, strict=True):
        by_weight.setdefault(w, []).append((x, y))
    for w in sorted(by_weight, reverse=True):
        before = dict(parent)
        ok = []
        for x, y in by_weight[w]:  # each merge alone against the groups before this score
            parent.update(before)
            parent[find(x)] = find(y)
            if not clashes(parent):
                ok.append((x, y))
        parent.clear()
        parent.update(before)
        for x, y in ok:
            parent[find(x)] = find(y)
        if clashes(parent):  # merges fine alone but not together: leave them all out
            parent.clear()
            parent.update(before)
    roots: dict[int, list[int]] = {}
    for m in members:
        roots.setdefault(find(m), []).append(m)
    return sorted(roots.values(), key=min)


SCORE_BATCH = 2_000_000  # candidate pairs compared and scored at a time


def _in_halves(judge: Callable[[np.ndarray, np.ndarray, dict[str, np.ndarray]], tuple[np.ndarray, np.ndarray]],
               a: np.ndarray, b: np.ndarray, levels: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The rules and weights of a batch of pairs, each half on its own thread when the batch is
    large: every step is numpy over the pairs (which runs without Python's lock), and one
    thread left the other core idle at the end of the resolution."""
    if not worth_threads(len(a)):
        return judge(a, b, levels)
    mid = len(a) // 2
    with beside(True, "riskkit-score") as start:
        later = start(judge, a[mid:], b[mid:], {k: v[mid:] for k, v in levels.items()})
        first = judge(a[:mid], b[:mid], {k: v[:mid] for k, v in levels.items()})
        second = later()
    return np.concatenate([first[0], second[0]]), np.concatenate([first[1], second[1]])


def _batches(pairs: Iterator[tuple[np.ndarray, np.ndarray]], size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The pairs regrouped into batches of ``size`` (the last smaller): a pass's pairs arrive in
    pieces of any size, and comparisons are made once per distinct pair of values in a batch,
    so larger batches compare less."""
    held: list[tuple[np.ndarray, np.ndarray]] = []
    count = 0
    for a, b in pairs:
        held.append((a, b))
        count += len(a)
        while count >= size:
            a, b = np.concatenate([h[0] for h in held]), np.concatenate([h[1] for h in held])
            yield a[:size], b[:size]
            held, count = [(a[size:], b[size:])], count - size
    if count:
        yield np.concatenate([h[0] for h in held]), np.concatenate([h[1] for h in held])


def _scored(f: Fields, mdl: model.LinkageModel, pairs: Iterator[tuple[np.ndarray, np.ndarray]]) -> tuple[
        np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray], Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]]:
    """The plausible pairs (at or above the lowest threshold), sorted, with their weights and
    levels, and the chain rules. Pairs are compared and scored a batch at a time as blocking
    makes them, and only what resolution uses is kept: at ten million records the candidate
    pairs run to hundreds of millions, and they, their levels, weights and the comparisons'
    working arrays for all of them at once did not fit."""
    floor = model.bits(mdl.thresholds.plausible)
    kept, ruled = [], []
    # The rules a chain of merges must respect (see _chain_rules). Twins matter to a chain only
    # through a record without a forename, a parent and child only through one without a date
    # of birth: when the extract has no such record, those pairs are not kept. Namesakes with
    # different dates of birth are most of the pairs the name passes make, and at ten million
    # records keeping them all took gigabytes.
    chain_rules = [model.IDS_CONFLICT]
    chain_rules += [model.TWINS] if (f.first.codes < 0).any() else []
    chain_rules += [model.PARENT_CHILD] if (f.dob < 0).any() else []
    position = np.int32 if f.n < 2**31 else np.int64  # record positions of kept rule pairs: 4 bytes each

    frequencies = model.name_frequencies(mdl, f)

    def judged(ab: np.ndarray, bb: np.ndarray, levels: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        rule = model.forbidden(f, ab, bb, levels)
        return rule, model.score(mdl, f, ab, bb, levels, rule, frequencies)

    def score(ab: np.ndarray, bb: np.ndarray) -> None:
        levels = compare.levels(f, ab, bb)
        rule, weight = _in_halves(judged, ab, bb, levels)
        chain = np.isin(rule, chain_rules)
        ruled.append((ab[chain].astype(position), bb[chain].astype(position), rule[chain]))
        ok = weight >= floor
        kept.append((ab[ok], bb[ok], weight[ok], {k: v[ok] for k, v in levels.items()}))

    for ab, bb in _batches(pairs, SCORE_BATCH):
        score(ab, bb)
    if not kept:  # no candidate pairs: the same (empty) arrays as a batch would give
        score(np.empty(0, np.int64), np.empty(0, np.int64))
    a, b, weight = (np.concatenate([k[i] for k in kept]) for i in range(3))
    levels = {name: np.concatenate([k[3][name] for k in kept]) for name in kept[0][3]}
    fa, fb, rule = (np.concatenate([r[i] for r in ruled]) for i in range(3))
    order = np.lexsort((b, a))  # the order of pairs never depends on the passes' order
    a, b, weight = a[order], b[order], weight[order]
    levels = {name: v[order] for name, v in levels.items()}
    return a, b, weight, levels, _chain_rules(f, fa, fb, rule)


def link(records: pd.DataFrame, key: bytes | None = None, mdl: model.LinkageModel | None = None) -> Resolution:
    """Resolve records to people (see the module docstring)."""
    mdl = mdl or model.default_model()
    n = len(records)
    if not n:
        empty = np.empty(0, np.int64)
        return Resolution(pd.Series([], index=records.index, dtype="string"), empty, empty,
                          pd.DataFrame({"a": empty, "b": empty, "probability": np.empty(0), "evidence": []}))
    f = prepare(records)
    secret = key if key is not None else pseudonym_key()
    with digests_ahead(f, secret) as digests:
        a, b, weight, levels, apart = _scored(f, mdl, blocking.owned_pairs(f))
        t = mdl.thresholds
        sure = weight >= model.bits(t.near_certain)
        with beside(worth_threads(n), "riskkit-range") as start:  # the range's two ends beside the best estimate's ids
            fewest_people = start(_people, n, a, b, weight, apart)
            most_people = start(_people, n, a[sure], b[sure], weight[sure], apart)
            keep = weight >= model.bits(t.best)
            n_comp, component = _people(n, a[keep], b[keep], weight[keep], apart)
            details, record_digests = digests()
            ids = person_ids(component, n_comp, record_digests, details, secret)
            fewest, most = fewest_people()[1], most_people()[1]
    best = np.flatnonzero(keep & (component[a] == component[b]))
    probability = 1.0 / (1.0 + np.exp2(-weight[best]))
    links = pd.DataFrame({"a": a[best], "b": b[best], "probability": probability,
                          "evidence": model.evidence(mdl, levels, best)})
    return Resolution(pd.Series(ids, index=records.index), fewest, most, links)


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
    from riskkit.groups import sorted_codes

    person, ids = sorted_codes(records["person_id"])
    n = len(ids)
    home = home_districts(person, n, records["district_code"])
    case, _ = sorted_codes(records["case_ref"])
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
