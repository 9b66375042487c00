"""Learning the default m and u probabilities once, on synthetic people (never at run time).

    python -m riskkit.people.training [--people 20000] [--seed 13] [--write]

An incident extract of a hundred records cannot train a linkage model, so the model file ships
parameters learned here: Faker (en_GB) invents people, each gets duplicate records corrupted
the ways extracts corrupt people (typing errors, nicknames, initials, swapped names, day and
month swapped, missing details, a move of house, a mistyped identifier), and riskkit's own
comparison functions measure

- m: how often each comparison level occurs between two records of one person;
- u: how often it occurs between records of two different people picked at random.

The corruption rates below are assumptions, written here and quoted in the model file's
provenance, so anyone can change them and re-learn.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from riskkit.people import compare, fields

RATES = {
    "missing": 0.05,  # any one detail left blank
    "typo": 0.12,  # one character added, lost, changed or two swapped (names, street, town)
    "nickname": 0.03, "initial": 0.02, "swap_names": 0.02, "other_forename": 0.02,
    "dob_typo": 0.04, "dob_day_month": 0.02, "dob_other": 0.02,
    "moved": 0.10,  # a different address, town and postcode
    "id_typo": 0.03, "id_other": 0.02,
}
LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"))


def _typo(rng: np.random.Generator, text: str) -> str:
    if len(text) < 2:
        return text
    i = int(rng.integers(0, len(text) - 1))
    kind = rng.integers(0, 4)
    if kind == 0:
        return text[:i] + text[i + 1:]
    if kind == 1:
        return text[:i] + str(rng.choice(LETTERS)) + text[i:]
    if kind == 2:
        return text[:i] + str(rng.choice(LETTERS)) + text[i + 1:]
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]


def _digit_typo(rng: np.random.Generator, digits: str) -> str:
    i = int(rng.integers(0, len(digits)))
    if not digits[i].isdigit():
        return digits
    return digits[:i] + str((int(digits[i]) + int(rng.integers(1, 10))) % 10) + digits[i + 1:]


def people(n: int, seed: int) -> pd.DataFrame:
    """n invented people with every detail riskkit compares."""
    from faker import Faker

    from riskkit import districts

    fake = Faker("en_GB")
    fake.seed_instance(seed)
    rng = np.random.default_rng(seed)
    # A county's extract: its towns (riskkit's own list) and a few thousand street names, so a
    # shared town or street is as common between strangers as it is in a real extract.
    towns = districts.towns()["town"].str.lower().tolist()
    streets = sorted({fake.street_name().lower() for _ in range(3000)})
    nick = compare.nicknames()
    formal = sorted({k for k in nick if len(k) > 3})
    rows = []
    for i in range(n):
        first = fake.first_name().lower() if rng.random() > 0.2 else str(rng.choice(formal))
        last = fake.last_name().lower()
        rows.append({
            "person": i, "first_name": first, "last_name": last,
            "date_of_birth": fake.date_between("-90y", "-16y").strftime("%Y%m%d"),
            "address": f"{rng.integers(1, 300)} {rng.choice(streets)}", "town": str(rng.choice(towns)),
            "postcode": fake.postcode(), "ni_number": fake.bothify("??######?", letters="ABCEGHJKLMNPRSTWXYZ")[:8]
            + str(rng.choice(list("ABCD"))), "employee_id": f"E{rng.integers(0, 10**6):06d}",
            "email": f"{first}.{last}{rng.integers(1, 99)}@example.com", "phone": f"07{rng.integers(0, 10**9):09d}"})
    return pd.DataFrame(rows)


def duplicate(person: dict, pool: pd.DataFrame, rng: np.random.Generator) -> dict:
    """Another record of one person, corrupted at RATES."""
    r = dict(person)
    if rng.random() < RATES["nickname"]:
        shorts = [k for k, mask in compare.nicknames().items() if mask & compare.nicknames().get(r["first_name"], 0)
                  and k != r["first_name"]]
        if shorts:
            r["first_name"] = str(rng.choice(shorts))
    if rng.random() < RATES["initial"]:
        r["first_name"] = r["first_name"][:1]
    if rng.random() < RATES["other_forename"]:
        r["first_name"] = str(pool["first_name"].iloc[int(rng.integers(0, len(pool)))])
    if rng.random() < RATES["swap_names"]:
        r["first_name"], r["last_name"] = r["last_name"], r["first_name"]
    if rng.random() < RATES["moved"]:
        other = pool.iloc[int(rng.integers(0, len(pool)))]
        r.update({k: other[k] for k in ("address", "town", "postcode")})
    for key in ("first_name", "last_name", "address", "town", "email"):
        if rng.random() < RATES["typo"]:
            r[key] = _typo(rng, r[key])
    dob = r["date_of_birth"]
    u = rng.random()
    if u < RATES["dob_typo"]:
        dob = _digit_typo(rng, dob)
    elif u < RATES["dob_typo"] + RATES["dob_day_month"]:
        dob = dob[:4] + dob[6:] + dob[4:6]
    elif u < RATES["dob_typo"] + RATES["dob_day_month"] + RATES["dob_other"]:
        dob = str(pool["date_of_birth"].iloc[int(rng.integers(0, len(pool)))])
    r["date_of_birth"] = dob
    for key in ("ni_number", "employee_id", "phone", "postcode"):
        u = rng.random()
        if u < RATES["id_typo"]:
            r[key] = _digit_typo(rng, r[key])
        elif u < RATES["id_typo"] + RATES["id_other"]:
            r[key] = str(pool[key].iloc[int(rng.integers(0, len(pool)))])
    for key in ("first_name", "last_name", "date_of_birth", "address", "town", "postcode", "ni_number",
                "employee_id", "email", "phone"):
        if rng.random() < RATES["missing"]:
            r[key] = None
    return r


def _records(frame: pd.DataFrame) -> pd.DataFrame:
    recs = frame.drop(columns="person").astype("string")
    recs["date_of_birth"] = pd.to_datetime(recs["date_of_birth"], format="%Y%m%d", errors="coerce")
    recs["full_name"] = (recs["first_name"].fillna("") + " " + recs["last_name"].fillna("")).str.strip().replace("", pd.NA)
    return recs


def learn(n: int = 20_000, seed: int = 13, random_pairs: int = 400_000) -> dict[str, dict[int, tuple[float, float]]]:
    """{comparison: {level: (m, u)}} from n synthetic people and their duplicates."""
    rng = np.random.default_rng(seed)
    base = people(n, seed)
    extra = rng.poisson(1.0, n)
    dups = [duplicate(base.iloc[i].to_dict(), base, rng) for i in range(n) for _ in range(extra[i])]
    frame = pd.concat([base, pd.DataFrame(dups)], ignore_index=True)
    f = fields.prepare(_records(frame))
    person = frame["person"].to_numpy()
    order = np.argsort(person, kind="stable")
    # true pairs: each record with the next record of the same person
    same = person[order][1:] == person[order][:-1]
    ta, tb = order[:-1][same], order[1:][same]
    ra, rb = rng.integers(0, len(frame), random_pairs), rng.integers(0, len(frame), random_pairs)
    keep = person[ra] != person[rb]
    ra, rb = ra[keep], rb[keep]
    m_levels, u_levels = compare.levels(f, ta, tb), compare.levels(f, ra, rb)
    out: dict[str, dict[int, tuple[float, float]]] = {}
    for name, m_lv in m_levels.items():
        if name == "names_swapped":
            continue
        u_lv = u_levels[name]
        levels = sorted(set(np.unique(m_lv[m_lv >= 0]).tolist()) | set(np.unique(u_lv[u_lv >= 0]).tolist()))
        m_counts = np.array([(m_lv == lv).sum() for lv in levels], dtype=float) + 0.5
        u_counts = np.array([(u_lv == lv).sum() for lv in levels], dtype=float) + 0.5
        out[name] = {lv: (float(m / m_counts.sum()), float(u / u_counts.sum()))
                     for lv, m, u in zip(levels, m_counts, u_counts, strict=True)}
    return out


def write(params: dict[str, dict[int, tuple[float, float]]], n: int, seed: int, path: Path) -> None:
    """Replace the m and u of each level in the model file, keeping its words, comments and layout."""
    import re

    level_line = re.compile(r"^(    - \{level: (\d+), words: .*?, )m: [0-9.e-]+, u: [0-9.e-]+\}$")
    lines, section = [], None
    for line in path.read_text().splitlines():
        if re.match(r"^  (\w+):$", line):
            section = line.strip().rstrip(":")
        found = level_line.match(line)
        if found and section in params and int(found.group(2)) in params[section]:
            m, u = params[section][int(found.group(2))]
            line = f"{found.group(1)}m: {m:.6g}, u: {u:.6g}}}"
        lines.append(line)
    text = "\n".join(lines) + "\n"
    rates = ", ".join(f"{k} {v}" for k, v in RATES.items())
    provenance = (f"m and u learned by `python -m riskkit.people.training --people {n} --seed {seed} --write` "
                  f"(riskkit's own comparison functions) on {n:,} people invented by Faker en_GB (riskkit's 51 "
                  f"towns, 3,000 streets), each with a Poisson(1) number of duplicate records corrupted at these "
                  f"rates: {rates}; u from 400,000 random pairs of different people; half a count added to every "
                  "level. Thresholds, prior, household cap and the rules that forbid a merge are set by hand "
                  "(docs/methodology.md).")
    text = re.sub(r"provenance: >-\n  .*?\n(?=prior:)", lambda _: f"provenance: >-\n  {provenance}\n", text, flags=re.S)
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--write", action="store_true", help="write the learned values into the model file")
    args = parser.parse_args()
    params = learn(args.people, args.seed)
    for name, levels in params.items():
        print(name, {lv: (round(m, 4), f"{u:.2g}", round(float(np.log2(m / u)), 1)) for lv, (m, u) in levels.items()})
    if args.write:
        path = Path(__file__).resolve().parents[1] / "config" / "linkage_model.yml"
        write(params, args.people, args.seed, path)


if __name__ == "__main__":
    main()
