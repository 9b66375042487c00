"""Per column: a proposed canonical field or data category, a confidence and the evidence.

A pure layer over plain tables (a header and a list of text values per column): header words
propose, value patterns confirm or contradict, and within one table each canonical field goes
to the one column that fits it best. Evidence is counts and pattern names only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from riskkit.incident import CANONICAL_FIELDS
from riskkit.inspect.headers import (
    NATIONAL_ID,
    PERSONAL_CATEGORIES,
    SPECIAL_CATEGORIES,
    address_line,
    header_candidates,
    normalise,
)
from riskkit.inspect.patterns import Profile, age_years, profile

SURE = 0.8  # at or above: mapped without a "# check"
MAYBE = 0.5  # at or above: mapped with a "# check"; below: unmapped with the reason
PERSONAL_FIELDS = set(CANONICAL_FIELDS) - {"case_ref", "case_district", "lon", "lat", "easting", "northing",
                                           "district", "markers", "notes", "job_title", "salary_band"}
# Columns of these fields hold personal data as well, through the record they belong to.
PERSONAL_FIELDS |= {"markers", "notes", "lat", "lon", "easting", "northing", "job_title", "salary_band"}
PERSONAL_FIELDS -= {"controller"}  # the organisation a record belongs to
# Value patterns strong enough to propose a field with no help from the header.
VALUE_ONLY = {"postcode": "postcode", "ni_number": "ni_number", "email": "email", "phone": "phone",
              "name_comma": "full_name", "case_role": "role", "lat": "lat", "lon": "lon"}
LABELS = {"postcode": "UK postcode", "ni_number": "NI number", "email": "email", "phone": "UK phone number",
          "date": "date", "case_ref": "case reference", "payroll_id": "payroll-style id", "flag": "Y/N flag",
          "free_text": "free text", "name_comma": "'SURNAME, Forename'", "multi_word_name": "name-like words",
          "single_word_name": "one name-like word",
          "name_like": "name-like words", "address": "street address", "place": "known place name",
          "case_role": "case role (victim, offender...)", "band": "pay band", "age": "whole number 0-110",
          "lat": "UK latitude", "lon": "UK longitude", "easting": "easting", "northing": "northing",
          "ons_code": "ONS area code", "bank_account": "account number", "number": "number",
          "postcode_other": "postcode (not UK)", "compact_date": "dates as yyyymmdd numbers",
          "id_number": "identity-number shape", "honorific": "title (Mr, Ms, Dr...)"}


@dataclass
class ColumnGuess:
    """What one column is taken to be, and why; safe to print (no values)."""

    header: str
    position: int
    field: str | None  # a canonical field, or None when unmapped
    category: str  # the canonical field, or a data category ("gender", "other_date", "empty", ...)
    confidence: float
    personal: bool
    evidence: list[str] = field(default_factory=list)
    reason: str = ""  # why it is unmapped, or what to check
    profile: Profile = field(default_factory=Profile)
    alternatives: list[tuple[float, str]] = field(default_factory=list)  # other canonical fields, best first

    @property
    def sure(self) -> bool:
        return self.field is not None and self.confidence >= SURE


def _fit(name: str, p: Profile) -> float | None:
    """How well the values fit ``name`` (0..1), or None when values say nothing either way."""
    s = p.share.get
    if p.values == 0:
        return None
    years = age_years(p.median_year)
    if name in {"postcode", "ni_number", "email", "phone", "bank_account"}:
        return s(name, 0.0)
    if name in {"lat", "lon", "easting", "northing"}:
        return s(name, 0.0)
    if name == "date_of_birth":
        if s("date", 0.0) < 0.5:
            return s("date", 0.0)
        return s("date", 0.0) if years is not None and years >= 14 else 0.3
    if name == "other_date":
        return s("date", 0.0)
    if name == "age":
        return s("age", 0.0)
    if name == "case_ref":
        return max(s("case_ref", 0.0), s("payroll_id", 0.0), s("number", 0.0))
    if name == "employee_id":
        return max(s("payroll_id", 0.0), s("case_ref", 0.0) * 0.7, s("number", 0.0)) * (1.0 if p.distinct_ratio > 0.5 else 0.6)
    if name in {"first_name", "last_name"}:
        return s("name_like", 0.0) if not s("date") and not s("number") else 0.0
    if name == "full_name":
        return max(s("multi_word_name", 0.0), s("name_comma", 0.0))
    if name == "address":
        return max(s("address", 0.0), 0.6 if not s("number") and p.mean_words >= 2 else 0.0)
    if name in {"town", "district", "case_district"}:
        if s("has_digit", 0.0) > 0.2 or s("address", 0.0) > 0.5:
            return 0.0
        wordy = p.mean_words <= 4 and (p.distinct_ratio < 0.6 or p.values < 20 or s("name_like", 0.0) >= 0.8)
        return max(s("place", 0.0), 0.8 if wordy else 0.6)
    if name == "role":
        return s("case_role", 0.0)
    if name == "job_title":
        return 0.2 if s("case_role", 0.0) > 0.5 else (0.0 if s("number", 0.0) > 0.5 or s("date") else 0.8)
    if name == "salary_band":
        return max(s("band", 0.0), s("number", 0.0), 0.6)
    if name in {"sickness_absence", "sensitive_role"}:
        return max(s("flag", 0.0), s("number", 0.0) if name == "sickness_absence" else 0.0, 0.5)
    if name == "notes":
        return 0.8 if p.mean_words >= 1.5 and not s("date") else 0.6
    if name == "markers":
        return 0.8 if not s("number") else 0.4
    if name == "honorific":
        return s("honorific", 0.0)
    if name == "house_number":  # "12", "12a", "Rose Cottage 3"
        return max(s("number", 0.0), s("has_digit", 0.0))
    if name == "controller":  # a few organisations, named in words
        few = p.distinct <= 50 and (p.distinct_ratio <= 0.5 or p.values < 20)
        return 0.9 if few and s("has_digit", 0.0) < 0.2 else 0.2
    return None


def _adjust(conf: float, fit: float | None) -> float:
    if fit is None:
        return conf * 0.9
    if fit >= 0.8:
        return min(0.99, conf + 0.04)
    if fit >= 0.5:
        return conf * 0.85
    return conf * 0.45


def _evidence(p: Profile) -> list[str]:
    out = []
    for name, share in sorted(p.share.items(), key=lambda kv: -kv[1]):
        if name in {"number", "single_word_name", "multi_word_name", "ons_code"} and share < 0.95:
            continue
        if name in {"name_like", "has_digit", "org_name", "id_number", "compact_date"}:
            continue  # helpers for other checks, not evidence a reader needs
        if name in {"number", "bank_account", "payroll_id", "age"} and p.share.get("compact_date", 0.0) >= 0.5:
            continue  # yyyymmdd dates are numbers too: the date is the evidence
        if name in {"band", "number", "payroll_id"} and len(p.share) > 1 and out:
            continue  # a side effect of a stronger pattern already shown
        if share >= 0.5 and name in LABELS:
            out.append(f"{LABELS[name]}: {share:.0%} of {p.values:,} values match")
        if len(out) == 3:
            break
    if p.date_order:
        compact = " (yyyymmdd numbers)" if p.share.get("compact_date", 0.0) >= 0.5 else ""
        out.append(f"dates {p.date_order}{compact}" + (f", median {age_years(p.median_year)} years ago" if p.median_year else ""))
    return out


def classify_column(header: str, values: list[str], position: int = 0,
                    known_places: set[str] | None = None) -> ColumnGuess:
    """The best proposal for one column, with the confidence and evidence behind it."""
    p = profile(values, known_places)
    options: dict[str, tuple[float, str]] = {}
    for name, conf in header_candidates(header):
        fit = _fit(name, p)
        options[name] = (_adjust(conf, fit), f"header '{header}' suggests {name}")
    for pattern, name in VALUE_ONLY.items():
        share = p.share.get(pattern, 0.0)
        if share >= 0.8 and name not in options:
            options[name] = (0.7 * share, f"values suggest {name}")
    if p.share.get("date", 0.0) >= 0.8 and not options:
        years = age_years(p.median_year)
        name = "date_of_birth" if years is not None and years >= 16 else "other_date"
        options[name] = (0.6 if name == "date_of_birth" else 0.7, f"values suggest {name}")
    line = address_line(header)
    if line and line >= 2 and "town" not in options:
        place = p.share.get("place", 0.0)
        options["town"] = (0.85 if place >= 0.8 else 0.75 if place >= 0.5 or p.share.get("has_digit", 0.0) < 0.2 else 0.3,
                           f"header '{header}' is address line {line}")
    _second_look(header, p, options)
    if "role" in options and "job_title" in options:  # "Role" is a case role or a job: the values decide
        if p.share.get("case_role", 0.0) >= 0.5:
            options.pop("job_title")
        else:
            options.pop("role")
    evidence = _evidence(p)
    if not options:
        return _unproposed(header, position, p, evidence)
    name, (conf, why) = max(options.items(), key=lambda kv: kv[1][0])
    personal = name in PERSONAL_FIELDS or name in PERSONAL_CATEGORIES
    if name not in CANONICAL_FIELDS:
        return ColumnGuess(header, position, None, name, conf, personal, [why, *evidence], _category_reason(name), p)
    guess = ColumnGuess(header, position, name, name, conf, personal, [why, *evidence], profile=p)
    guess.alternatives = sorted(((c, n) for n, (c, _) in options.items() if n != name and n in CANONICAL_FIELDS),
                                reverse=True)
    if p.values == 0:
        guess.confidence = min(conf, 0.7)
        guess.reason = "the column is empty in this file"
    elif conf < SURE:
        guess.reason = why + ("; values do not confirm it" if (_fit(name, p) or 1) < 0.8 else "")
    if guess.confidence < MAYBE:
        return ColumnGuess(header, position, None, name, guess.confidence, personal, guess.evidence,
                           f"only weak evidence for {name}: check and map it by hand if it is", p)
    return guess


def _second_look(header: str, p: Profile, options: dict[str, tuple[float, str]]) -> None:
    """Where the header is right but the values are another country's or another system's:
    a postcode column of foreign postcodes, a national id that is not a UK NI number, an
    "Organisation" column that names departments rather than organisations."""
    s = p.share.get
    if "postcode" in options and s("postcode", 0.0) < 0.5 and s("postcode_other", 0.0) >= 0.8:
        options.pop("postcode")  # not dropped: named as what it is, and listed with its reason
        options["postcode_not_uk"] = (0.85, f"header '{header}' names a postcode; "
                                            f"{s('postcode_other', 0.0):.0%} of values have another country's shape")
    if "ni_number" in options and s("ni_number", 0.0) < 0.5 and s("id_number", 0.0) >= 0.8 \
            and re.search(NATIONAL_ID, normalise(header)):
        options["ni_number"] = (0.75, f"header '{header}' names a national identity number that is not "
                                      "in the UK NI number format")
    ambiguous = re.fullmatch(r"(organi[sz]ation|org)( name)?", normalise(header))
    if "controller" in options and ambiguous and s("org_name", 0.0) < 0.5:
        conf, _ = options.pop("controller")  # departments and teams are not controllers
        options.pop("org_unit", None)
        options["organisation"] = (conf * 0.8, f"header '{header}' with values that are not organisations' names")


def _category_reason(name: str) -> str:
    if name == "house_number":
        return ("personal data (house number in a column of its own): part of the address, which riskkit reads "
                "from one column; check the address column mapped is enough to place and reach people")
    if name == "organisation":
        return ("not personal data: its values read as departments or teams, not organisations' names; if each "
                "is a separate controller, map it as controller and list them under controllers:")
    if name == "postcode_not_uk":
        return ("postcode (not UK): riskkit's postcode field and district placement take UK postcodes only; "
                "the column is personal data (part of the address): say which country in the incident's summary")
    if name in SPECIAL_CATEGORIES:
        return f"personal data ({name.replace('_', ' ')}, special category) with no canonical field; " \
               "record it in data_context"
    if name in PERSONAL_CATEGORIES:
        return f"personal data ({name.replace('_', ' ')}) with no canonical field in the risk model"
    return f"not personal data ({name.replace('_', ' ')})"


def _unproposed(header: str, position: int, p: Profile, evidence: list[str]) -> ColumnGuess:
    if p.values == 0:
        return ColumnGuess(header, position, None, "empty", 1.0, False, ["no values"], "the column is empty", p)
    if p.share.get("free_text", 0.0) >= 0.3:
        return ColumnGuess(header, position, None, "free_text", 0.6, True, evidence,
                           "free text with no canonical field: read it, it may name people or hold allegations", p)
    if p.share.get("ons_code", 0.0) >= 0.9:
        return ColumnGuess(header, position, None, "area_code", 0.8, False, evidence, "not personal data (area codes)", p)
    if p.share.get("flag", 0.0) >= 0.9:
        return ColumnGuess(header, position, None, "flag", 0.5, True, evidence,
                           f"a Y/N flag the header '{normalise(header)}' does not explain: check what it marks", p)
    if p.share.get("number", 0.0) >= 0.9 and p.distinct <= 50:
        return ColumnGuess(header, position, None, "code", 0.5, False, evidence,
                           f"{p.distinct} distinct numbers with no header clue: codes, not personal data? check it", p)
    return ColumnGuess(header, position, None, "unknown", 0.3, True, evidence,
                       "nothing in the header or values identifies it: check it by hand", p)


def classify_table(headers: list[str], columns: list[list[str]],
                   known_places: set[str] | None = None) -> list[ColumnGuess]:
    """Every column of one table; each canonical field goes to at most one column."""
    guesses = [classify_column(h, c, i, known_places) for i, (h, c) in enumerate(zip(headers, columns, strict=True))]
    taken: dict[str, ColumnGuess] = {}

    def rank(g: ColumnGuess) -> tuple:
        line = address_line(g.header) if g.field == "address" else None
        return (-(line or 0) if g.field == "address" else 0, g.confidence, -g.position)

    for g in sorted((g for g in guesses if g.field), key=rank, reverse=True):
        assert g.field is not None
        if g.field not in taken:
            taken[g.field] = g
            continue
        winner = taken[g.field]
        for conf, alt in g.alternatives:
            if alt not in taken and conf >= MAYBE:
                g.evidence.append(f"{g.field} already taken by '{winner.header}'")
                g.field = g.category = alt
                g.confidence = min(conf, 0.75)
                g.reason = f"second choice: '{winner.header}' fits {winner.category} better"
                taken[alt] = g
                break
        else:
            g.reason = (f"another column ('{winner.header}') is mapped to {g.field}, and an incident takes one "
                        f"column per field; {'personal data: ' if g.personal else ''}check it is covered")
            g.field = None
    if "full_name" in taken and {"first_name", "last_name"} <= set(taken):
        g = taken["full_name"]  # first and last names win; a name column beside them is left for a look
        g.field, g.reason = None, "first_name and last_name are mapped; this name column is left out: check it"
    return guesses
