"""The draft incident file: every column mapped, marked ``# check``, or listed under
``unmapped:`` with its reason; the facts only the analyst knows left as ``FILL_ME``.

``FILL_ME`` is refused by the incident schema wherever it is left (``riskkit assess`` names
each key still to fill), so a draft can never be assessed by accident. Once the facts are
filled the file loads with ``load_incident`` as it is.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import yaml

from riskkit.incident import CANONICAL_FIELDS, PLACEHOLDER
from riskkit.inspect.headers import SPECIAL_CATEGORIES
from riskkit.inspect.inventory import SheetReport

FACTS = """\
id: {id}  # letters, digits, '.', '_', '-': e.g. {suggested_id}
title: {ph}  # one line: what happened
controller: {ph}  # the organisation responsible for the data
regime: {ph}  # uk_gdpr, or dpa2018_part3 for law-enforcement processing
summary: ''
subject_noun: people  # e.g. staff, residents
case_noun: cases  # e.g. staff records, anti-social behaviour cases
{data_context}timestamps:
  occurred: {ph}  # ISO time with a zone, e.g. 2026-10-04T09:15:00+01:00 (delete the line if unknown)
  became_aware: {ph}  # starts the 72-hour clock
  contained: {ph}  # delete the line if not yet contained
exposure:
  channel: {ph}  # public_web, email, file_transfer, lost_device, post or other
  recipients: {ph}  # trusted_contract, known, unknown or public
  duration_hours: {ph}  # hours the data was exposed
  evidence_of_access: {ph}  # none, low_views, accessed or misused
containment:
  removed: {ph}  # true or false
  deletion_confirmed: {ph}  # true or false
"""


def _scalar(value: object) -> str:
    """A YAML scalar, quoted only when YAML needs it."""
    return yaml.safe_dump({"k": value}, allow_unicode=True, width=10_000).strip()[3:]


def _comment(text: str) -> str:
    return " ".join(text.split())


def _relative(path: Path, base: Path) -> str:
    return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()


def draft_incident(reports: list[SheetReport], out: Path, skipped: list[tuple[Path, str]] | None = None) -> str:
    """The draft incident YAML for ``reports``, with paths relative to ``out``'s folder."""
    base = out.parent
    specials = sorted({g.category for r in reports for g in r.guesses if g.category in SPECIAL_CATEGORIES})
    context = ("# data_context: []  # e.g. [police_asb_case]; see the risk model's list\n" if not specials else
               f"# data_context: []  # special-category columns found ({', '.join(specials)}): see the risk model's list\n")
    suggested = base.resolve().name.lower().replace(" ", "-") or "incident"
    lines = [f"# Draft written by 'riskkit inspect' on {date.today().isoformat()} from {len(reports)} table(s).",
             f"# Look at every mapping with a 'check:' comment, replace every {PLACEHOLDER} (riskkit assess refuses the file",
             "# until none is left), then run: riskkit assess THIS_FILE --out RESTRICTED_FOLDER",
             FACTS.format(ph=PLACEHOLDER, id=PLACEHOLDER, suggested_id=suggested, data_context=context).rstrip()]
    owners = sorted({g.header for r in reports if r.kind == "extract" for g in r.guesses if g.field == "controller"})
    if owners:  # several controllers: each gets its own counts, decision and ICO report once listed
        lines += [f"# controllers:  # the column(s) {', '.join(repr(h) for h in owners)} name each record's organisation:",
                  "#   - name: ...  # list each controller; values: [other spellings in the column]",
                  "#     regime: uk_gdpr  # or dpa2018_part3; contact: its DPO's office (ICO form only)"]
    lookups = [r for r in reports if r.kind == "postcode_lookup"]
    if lookups:
        r = lookups[0]
        cols = r.lookup_columns()
        assert cols is not None
        lines += ["postcode_lookup:", f"  path: {_scalar(_relative(r.sheet.path, base))}",
                  f"  postcode_column: {_scalar(cols[0])}", f"  code_column: {_scalar(cols[1])}"]
        for other in lookups[1:]:
            lines.append(f"# also a postcode lookup, not used: {_relative(other.sheet.path, base)}")
    lines.append("files:")
    for r in reports:
        if r.kind == "extract":
            lines += _file_entry(r, base)
    left_out = [r for r in reports if r.kind not in {"extract", "postcode_lookup"}]
    if left_out:
        lines.append("# Tables not listed above, and why:")
        for r in left_out:
            lines.append(f"#   {_where(r, base)}: {r.note}")
            for g in r.guesses:
                lines.append(f"#     {g.header}: {g.category}{' (personal)' if g.personal else ''}")
    for path, reason in skipped or []:
        lines.append(f"# Skipped {_relative(path, base)}: {reason}")
    return "\n".join(lines) + "\n"


def _where(r: SheetReport, base: Path) -> str:
    where = _relative(r.sheet.path, base)
    if r.sheet.name is not None:
        where += f", sheet '{r.sheet.name}' ({r.sheet.visibility})"
    return where


def _file_entry(r: SheetReport, base: Path) -> list[str]:
    s = r.sheet
    lines = [f"  - path: {_scalar(_relative(s.path, base))}  # {s.rows:,} rows"
             + (f", header on row {s.header_row} (title rows above it)" if s.header_row > 1 else "")]
    if s.name is not None and s.sheets_in_file > 1:
        hidden = "" if s.visibility == "visible" else f"  # {s.visibility} sheet: it leaked with the workbook"
        lines.append(f"    sheet: {_scalar(s.name)}{hidden}")
    if s.encoding == "cp1252":
        lines.append("    encoding: cp1252  # not valid UTF-8: Windows-1252, as Excel writes CSV")
    if s.delimiter and s.delimiter != ",":
        lines.append(f"    delimiter: {_scalar(s.delimiter)}")
    lines.append("    columns:")
    mapped = sorted((g for g in r.guesses if g.field), key=lambda g: CANONICAL_FIELDS.index(g.field or ""))
    for g in sorted(mapped, key=lambda g: g.position):
        note = f"  # check: {_comment(g.reason)} (confidence {g.confidence:.2f})" if not g.sure else ""
        lines.append(f"      {g.field}: {_scalar(g.header)}{note}")
    unmapped = [g for g in r.guesses if not g.field]
    if unmapped:
        lines.append("    unmapped:")
        for g in unmapped:
            reason = g.reason or f"{g.category}: not a canonical field"
            lines.append(f"      {_scalar(g.header)}: {_scalar(_comment(reason))}")
    return lines
