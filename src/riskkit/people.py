"""Resolving subject records to distinct people, with stable pseudonymous ids.

The same person appears in several cases and files with small variations. Counting records
as people overstates the breach; merging namesakes understates it and sends one person's
letter to another. So: exact keys first, then fuzzy names only inside tight blocks (same date
of birth, or same postcode), and never across two different known dates of birth.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from riskkit import normalise
from riskkit.errors import RiskkitError

KEY_ENV = "RISKKIT_PSEUDONYM_KEY"
KEY_FILE = Path.home() / ".config" / "riskkit" / "pseudonym.key"
DEFAULT_THRESHOLD = 88.0


def pseudonym_key() -> bytes:
    """The secret for pseudonymous ids: ``$RISKKIT_PSEUDONYM_KEY`` or a local key file
    created once with owner-only permissions. Without the key nobody can recompute an id from
    a name, and with the same key ids stay stable across re-runs."""
    env = os.environ.get(KEY_ENV)
    if env:
        return env.encode()
    if not KEY_FILE.exists():
        KEY_FILE.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    try:
        return KEY_FILE.read_text().strip().encode()
    except OSError as exc:
        raise RiskkitError(f"{KEY_FILE}: cannot read the pseudonym key ({exc.strerror}); set "
                           f"{KEY_ENV} instead.") from None


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = np.arange(n)

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def union_pairs(self, a: np.ndarray, b: np.ndarray) -> None:
        for i, j in zip(a.tolist(), b.tolist(), strict=True):
            ri, rj = self.find(i), self.find(j)
            if ri != rj:
                self.parent[max(ri, rj)] = min(ri, rj)

    def roots(self) -> np.ndarray:
        """Every element's root by vectorised pointer jumping (no loop over elements)."""
        p = self.parent
        while True:
            q = p[p]
            if np.array_equal(q, p):
                return q
            p = q


def _block_pairs(keys: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """All (i, j), i < j, of positions sharing a non-missing block key."""
    frame = pd.DataFrame({"k": keys.to_numpy(), "i": np.arange(len(keys))}).dropna()
    frame = frame[frame.duplicated("k", keep=False)]
    if frame.empty:
        return np.empty(0, int), np.empty(0, int)
    pairs = frame.merge(frame, on="k")
    pairs = pairs[pairs.i_x < pairs.i_y]
    return pairs.i_x.to_numpy(), pairs.i_y.to_numpy()


def resolve(records: pd.DataFrame, threshold: float = DEFAULT_THRESHOLD,
            key: bytes | None = None) -> pd.Series:
    """A pseudonymous ``person_id`` per record (index aligned with ``records``)."""
    if records.empty:
        return pd.Series([], index=records.index, dtype="string")
    names = normalise.name_key(records["full_name"]).fillna("")
    dob = records["date_of_birth"].dt.strftime("%Y-%m-%d").astype("string")
    pc = records["postcode"].str.replace(" ", "", regex=False).astype("string")
    surname_initial = names.str.split(" ").str[-1].str[:1]

    uf = _UnionFind(len(records))
    # A name alone never merges two records: namesakes are common. It needs a date of birth
    # or, failing that, a postcode to agree as well.
    exact = names.mask(names == "") + "|" + dob.fillna(pc)
    uf.union_pairs(*_first_of_group(exact))
    for block in (dob + "|" + surname_initial, pc):
        a, b = _block_pairs(block.reset_index(drop=True))
        if not len(a):
            continue
        n = names.to_numpy()
        scores = process.cpdist(n[a], n[b], scorer=fuzz.token_sort_ratio, workers=1)
        d = dob.fillna("").to_numpy(dtype=object)
        da, db = d[a], d[b]
        compatible = (da == "") | (db == "") | (da == db)
        keep = (scores >= threshold) & compatible & (n[a] != "")
        uf.union_pairs(a[keep], b[keep])

    roots = uf.roots()
    member_key = (names + "|" + dob.fillna("") + "|" + pc.fillna("")).to_numpy()
    canonical = pd.Series(member_key).groupby(roots).transform("min")
    # Distinct people with identical details (a name and nothing else) still get distinct ids.
    comps = pd.DataFrame({"key": canonical, "root": roots}).drop_duplicates("root")
    comps["n"] = comps.groupby("key").cumcount()
    suffix = pd.Series(roots).map(comps.set_index("root")["n"])
    canonical = (canonical + suffix.map(lambda n: f"#{n}" if n else "")).to_numpy()
    secret = key if key is not None else pseudonym_key()
    # Keyed BLAKE2b is a MAC in one C call per person: without the key nobody can recompute
    # an id from a name, and it is several times faster than the hmac module.
    mac_key = hashlib.sha256(secret).digest()
    ids = {k: "P-" + hashlib.blake2b(k.encode(), key=mac_key, digest_size=8).hexdigest().upper()
           for k in pd.unique(canonical)}
    return pd.Series([ids[k] for k in canonical], index=records.index, dtype="string")


def _first_of_group(keys: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Pairs linking each member of an exact-key group to the group's first member."""
    pos = pd.Series(np.arange(len(keys)), index=keys.index)
    valid = keys.notna().to_numpy()
    firsts = pos[valid].groupby(keys[valid].to_numpy()).transform("first")
    return firsts.to_numpy(), pos[valid].to_numpy()


def person_table(records: pd.DataFrame) -> pd.DataFrame:
    """One row per person: home district (where most of their records place them), roles and
    record count."""
    from riskkit.geography import home_districts

    home = home_districts(records["person_id"], records["district_code"])
    grouped = records.groupby("person_id", sort=True)
    # Roles as "victim;witness": one column per role, joined column-wise (no call per person).
    held = records.groupby(["person_id", "role"]).size().unstack(fill_value=0).gt(0)
    roles = pd.Series("", index=held.index, dtype="string")
    for role in sorted(held.columns):
        roles = roles + held[role].map({True: role + ";", False: ""}).astype("string")
    people = pd.DataFrame({
        "records": grouped.size(),
        "cases": grouped["case_ref"].nunique(),
        "roles": roles.str.removesuffix(";"),
    })
    people["district_code"] = home.reindex(people.index).fillna("unassigned").astype("string")
    return people
