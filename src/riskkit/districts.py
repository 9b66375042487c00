"""The district reference table, and turning the names people type into ONS codes.

An extract's district column is typed by hand ("St. Albans City & District Council",
"DACORUM BC"); counts per district are only trustworthy if every variant lands on one code
and an unknown name is reported rather than guessed.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd

from riskkit.normalise import text
from riskkit.paths import DISTRICTS_CSV, TOWNS_CSV

UNASSIGNED = "unassigned"

# Suffixes that name the council rather than the place; stripped before matching.
_SUFFIXES = [
    "city and district council", "city and district", "borough council", "district council",
    "city council", "county council", "council", "borough", "district", "city", "unitary authority",
    "ua", "bc", "dc", "cc",
]


@lru_cache(maxsize=1)
def reference() -> pd.DataFrame:
    """The districts riskkit knows: ``lad_code``, ``district``, ``county``, ``force``."""
    return pd.read_csv(DISTRICTS_CSV, dtype=str)


@lru_cache(maxsize=1)
def towns() -> pd.DataFrame:
    """Main towns per district with public coordinates and postcode outward codes."""
    return pd.read_csv(TOWNS_CSV, dtype={"lad_code": str, "town": str, "outward_codes": str})


def _key(name: str) -> str:
    s = name.lower().replace("&", " and ")
    s = re.sub(r"\bst\b\.?|\bsaint\b", "st", s.replace("st.", "st "))
    s = re.sub(r"[^a-z ]", " ", s)
    s = re.sub(r"\s+", " ", s).strip()
    for suffix in _SUFFIXES:
        if s.endswith(" " + suffix):
            s = s[: -len(suffix) - 1].strip()
            break
    return s.replace(" and ", " ")


@lru_cache(maxsize=1)
def _lookup() -> dict[str, str]:
    ref = reference()
    table = {_key(n): c for c, n in zip(ref.lad_code, ref.district, strict=True)}
    table.update({c.lower(): c for c in ref.lad_code})
    # Common short forms that are not mechanical variants of the official name.
    table.update({"east herts": "E07000242", "north herts": "E07000099", "east cambs": "E07000009",
                  "south cambs": "E07000012", "central beds": "E06000056", "hunts": "E07000011"})
    return table


def code_for(name: str | None) -> str | None:
    """The ONS code for a typed district name or code, or None when it is not known."""
    if name is None or (isinstance(name, float) and pd.isna(name)):
        return None
    raw = str(name).strip()
    if re.fullmatch(r"[EWSNewsn]\d{8}", raw):
        return _lookup().get(raw.lower())
    return _lookup().get(_key(raw))


def codes_for(names: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Vectorised ``code_for`` over the distinct values: (codes, unknown) where unknown marks
    names that were present but match no district."""
    if isinstance(names.dtype, pd.CategoricalDtype):  # ingest's columns: the distinct values are there
        which, distinct = names.cat.codes.to_numpy(), pd.Series(names.cat.categories, dtype=object)
    else:
        which, uniques = pd.factorize(names)
        distinct = pd.Series(uniques, dtype=object)
    cleaned = text(distinct)
    # One lookup per distinct name; the extra last slot is what a missing name (code -1) gets.
    found = [code_for(n) if isinstance(n, str) else None for n in cleaned.astype(object).where(cleaned.notna(), None)]
    present = np.append(cleaned.notna().to_numpy(dtype=bool), False)
    codes = pd.Series(np.asarray([*found, None], dtype=object)[which], index=names.index, dtype="string")
    unknown = pd.Series(present[which], index=names.index) & codes.isna()
    return codes, unknown


def name_of(codes: pd.Series) -> pd.Series:
    """District names for ONS codes; codes riskkit does not know keep the code as name."""
    ref = reference().set_index("lad_code")["district"]
    return codes.map(ref).fillna(codes)
