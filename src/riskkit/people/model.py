"""The linkage model: its file, the evidence each comparison level carries, and the rules
that forbid a merge whatever the score.

The default parameters ship inside the package (config/linkage_model.yml) with their
provenance: an extract of a hundred records cannot train a model by itself. What the extract
is large enough to tell (how common each name is) is estimated from it.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from riskkit.errors import ModelError
from riskkit.people.arrays import distinct_inverse
from riskkit.people.fields import Coded, Fields

ADDRESS = ("street", "house_number", "postcode", "town")


class Level(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: int = Field(ge=0, le=9)
    words: str = Field(max_length=120)
    m: float = Field(gt=0, le=1)
    u: float = Field(gt=0, le=1)


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")
    best: float = Field(gt=0, lt=1)
    near_certain: float = Field(gt=0, lt=1)
    plausible: float = Field(gt=0, lt=1)

    @model_validator(mode="after")
    def ordered(self) -> Thresholds:
        if not self.plausible <= self.best <= self.near_certain:
            raise ValueError("thresholds must satisfy plausible <= best <= near_certain")
        return self


class TermFrequency(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_records: int = Field(ge=1)
    max_boost_bits: float = Field(ge=0)
    max_penalty_bits: float = Field(ge=0)


class LinkageModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model_version: str = Field(max_length=80)
    provenance: str = Field(max_length=4000)
    prior: dict[str, float]
    thresholds: Thresholds
    term_frequency: TermFrequency
    household: dict[str, float]
    comparisons: dict[str, list[Level]]

    def table(self, name: str) -> np.ndarray:
        """log2(m/u) by level + 1 (index 0, a missing value, carries no evidence)."""
        levels = self.comparisons[name]
        out = np.zeros(max(lv.level for lv in levels) + 2)
        for lv in levels:
            out[lv.level + 1] = np.log2(lv.m / lv.u)
        return out

    def words(self, name: str) -> dict[int, str]:
        return {lv.level: lv.words for lv in self.comparisons[name]}


def bits(probability: float) -> float:
    """A match probability as log2 odds."""
    return float(np.log2(probability / (1 - probability)))


@cache
def default_model() -> LinkageModel:
    from riskkit.yamlio import load_validated

    path = Path(str(resources.files("riskkit").joinpath("config/linkage_model.yml")))
    return load_validated(path, LinkageModel, ModelError, "the linkage model file")


def prior_bits(model: LinkageModel, n: int) -> float:
    """log2 odds that two records picked at random are one person: fixed up to
    ``prior["from_records"]`` records, then one bit lower each time the extract doubles (in
    whole steps, so that adding one record changes it only when the extract crosses a doubling):
    among a million records far more strangers share a name and a birthday."""
    base = bits(model.prior["match_probability"])
    start = model.prior["from_records"]
    return base - max(0, int(np.floor(np.log2(max(n, 1) / start))))


def _tf_bits(model: LinkageModel, coded: Coded, exact_u: float, m: float) -> np.ndarray | None:
    """Per distinct name: the evidence of exact agreement on that name, from its frequency in
    the extract (None when the extract is too small to say)."""
    present = coded.codes[coded.codes >= 0]
    tf = model.term_frequency
    if len(present) < tf.min_records or not len(coded.values):
        return None
    freq = np.bincount(present, minlength=len(coded.values)) / len(present)
    base = np.log2(m / exact_u)
    adjusted = np.log2(m / np.maximum(freq, 1e-12))
    return np.clip(adjusted, base - tf.max_penalty_bits, base + tf.max_boost_bits)


def name_frequencies(model: LinkageModel, f: Fields) -> dict[str, np.ndarray | None]:
    """Per distinct forename and surname, the evidence of exact agreement (``_tf_bits``): the
    same for every batch of pairs, so a resolution works it out once."""
    out = {}
    for name, coded in (("forename", f.first), ("surname", f.last)):
        top = max(model.comparisons[name], key=lambda lv: lv.level)
        out[name] = _tf_bits(model, coded, top.u, top.m)
    return out


def score(model: LinkageModel, f: Fields, a: np.ndarray, b: np.ndarray, levels: dict[str, np.ndarray],
          rule: np.ndarray | None = None, frequencies: dict[str, np.ndarray | None] | None = None) -> np.ndarray:
    """Evidence for each pair being one person, in bits (log2 odds, prior included); -inf where
    a rule forbids the merge (``rule``: ``forbidden``'s answer, when the caller already has it;
    ``frequencies``: ``name_frequencies``, likewise)."""
    frequencies = frequencies if frequencies is not None else name_frequencies(model, f)
    total = np.full(len(a), prior_bits(model, f.n))
    address = np.zeros(len(a))
    for name in model.comparisons:
        w = model.table(name)[levels[name].astype(np.int64) + 1]
        if name == "house_number":  # a house number means nothing on another street
            w = np.where((levels["street"] >= 2) | (levels["postcode"] >= 1), w, 0.0)
        if name in ADDRESS:
            address += w
        else:
            total += w
    for name, coded in (("forename", f.first), ("surname", f.last)):
        top = max(model.comparisons[name], key=lambda lv: lv.level)
        tf = frequencies[name]
        if tf is not None:
            same = levels[name] == top.level
            total[same] += tf[coded.codes[a[same]]] - np.log2(top.m / top.u)
    # Family members share an address and a surname. Once the forenames agree and both dates of
    # birth are given and close, no family explains the pair (a same-name parent and child differ
    # in date of birth, twins in forename) and the address is evidence in full; with a date of
    # birth missing, a same-name parent and child remain possible and the cap stays.
    household = (levels["surname"] >= 2) & ((levels["forename"] < 3) | (levels["date_of_birth"] < 2))
    address = np.where(household, np.minimum(address, model.household["max_address_bits"]), address)
    total += address
    return np.where((forbidden(f, a, b, levels) if rule is None else rule) > 0, -np.inf, total)


NO_RULE, IDS_CONFLICT, TWINS, PARENT_CHILD, UNCORROBORATED = range(5)


def forbidden(f: Fields, a: np.ndarray, b: np.ndarray, lv: dict[str, np.ndarray]) -> np.ndarray:
    """Which rule, if any, forbids each pair's merge whatever the score (0 none, then
    IDS_CONFLICT, TWINS, PARENT_CHILD, UNCORROBORATED; see docs/methodology.md):

    - two well-formed NI numbers more than one keystroke apart are two people; so are two
      employee or payroll numbers of one numbering scheme (same letters before the digits, same
      length: one organisation's); numbers of two schemes are two employers, no conflict;
    - twins: a clearly different forename (not a typo, nickname, initial or swap) with the same
      or a similar surname and the same date of birth (or one digit out) is two people unless an
      NI or payroll number agrees (within one keystroke) or the email address is the same;
    - a parent and child: the same forename and surname with a clearly different date of birth
      is two people unless an NI or payroll number agrees (within one keystroke) or the email
      address is the same;
    - a name alone never merges: the date of birth (exactly), the street, the postcode, the town
      or an identifier must agree as well; a date of birth one digit out is not enough on its own.
    """
    ni_a, ni_b = f.ni.codes[a], f.ni.codes[b]
    valid = (ni_a >= 0) & (ni_b >= 0)
    valid[valid] = f.ni_valid[ni_a[valid]] & f.ni_valid[ni_b[valid]]
    ni_conflict = valid & (lv["ni_number"] == 0)
    payroll_conflict = lv["employee_id"] == 0
    if payroll_conflict.any():
        scheme = _schemes(f.employee)
        idx = np.flatnonzero(payroll_conflict)
        payroll_conflict[idx] = scheme[f.employee.codes[a[idx]]] == scheme[f.employee.codes[b[idx]]]
    id_agrees = (lv["ni_number"] >= 1) | (lv["employee_id"] >= 1) | (lv["email"] == 2)
    same_name = (lv["forename"] >= 3) & (lv["surname"] >= 3)
    twins = (lv["forename"] == 0) & (lv["surname"] >= 2) & (lv["date_of_birth"] >= 3)
    parent_child = same_name & (lv["date_of_birth"] == 0)
    corroborated = ((lv["date_of_birth"] == 4) | (lv["street"] >= 2) | (lv["postcode"] >= 1) | (lv["town"] >= 2)
                    | (lv["ni_number"] >= 1) | (lv["employee_id"] >= 1) | (lv["email"] >= 1) | (lv["phone"] >= 1))
    return np.select([ni_conflict | payroll_conflict, twins & ~id_agrees, parent_child & ~id_agrees, ~corroborated],
                     [IDS_CONFLICT, TWINS, PARENT_CHILD, UNCORROBORATED], NO_RULE).astype(np.int8)


def _schemes(coded: Coded) -> np.ndarray:
    """A code per distinct employee number for its numbering scheme: the letters before the
    first digit and the length (H695633 and H795958 are one scheme, B733100 another)."""
    shapes = [f"{len(v)}:{v[:len(v) - len(v.lstrip('abcdefghijklmnopqrstuvwxyz'))]}" for v in coded.values]
    return np.unique(np.array(shapes, dtype=object), return_inverse=True)[1] if shapes else np.empty(0, np.int64)


def evidence(model: LinkageModel, levels: dict[str, np.ndarray], rows: np.ndarray) -> list[str]:
    """The evidence for chosen pairs in words, built once per distinct pattern of levels."""
    names = [n for n in model.comparisons if n in levels]
    # Each pair's levels packed into one integer (4 bits a comparison, level + 1 < 16), so that
    # the distinct patterns are a sort of integers, not of rows.
    columns = [levels[n][rows].astype(np.int64) + 1 for n in names] + [levels["names_swapped"][rows].astype(np.int64)]
    packed = np.zeros(len(rows), np.int64)
    for col in columns:
        packed = packed * 16 + col
    keys, inverse = distinct_inverse(packed)
    text = []
    for key in keys.tolist():
        digits = []
        for _ in columns:
            key, digit = divmod(key, 16)
            digits.append(digit)
        pattern = digits[::-1]
        pattern = [d - 1 for d in pattern[:-1]] + [pattern[-1]]
        parts = ["forename and surname given the other way round"] if pattern[-1] else []
        parts += [model.words(n)[int(v)] for n, v in zip(names, pattern[:-1], strict=True)
                  if v >= 0 and not (pattern[-1] and n in ("forename", "surname"))]
        text.append("; ".join(parts))
    return [text[i] for i in np.asarray(inverse).ravel()]
