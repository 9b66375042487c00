"""Scanning leadership-facing outputs for personal data from the extract.

Used by the tests and by ``riskkit check-output``: a briefing is only safe to email if no
name, address, postcode, phone number, email address or date of birth from the extract
appears in it, in any encoding the reader might see (escaped HTML included).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pandas as pd

from riskkit.incident import load_incident
from riskkit.ingest import read_extract
from riskkit.normalise import dates, name_key, postcode, text
from riskkit.paths import RESTRICTED_SUBDIR

LEADERSHIP_SUFFIXES = {".html", ".json", ".ipynb", ".pdf", ".txt", ".md"}


def identifiers(incident: str | Path) -> dict[str, set[str]]:
    """Every identifying value in the extract, by kind, normalised for matching."""
    raw, _, _ = read_extract(load_incident(incident))
    found: dict[str, set[str]] = {}

    def add(kind: str, values: pd.Series, min_len: int = 5) -> None:
        found.setdefault(kind, set()).update(v for v in values.dropna().astype(str) if len(v) >= min_len)

    first_last = (text(raw["first_name"]).fillna("") + " " + text(raw["last_name"]).fillna("")).str.strip()
    # Full names only (two words or more): a one-word name such as "Hall" or "May" is also an
    # everyday word, and matching it would bury real leaks in false alarms.
    names = name_key(text(raw["full_name"]).fillna(first_last))
    add("name", names[names.str.contains(" ", regex=False, na=False)])
    add("address", text(raw["address"]).str.lower(), 8)
    pcs, _ = postcode(raw["postcode"])
    add("postcode", pcs.str.lower())
    add("postcode", pcs.str.replace(" ", "").str.lower())
    add("phone", text(raw["phone"]).str.replace(r"\D", "", regex=True), 9)
    add("email", text(raw["email"]).str.lower())
    dob, _ = dates(raw["date_of_birth"])
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d.%m.%Y"):
        add("date_of_birth", dob.dt.strftime(fmt))
    return found


def _document_text(path: Path) -> str:
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
    content = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".ipynb":
        nb = json.loads(content)  # decode JSON escapes so "\u00e9" matches "é"
        content = json.dumps(nb, ensure_ascii=False)
    return html.unescape(content)


def scan_text(content: str, found: dict[str, set[str]]) -> list[str]:
    """Kinds of identifier found in ``content`` (never the values themselves)."""
    lowered = content.lower()
    words = " " + (name_key(pd.Series([content])).iloc[0] or "") + " "  # same normalisation as the names
    digits = re.sub(r"\D", "", content)
    hits = []
    for kind, values in found.items():
        if kind == "name":
            n = sum(1 for v in values if f" {v} " in words)
        elif kind == "phone":
            n = sum(1 for v in values if v in digits)
        else:
            n = sum(1 for v in values if v in lowered)
        if n:
            hits.append(f"{n} {kind} value(s)")
    return hits


def scan_folder(folder: str | Path, incident: str | Path) -> list[str]:
    """Every leadership-facing file under ``folder`` (restricted/ excluded) with what leaked."""
    found = identifiers(incident)
    leaks = []
    for path in sorted(Path(folder).rglob("*")):
        if not path.is_file() or RESTRICTED_SUBDIR in path.relative_to(folder).parts:
            continue
        if path.suffix.lower() not in LEADERSHIP_SUFFIXES:
            continue
        hits = scan_text(_document_text(path), found)
        if hits:
            leaks.append(f"{path}: {', '.join(hits)}")
    return leaks
