"""What escaped, for leadership: every file and sheet of an incident's extract (hidden sheets
too) with its rows, the data categories found in it, and what no column mapping covered.

Issue 16 item 4 asks the briefing for this inventory; this module computes it from the
incident alone, as sentences and rows of counts and category names. It never names a column
or quotes a value (a header can itself be personal, "Smith J - notes"), so its output may go
into the leadership HTML and summary.json; the analysis keeps it and the briefing's data section
shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from riskkit.incident import ExtractFile, Incident
from riskkit.inspect.classify import classify_table
from riskkit.inspect.inventory import known_places
from riskkit.inspect.tables import Sheet, read_tables

# Rows per table re-read to name its categories for leadership: enough for every pattern the
# classifier counts (the words match a full read on the samples and the scale extract), and
# small enough that the inventory costs about 1% of an analysis of a million records.
INVENTORY_SAMPLE_ROWS = 2000

# Plain words for the categories a leadership reader sees.
WORDS = {
    "full_name": "names", "first_name": "names", "last_name": "names", "date_of_birth": "dates of birth",
    "age": "ages", "address": "home addresses", "town": "home addresses", "postcode": "home addresses",
    "lat": "home locations", "lon": "home locations", "easting": "home locations", "northing": "home locations",
    "phone": "phone numbers", "email": "email addresses", "employee_id": "staff numbers", "job_title": "jobs",
    "salary_band": "pay", "sickness_absence": "sickness absence", "sensitive_role": "protected roles",
    "ni_number": "NI numbers", "bank_account": "bank details", "case_ref": "case references",
    "role": "roles in cases", "markers": "markers", "notes": "free-text notes", "free_text": "free text",
    "district": "districts", "case_district": "case districts", "gender": "gender", "ethnicity": "ethnicity",
    "religion": "religion", "sexual_orientation": "sexual orientation", "disability": "disability",
    "health": "health", "nationality": "nationality", "marital_status": "marital status",
    "next_of_kin": "next of kin", "criminal_record": "criminal records", "other_date": "other dates",
    "house_number": "home addresses", "postcode_not_uk": "home addresses", "honorific": "titles (Mr, Ms...)",
}


@dataclass
class InventoryRow:
    """One sheet (or CSV/Parquet file) of the extract; counts and category words only."""

    file: str
    sheet: str | None
    visibility: str
    rows: int
    columns: int
    categories: list[str] = field(default_factory=list)  # plain words, sorted, personal data first
    listed: bool = True  # listed under files in the incident
    excluded_sheet: bool = False  # named under exclude_sheets by the analyst (the reason is not repeated)
    mapped: int = 0
    excluded: int = 0  # listed under unmapped by the analyst
    uncovered: int = 0  # neither mapped nor excluded
    uncovered_personal: int = 0

    def sentence(self) -> str:
        where = self.file if self.sheet is None else f"{self.file}, sheet '{self.sheet}'" + \
            (f" ({self.visibility})" if self.visibility != "visible" else "")
        what = f"{self.rows:,} row{'s' if self.rows != 1 else ''}, {self.columns} column{'s' if self.columns != 1 else ''}"
        found = f": {', '.join(self.categories)}" if self.categories else ", not personal data"
        if not self.listed and self.excluded_sheet:
            tail = "excluded by the analyst"
        elif not self.listed:
            tail = "not used in this assessment"
        elif self.uncovered:
            tail = (f"{self.mapped} mapped, {self.excluded} excluded by the analyst, {self.uncovered} not covered by "
                    f"any mapping ({self.uncovered_personal} may be personal data)")
        elif self.excluded:
            tail = f"{self.mapped} mapped, {self.excluded} excluded by the analyst"
        else:
            tail = "every column mapped"
        return f"{where}: {what}{found}; {tail}."


def _reads(e: ExtractFile, sheet: Sheet, first: bool) -> bool:
    """Whether an entry reads this sheet: named under ``sheets``, every sheet not excluded with
    ``sheets: all``, else the named ``sheet`` (none named means a workbook's first)."""
    if sheet.name is None:
        return True
    if isinstance(e.sheets, dict):
        return sheet.name in e.sheets
    if e.sheets == "all":
        return sheet.name not in e.exclude_sheets
    return e.sheet == sheet.name or (e.sheet is None and first)


def _entries(incident: Incident, path: Path, sheet: Sheet, first: bool) -> list[ExtractFile]:
    """The incident's entries that read this sheet."""
    return [e for e in incident.files if incident.resolve(e.path) == path and _reads(e, sheet, first)]


def _covered(entries: list[ExtractFile], sheet: Sheet) -> tuple[set[str], set[str]]:
    """Headers mapped (to a canonical field, or under ``categories``) and headers excluded."""
    mapped = {h for e in entries for h in e.columns_for(sheet.name if isinstance(e.sheets, dict) else None).values()}
    mapped |= {h for e in entries for h in e.categories}
    return mapped, {h for e in entries for h in e.unmapped}


def rows_read(incident: Incident, files: list[dict]) -> dict[tuple[Path, str | None], int]:
    """``{(file, sheet): rows}`` from ingest's per-file counts (``Ingested.files``), so the
    inventory does not count millions of rows a second time. An entry is labelled with the
    file as named in the incident, and the sheet in brackets when several are read."""
    counts: dict[tuple[Path, str | None], int] = {}
    for e in incident.files:
        label = e.path.as_posix()
        for f in files:
            sheet = f.get("sheet")
            if f.get("file") in {label, f"{label} [{sheet}]"}:
                key = (incident.resolve(e.path), sheet)
                counts[key] = counts.get(key, 0) + int(f["rows_read"])
    return counts


def workbook_inventory(incident: Incident, files: list[dict] | None = None,
                       sample_rows: int = INVENTORY_SAMPLE_ROWS) -> list[InventoryRow]:
    """Every sheet of every file the incident lists, with what the mapping covers.

    With ``files`` (ingest's per-file counts) a table ingest read takes its row count from
    there and only its first ``sample_rows`` rows are read again, to classify its columns:
    the inventory then costs about the same for ten million records as for ten thousand."""
    known = rows_read(incident, files) if files is not None else {}
    rows: list[InventoryRow] = []
    seen: set[Path] = set()
    for entry in incident.files:
        path = incident.resolve(entry.path)
        if path in seen:
            continue
        seen.add(path)
        for index, sheet in enumerate(read_tables(path, count_rows=not known, sample_rows=sample_rows)):
            if (path, sheet.name) in known:
                sheet.rows = known[(path, sheet.name)]
            elif not sheet.counted:  # not read by ingest: count it here after all
                sheet = next(s for s in read_tables(path, sample_rows=sample_rows) if s.name == sheet.name)
            guesses = classify_table(sheet.headers, sheet.columns, set(known_places()))
            entries = _entries(incident, path, sheet, index == 0)
            mapped, excluded = _covered(entries, sheet)
            words: dict[str, bool] = {}
            for g in guesses:
                word = WORDS.get(g.category)
                if word and (g.personal or g.category in {"case_ref", "district", "case_district"}):
                    words[word] = words.get(word, False) or g.personal
            uncovered = [g for g in guesses if g.header not in mapped and g.header not in excluded]
            rows.append(InventoryRow(
                file=path.name, sheet=sheet.name, visibility=sheet.visibility, rows=sheet.rows,
                columns=len(sheet.headers), categories=sorted(words, key=lambda w: (not words[w], w)),
                listed=bool(entries), excluded_sheet=any(
                    incident.resolve(e.path) == path and sheet.name in e.exclude_sheets for e in incident.files),
                mapped=sum(g.header in mapped for g in guesses),
                excluded=sum(g.header in excluded for g in guesses), uncovered=len(uncovered) if entries else 0,
                uncovered_personal=sum(g.personal for g in uncovered) if entries else 0))
    return rows
