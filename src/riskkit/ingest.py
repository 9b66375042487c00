"""From extract files to one canonical subject-record table, losing no row.

Every row read ends in exactly one of two places: ``records`` (analysed) or ``quarantine``
(with its reasons). ``rows_read == rows_analysed + rows_quarantined`` is checked here, not
hoped for, because a breach count that silently drops people is worse than no count.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
from pandas.api.types import union_categoricals
from rapidfuzz import process

from riskkit import labels, normalise
from riskkit.errors import ExtractError
from riskkit.incident import CANONICAL_FIELDS, ExtractFile, Incident
from riskkit.readers import PARTITION_BYTES, RawTable, iter_any

ROLES = ("victim", "alleged_perpetrator", "witness", "reporting_person", "staff", "other")
MARKERS = ("vulnerable_adult", "child", "repeat_victim", "hate_related", "domestic_abuse")

# Words that identify a role or marker in the free-text labels exported by case systems.
_ROLE_WORDS = [
    ("alleged_perpetrator", r"perp|offend|suspect|alleged|accused|respondent"),
    ("victim", r"victim|complain|injured|aggrieved"),
    ("witness", r"witness"),
    ("reporting_person", r"report|caller|informant"),
    ("staff", r"staff|employee|officer"),
]
_MARKER_WORDS = {
    "vulnerable_adult": r"vulnerab",
    "child": r"child|juvenile|minor|under ?18",
    "repeat_victim": r"repeat",
    "hate_related": r"hate",
    "domestic_abuse": r"domestic|\bda\b",
}
# Fields where most values differ (kept as text); every other text field, and these when the
# extract does not have them, are stored as categories: a column of a few hundred distinct
# values then costs a byte or two per record, which is what lets ten million records fit.
DISTINCT_FIELDS = ("case_ref", "full_name", "address", "phone", "email", "notes", "employee_id", "ni_number",
                   "bank_account")
TEXT_FIELDS = ("case_ref", "case_district", "full_name", "first_name", "last_name", "address",
               "town", "district", "phone", "email", "notes", "employee_id", "job_title",
               "salary_band", "ni_number", "bank_account", "controller")

RECORD_SCHEMA = pa.DataFrameSchema(
    {
        "record_id": pa.Column(int, unique=True),
        "case_ref": pa.Column("string", nullable=False),
        "role": pa.Column(pd.CategoricalDtype(ROLES), pa.Check.isin(ROLES)),
        "full_name": pa.Column("string", nullable=False),
        "postcode": pa.Column("string", pa.Check.str_matches(normalise.POSTCODE_PATTERN), nullable=True),
        "date_of_birth": pa.Column("datetime64[ns]", nullable=True),
        "lon": pa.Column(float, pa.Check.in_range(-180, 180), nullable=True),
        "lat": pa.Column(float, pa.Check.in_range(-90, 90), nullable=True),
        "source_file": pa.Column("category"),
        "source_row": pa.Column(int, pa.Check.ge(2)),
    },
    strict=False,
    coerce=False,
)


@dataclass
class Ingested:
    """The canonical table, the quarantine, and the counts that must reconcile."""

    records: pd.DataFrame
    quarantine: pd.DataFrame
    files: list[dict] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)
    mapped_fields: set[str] = field(default_factory=set)
    set_missing: list[dict] = field(default_factory=list)  # [{file, sheet, field, reason, count}]

    @property
    def sheets(self) -> list[dict]:
        """Each workbook sheet read: visibility, rows read, hidden rows and columns, title rows."""
        keys = ("file", "sheet", "visibility", "rows_read", "hidden_rows", "hidden_columns", "title_rows")
        return [{k: f[k] for k in keys} for f in self.files if f.get("sheet") is not None]

    @property
    def rows_read(self) -> int:
        return sum(f["rows_read"] for f in self.files)

    @property
    def rows_analysed(self) -> int:
        return len(self.records)

    @property
    def rows_quarantined(self) -> int:
        return len(self.quarantine)


_NOT_A_HEADING = re.compile(r"^[\d\s/.:+()-]+$|@|^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$|^\+?[\d ]{7,}$",
                            re.IGNORECASE)


def _header_hint(headers: list[str]) -> str:
    """What to tell the user about the headers found, without ever quoting a cell value: when
    the first row looks like data (dates, postcodes, phones, emails, long text), it says so."""
    looks_like_data = [h for h in headers if len(h) > 40 or _NOT_A_HEADING.search(h)]
    if looks_like_data or not headers:
        return "the first row read looks like data rather than column headings; set 'header_row' to the row " \
               "number of the headings"
    return "headers found: " + ", ".join(repr(h[:30]) for h in headers[:8])


def _map_columns(raw: RawTable, columns: dict[str, str], label: str, spec: ExtractFile) -> pd.DataFrame:
    headers = [c for c in raw.frame.columns if c != "source_row"]
    missing = [(canon, src) for canon, src in columns.items() if src not in headers]
    if missing:
        canon, src = missing[0]
        hint = _header_hint(headers)
        if not hint.startswith("the first row"):
            close = [m[0] for m in process.extract(src, headers, limit=3, score_cutoff=50)]
            hint = f"closest headers found: {', '.join(repr(c[:30]) for c in close)}" if close else hint
        raise ExtractError(f"{label}: column '{src}' (mapped to {canon}) not found; {hint}. "
                           "Fix 'columns' for this file in the incident file.")
    out = pd.DataFrame({canon: raw.frame[src] for canon, src in columns.items()})
    out["source_row"] = raw.frame["source_row"].astype(int)
    if spec.controller:  # the file's controller, for every record its column leaves empty
        given = normalise.text(out["controller"]) if "controller" in out else pd.Series(pd.NA, index=out.index)
        out["controller"] = given.fillna(spec.controller).astype("string")
    for header, category in category_columns(spec, headers, label).items():
        # Only whether each record holds something in the column is kept: the risk model
        # scores what a column exposes, never what it says.
        filled = normalise.text(raw.frame[header]).notna().to_numpy()
        out[category] = out[category].to_numpy() | filled if category in out else filled
    return out


def _check_distinct_files(incident: Incident) -> None:
    """The same file listed twice would count every person in it twice."""
    seen: dict[Path, int] = {}
    for i, spec in enumerate(incident.files):
        path = incident.resolve(spec.path)
        key = path.resolve() if path.exists() else path
        if key in seen:
            raise ExtractError(f"{spec.path.as_posix()}: listed twice in 'files' (entries {seen[key] + 1} and "
                               f"{i + 1}); remove one (map several sheets of a workbook under 'sheets').")
        seen[key] = i


def _blocks(incident: Incident, spec: ExtractFile, partition_bytes: int | None) -> Iterator[RawTable]:
    path = incident.resolve(spec.path)
    if isinstance(spec.sheets, dict) and path.suffix.lower() not in {".xlsx", ".xlsm"}:
        raise ExtractError(f"{spec.path.as_posix()}: 'sheets' maps the sheets of a workbook, and this file is not "
                           "one; use 'columns' for it in the incident file.")
    return iter_any(path, spec.sheet, spec.encoding, spec.delimiter, partition_bytes, spec.header_row,
                    spec.sheets, spec.exclude_sheets)


def _label(spec: ExtractFile, raw: RawTable) -> str:
    """The file as named in the incident, with the sheet when a workbook has several read."""
    label = spec.path.as_posix()
    several = spec.sheets is not None
    return f"{label} [{raw.sheet}]" if several and raw.sheet else label


def _file_entry(label: str, raw: RawTable) -> dict:
    entry: dict = {"file": label, "rows_read": 0, "unparseable_rows": 0}
    if raw.sheet is not None:
        entry.update(sheet=raw.sheet, visibility=raw.visibility, hidden_rows=raw.hidden_rows,
                     hidden_columns=raw.hidden_columns, title_rows=raw.title_rows, header_row=raw.header_row)
    return entry


def category_columns(spec: ExtractFile, headers: list[str], label: str) -> dict[str, str]:
    """``{header: "cat__<category>"}`` for the file's ``categories:`` entries, checked against its headers."""
    found = {}
    for header, use in spec.categories.items():
        if header not in headers:
            raise ExtractError(f"{label}: column '{header}' (listed under categories) not found; "
                               "fix 'categories' for this file in the incident file.")
        found[header] = "cat__" + (use if isinstance(use, str) else use.category)
    return found


def read_extract(incident: Incident, progress: bool = False) -> tuple[pd.DataFrame, list[dict], pd.DataFrame]:
    """Read and map every file; return (mapped rows, per-file counts, unparseable rows)."""
    _check_distinct_files(incident)
    frames, files, bad = [], [], []
    for spec in incident.files:
        for raw in _blocks(incident, spec, None):
            label = _label(spec, raw)
            mapped = _map_columns(raw, spec.columns_for(raw.sheet), label, spec)
            mapped["source_file"] = label
            frames.append(mapped)
            if raw.bad_rows:
                bad.append(pd.DataFrame({"source_file": label,
                                         "source_row": [r for r, _ in raw.bad_rows],
                                         "reasons": [why for _, why in raw.bad_rows]}))
            files.append({**_file_entry(label, raw), "rows_read": raw.rows_read,
                          "unparseable_rows": len(raw.bad_rows)})
    combined = pd.concat(frames, ignore_index=True, sort=False)
    for canon in CANONICAL_FIELDS:
        if canon not in combined:
            combined[canon] = pd.NA
    bad_frame = pd.concat(bad, ignore_index=True) if bad else \
        pd.DataFrame(columns=["source_file", "source_row", "reasons"])
    return combined, files, bad_frame


def _roles(series: pd.Series, default: str) -> tuple[pd.Series, pd.Series]:
    @normalise.per_distinct
    def label(values: pd.Series) -> tuple[pd.Series, pd.Series]:
        s = normalise.text(values).str.lower()
        out = pd.Series(pd.NA, index=s.index, dtype="string")
        for role, pattern in _ROLE_WORDS:
            out = out.mask(out.isna() & s.str.contains(pattern, regex=True, na=False), role)
        unknown = s.notna() & out.isna()
        return out.fillna("other").mask(s.isna(), default), unknown.astype(bool)

    out, unknown = label(series)
    return out.fillna(default).astype("string"), unknown


@normalise.per_distinct
def _markers(series: pd.Series) -> tuple[pd.Series, ...]:
    text = normalise.text(series).str.lower()
    return tuple(text.str.contains(pattern, regex=True, na=False).astype(bool) for pattern in _MARKER_WORDS.values())


def _reasons(reasons: dict[str, pd.Series], index: pd.Index) -> pd.Series:
    """'reason; reason' per row ('' when none)."""
    masks = [mask.fillna(False).to_numpy(dtype=bool) for mask in reasons.values()]
    codes, texts = labels.joined(labels.bits(masks, len(index)), list(reasons), "; ")
    return pd.Series(pd.array(np.asarray(texts, dtype=object)[codes], dtype="string"), index=index)


# Fields whose presence makes a row a person who can be reached or identified.
CONTACT_FIELDS = ("address", "email", "phone", "ni_number", "employee_id")
MAX_AGE_YEARS = 120


def _missing(report: list[dict], field_name: str, reason: str, mask: pd.Series) -> None:
    """Count values set to missing (never the values themselves) for the data-quality table."""
    count = int(mask.fillna(False).sum())
    if count:
        report.append({"field": field_name, "reason": reason, "count": count})


def canonicalise(raw: pd.DataFrame, incident: Incident) -> tuple[pd.DataFrame, pd.Series, list[dict], list[dict]]:
    """Normalise every field and collect quarantine reasons per row (vectorised).

    A row is quarantined only when it holds nobody: a field that cannot be used (a date of
    birth that does not parse, a postcode abroad) becomes missing and is counted in the
    fourth return value, ``[{field, reason, count}]``, so the person is still analysed.
    """
    df = pd.DataFrame(index=raw.index)
    df["source_file"] = raw["source_file"].astype("string")
    df["source_row"] = raw["source_row"].astype(int)
    for col in TEXT_FIELDS:
        df[col] = normalise.text(raw[col])
    reasons: dict[str, pd.Series] = {}
    findings: list[dict] = []
    missing: list[dict] = []

    joined = (df["first_name"].fillna("") + " " + df["last_name"].fillna("")).str.strip()
    df["full_name"] = df["full_name"].fillna(joined.mask(joined == ""))
    no_name = df["full_name"].isna()
    reachable = pd.Series(False, index=df.index)
    for col in CONTACT_FIELDS:
        reachable |= df[col].notna()
    reasons["no name or other identifier: nobody can be identified"] = no_name & ~reachable
    if (no_name & reachable).any():
        # Still a person: reached by address, email, phone or number. An empty name is never
        # matched to another record by the people resolution.
        findings.append({"check": "no name, but an address, email, phone or number (counted as a person)",
                         "count": int((no_name & reachable).sum())})
        df["full_name"] = df["full_name"].mask(no_name & reachable, "")

    mapped = {c for spec in incident.files for c in spec.all_columns}
    if "case_ref" in mapped:
        _missing(missing, "case_ref", "no case reference (the record is a case of its own)", df["case_ref"].isna())
    no_case = df["case_ref"].isna()
    if no_case.any():  # the file and row as its reference, built only for the rows without one
        df.loc[no_case, "case_ref"] = df.loc[no_case, "source_file"] + "#" + df.loc[no_case, "source_row"].astype("string")

    df["role"], unknown_role = _roles(raw["role"], "staff" if "role" not in mapped else "other")
    if unknown_role.any():
        findings.append({"check": "unrecognised role label (counted as 'other')", "count": int(unknown_role.sum())})

    df["postcode"], bad_pc = normalise.postcode(raw["postcode"])
    _missing(missing, "postcode", "not a UK postcode", bad_pc)
    dob, bad_dob = normalise.dates(raw["date_of_birth"])
    today = pd.Timestamp.now().normalize()
    future = dob > today
    too_old = dob < today - pd.DateOffset(years=MAX_AGE_YEARS)
    _missing(missing, "date_of_birth", "unparseable date", bad_dob)
    _missing(missing, "date_of_birth", "in the future", future)
    _missing(missing, "date_of_birth", f"over {MAX_AGE_YEARS} years ago", too_old)
    df["date_of_birth"] = dob.mask(future | too_old)
    age, bad_age = normalise.numbers(raw["age"])
    impossible = (age < 0) | (age > MAX_AGE_YEARS)
    _missing(missing, "age", "unparseable", bad_age)
    _missing(missing, "age", f"below 0 or over {MAX_AGE_YEARS}", impossible)
    df["age"] = age.mask(impossible)
    for col in ("lon", "lat", "easting", "northing"):
        df[col], bad = normalise.numbers(raw[col])
        _missing(missing, col, "unparseable", bad)
    bad_ll = (df["lon"].notna() & ~df["lon"].between(-180, 180)) | (df["lat"].notna() & ~df["lat"].between(-90, 90))
    _missing(missing, "lon/lat", "coordinates out of range", bad_ll)
    df.loc[bad_ll, ["lon", "lat"]] = np.nan

    for marker, found in zip(_MARKER_WORDS, _markers(raw["markers"]), strict=True):
        df[f"marker_{marker}"] = found
    for col in ("sickness_absence", "sensitive_role"):
        df[col] = normalise.flags(raw[col])
    for col in raw.columns:
        if str(col).startswith("cat__"):  # what an extra column exposes (see category_columns)
            df[col] = raw[col].fillna(False).astype(bool)

    return _compact(df, mapped), _reasons(reasons, df.index), findings, missing


def _compact(df: pd.DataFrame, mapped: set[str]) -> pd.DataFrame:
    for col in (*TEXT_FIELDS, "source_file"):
        if col not in DISTINCT_FIELDS or (col not in mapped and col not in ("case_ref", "full_name")):
            df[col] = df[col].astype("category")
    df["role"] = pd.Categorical(df["role"], categories=ROLES)
    return df


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """pd.concat, but categories that differ between parts are unified rather than turned back
    into text."""
    if len(parts) == 1:
        return parts[0].reset_index(drop=True)
    columns = {}
    for col in parts[0].columns:
        pieces = [p[col] for p in parts]
        if isinstance(pieces[0].dtype, pd.CategoricalDtype) and any(p.dtype != pieces[0].dtype for p in pieces):
            columns[col] = pd.Series(union_categoricals(pieces, sort_categories=True))
        else:
            columns[col] = pd.concat(pieces, ignore_index=True)
    return pd.DataFrame(columns)


def ingest(incident: Incident, partition_bytes: int | None = PARTITION_BYTES) -> Ingested:
    """Read, map, normalise and validate the extract; quarantine what cannot be analysed.

    Each file is processed block by block (one block unless it is a CSV larger than
    ``partition_bytes``): mapping, normalising and quarantining are row-local, so the result
    is the same however the file is partitioned, and only canonical columns are kept.
    """
    _check_distinct_files(incident)
    parts, quarantined, files, findings = [], [], [], {}
    all_categories = sorted({"cat__" + (u if isinstance(u, str) else u.category)
                             for spec in incident.files for u in spec.categories.values()})
    set_missing: dict[tuple, int] = {}
    for spec in incident.files:
        entries: dict[str, dict] = {}
        for raw in _blocks(incident, spec, partition_bytes):
            label = _label(spec, raw)
            entry = entries.setdefault(label, _file_entry(label, raw))
            columns = spec.columns_for(raw.sheet)
            mapped = _map_columns(raw, columns, label, spec)
            mapped["source_file"] = label
            for canon in CANONICAL_FIELDS:
                if canon not in mapped:  # typed missing text: every clean-up pass skips it at once
                    mapped[canon] = pd.arrays.ArrowStringArray(pyarrow.nulls(len(mapped), pyarrow.large_string()))
            for cat in all_categories:  # every part has every category column, so they concatenate
                if cat not in mapped:
                    mapped[cat] = False
            df, why, found, unusable = canonicalise(mapped, incident)
            bad = why.fillna("") != ""
            parts.append(df.loc[~bad] if bad.any() else df)  # no copy of a block with nothing quarantined
            quarantined.append(mapped.loc[bad, [*columns, "source_file", "source_row"]].assign(reasons=why[bad]))
            if raw.bad_rows:
                quarantined.append(pd.DataFrame({"source_file": label, "source_row": [r for r, _ in raw.bad_rows],
                                                 "reasons": [w for _, w in raw.bad_rows]}))
            if raw.title_rows:
                found.append({"check": "title rows above the header (not read as data)", "count": raw.title_rows})
            for f in found:
                findings[f["check"]] = findings.get(f["check"], 0) + f["count"]
            for m in unusable:
                key = (label, raw.sheet, m["field"], m["reason"])
                set_missing[key] = set_missing.get(key, 0) + m["count"]
            entry["rows_read"] += raw.rows_read
            entry["unparseable_rows"] += len(raw.bad_rows)
        files.extend(entries.values())
    records = _concat(parts)
    del parts
    records.insert(0, "record_id", range(len(records)))
    records = RECORD_SCHEMA.validate(records, inplace=True)  # checked, not copied (coerce is off)
    quarantine = pd.concat(quarantined, ignore_index=True, sort=False)
    result = Ingested(records=records, quarantine=quarantine, files=files,
                      findings=[{"check": k, "count": v} for k, v in findings.items()],
                      set_missing=[{"file": f, "sheet": sh, "field": fd, "reason": r, "count": n}
                                   for (f, sh, fd, r), n in set_missing.items()],
                      mapped_fields={c for spec in incident.files for c in spec.all_columns})
    if result.rows_read != result.rows_analysed + result.rows_quarantined:
        raise AssertionError(
            f"reconciliation failed: read {result.rows_read}, analysed {result.rows_analysed}, "
            f"quarantined {result.rows_quarantined}")
    if not result.rows_analysed:
        raise ExtractError(_nothing_to_analyse(result))
    return result


def _nothing_to_analyse(result: Ingested) -> str:
    """One line saying why no row could be analysed (reasons and counts only, never values)."""
    reasons = result.quarantine["reasons"].astype("string").str.split("; ").explode().value_counts()
    why = ", ".join(f"{reason} ({count:,})" for reason, count in reasons.head(3).items())
    return (f"nothing could be analysed: all {result.rows_read:,} rows read were quarantined ({why}); check the "
            "'columns' mapping and the extract (see docs/troubleshooting.md, 'Nothing could be analysed').")
