"""Walking the files given to ``riskkit inspect``: every sheet classified, and each table
given its part in an incident (an extract, a postcode lookup, or a table left out and why)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from riskkit.errors import ExtractError
from riskkit.inspect.classify import ColumnGuess, classify_table
from riskkit.inspect.tables import EXTRACT_SUFFIXES, Sheet, read_tables

NAME_FIELDS = {"full_name", "first_name", "last_name"}


@dataclass
class SheetReport:
    """One table and what inspect makes of it; ``kind`` is ``extract`` (listed under files),
    ``postcode_lookup``, ``no_names`` (personal or not, it has no name column an incident can
    count people by) or ``empty``."""

    sheet: Sheet
    guesses: list[ColumnGuess]
    kind: str
    note: str = ""

    @property
    def mapped(self) -> dict[str, ColumnGuess]:
        return {g.field: g for g in self.guesses if g.field}

    def lookup_columns(self) -> tuple[str, str] | None:
        """(postcode column, area code column) of a postcode lookup, preferring the
        formatted postcode ('AL1 4UD', ONS 'pcds') over the unspaced one."""
        postcodes = [g for g in self.guesses if g.category == "postcode"]
        codes = [g for g in self.guesses if g.profile.share.get("ons_code", 0.0) >= 0.9]
        if not postcodes or not codes:
            return None
        spaced = max(postcodes, key=lambda g: (g.header.lower() == "pcds", g.profile.mean_length))
        return spaced.header, codes[0].header


@lru_cache(maxsize=1)
def known_places() -> frozenset[str]:
    """Lower-cased town and district names from the package's reference lists."""
    from riskkit import districts

    names = set(districts.towns().town.str.lower()) | set(districts.reference().district.str.lower())
    return frozenset(names)


def _kind(sheet: Sheet, guesses: list[ColumnGuess]) -> tuple[str, str]:
    if not sheet.headers or sheet.rows == 0:
        return "empty", "no data rows"
    fields = {g.field for g in guesses if g.field}
    report = SheetReport(sheet, guesses, "")
    if not fields & NAME_FIELDS:
        if report.lookup_columns() and not any(g.personal and g.category not in {"postcode", "district"}
                                               for g in guesses if g.field):
            return "postcode_lookup", "postcodes with area codes: used as the postcode lookup"
        personal = sum(g.personal for g in guesses)
        return "no_names", (f"no name column, so it cannot be listed as an extract; {personal} column(s) "
                            "may hold personal data: check it by hand" if personal else
                            "no name column and nothing that looks personal")
    return "extract", ""


def _reason(path: Path, message: str) -> str:
    """Intake's message without the path it starts with (the skipped line names the file)."""
    return message.removeprefix(f"{path}: ")


def inspect_paths(paths: Iterable[Path]) -> tuple[list[SheetReport], list[tuple[Path, str]]]:
    """Every table of every extract-like file, and the files skipped with the reason: a file
    the intake cannot read (an encoding it will not guess, a broken workbook) is one skipped
    file with intake's one-line reason, and the other files are still inspected."""
    reports: list[SheetReport] = []
    skipped: list[tuple[Path, str]] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            skipped.append((path, "a folder; give the files in it"))
            continue
        if path.suffix.lower() not in EXTRACT_SUFFIXES:
            skipped.append((path, f"not an extract file ({path.suffix or 'no extension'})"))
            continue
        try:
            sheets = list(read_tables(path))
        except ExtractError as exc:
            skipped.append((path, _reason(path, str(exc))))
            continue
        for sheet in sheets:
            guesses = classify_table(sheet.headers, sheet.columns, set(known_places()))
            kind, note = _kind(sheet, guesses)
            if kind != "postcode_lookup" and kind != "extract":
                for g in guesses:  # only an extract entry can carry a mapping
                    if g.field:
                        g.reason = f"would be {g.field}, but the table is not listed as an extract ({note})"
                        g.field = None
            reports.append(SheetReport(sheet, guesses, kind, note))
    return reports, skipped
