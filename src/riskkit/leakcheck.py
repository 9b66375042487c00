"""Scanning leadership-facing text for personal data from the extract.

Used by ``riskkit check-output``, by the tests, and before anything is published: a briefing is
only safe to email if no name, address, postcode, phone number, email address or date of birth
from the extract appears in it, in any form a reader would recognise. So both sides are
normalised the same way and compared as sets (fast for a million people):

- names in any order, case or punctuation ("CURTIS, Declan"), and as initial plus surname
  ("D. Curtis", "Curtis D"); one-word names are not checked (they are everyday words);
- phone numbers by their national significant number (+44 7700 900409 = 07700900409);
- dates of birth written in any common way (20/08/1990, 1990-08-20, 20 August 1990, Aug 20th
  1990, 20.08.90...);
- postcodes with any spacing ("AL10  6TQ", "al106tq");
- addresses and emails by their words, whitespace and case ignored.

A person whose name is also a district or risk-band phrase ("Welwyn Hatfield", "Very High") is
not flagged where riskkit prints that phrase in its own place (the phrase as written, which is
indistinguishable from the label); the other written forms of the name (reversed, with an
initial) are still flagged.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pandas as pd

from riskkit.errors import OutputError
from riskkit.incident import load_incident
from riskkit.normalise import dates, name_key, postcode, text
from riskkit.paths import OUTPUT_MARKER, RESTRICTED_SUBDIR

# Every text type riskkit publishes, and the ones a person might add beside them.
LEADERSHIP_SUFFIXES = {".html", ".htm", ".xhtml", ".json", ".ipynb", ".pdf", ".txt", ".md", ".csv", ".tsv",
                       ".xml", ".svg", ".yml", ".yaml", ".log"}
MAX_NAME_WORDS = 6
MAX_ADDRESS_WORDS = 12

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_POSTCODE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{1,2}\d[A-Za-z\d]?)\s*(\d[A-Za-z]{2})(?![A-Za-z0-9])")
_PHONE = re.compile(r"(?<![\d])(?:\+|00)?\d[\d\s().-]{7,18}\d(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_INITIAL_FIRST = re.compile(r"\b(\w)\.?\s+([^\W\d_][\w'-]+)")
_SURNAME_FIRST = re.compile(r"\b([^\W\d_][\w'-]+),?\s+(\w)\b\.?")
_MONTHS = {m: i for i, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")], start=1) for m in names}
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_ORD = r"(\d{1,2})(?:st|nd|rd|th)?"
_DATE_FORMS = [  # (pattern, order of day/month/year groups)
    (re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)"), "ymd"),
    (re.compile(r"(?<!\d)(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4}|\d{2})(?!\d)"), "dmy"),
    (re.compile(rf"(?<!\d){_ORD}(?:\s+of)?[\s-]+{_MONTH},?[\s-]+(\d{{4}}|\d{{2}})(?!\d)", re.I), "dMy"),
    (re.compile(rf"\b{_MONTH}\s+{_ORD},?\s+(\d{{4}})(?!\d)", re.I), "Mdy"),
    (re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)"), "ymd"),
]


def vocabulary() -> set[str]:
    """Phrases riskkit itself prints that could also be someone's name: districts and bands."""
    from riskkit.paths import DISTRICTS_CSV
    from riskkit.risk import BANDS

    names = pd.read_csv(DISTRICTS_CSV, usecols=["district"])["district"]
    return set(name_key(pd.concat([names, pd.Series(list(BANDS))], ignore_index=True)).dropna())


def _nsn(digits: str) -> str:
    """The national significant number: without +44/0044, the trunk 0, or "(0)"."""
    for prefix in ("00440", "0044", "440", "44"):
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 9:
            return digits[len(prefix):].lstrip("0")
    return digits.lstrip("0")


def _words(value: str) -> str:
    return " ".join(_WORD.findall(value.lower()))


def identifiers(incident: str | Path) -> dict[str, set]:
    """Every identifying value in the extract, by kind, normalised for matching."""
    from riskkit.ingest import read_extract

    raw, _, _ = read_extract(load_incident(incident))
    found: dict[str, set] = {k: set() for k in ("name", "_name_reversed", "_name_initial", "address", "postcode",
                                                "phone", "email", "date_of_birth")}
    first_last = (text(raw["first_name"]).fillna("") + " " + text(raw["last_name"]).fillna("")).str.strip()
    names = name_key(text(raw["full_name"]).fillna(first_last)).dropna()
    reserved = vocabulary()
    for key in set(names):
        tokens = key.split()
        if len(tokens) < 2:  # one-word names are everyday words
            continue
        if key not in reserved:
            found["name"].add(key)
        reversed_key = " ".join([tokens[-1], *tokens[:-1]])
        if reversed_key not in reserved:
            found["_name_reversed"].add(reversed_key)
        found["_name_initial"].add((tokens[0][0], tokens[-1]))
    found["address"] = {a for a in (_words(v) for v in text(raw["address"]).dropna()) if len(a) >= 8}
    pcs, _ = postcode(raw["postcode"])
    found["postcode"] = set(pcs.dropna().str.replace(" ", "").str.lower())
    found["phone"] = {n for n in (_nsn(re.sub(r"\D", "", v)) for v in text(raw["phone"]).dropna()) if len(n) >= 9}
    found["email"] = set(text(raw["email"]).dropna().str.lower())
    dob, _ = dates(raw["date_of_birth"])
    found["date_of_birth"] = {d.date() for d in dob.dropna()}
    return found


def _year(value: str) -> int:
    year = int(value)
    return year if len(value) == 4 else (1900 + year if year > date.today().year % 100 else 2000 + year)


def _dates_in(content: str) -> set[date]:
    found = set()
    for pattern, order in _DATE_FORMS:
        for m in pattern.finditer(content):
            g = m.groups()
            try:
                if order == "ymd":
                    found.add(date(int(g[0]), int(g[1]), int(g[2])))
                elif order == "dmy":
                    found.add(date(_year(g[2]), int(g[1]), int(g[0])))
                elif order == "dMy":
                    found.add(date(_year(g[2]), _MONTHS[g[1].lower()], int(g[0])))
                else:
                    found.add(date(_year(g[2]), _MONTHS[g[0].lower()], int(g[1])))
            except ValueError:
                continue
    return found


def _ngrams(tokens: list[str], longest: int) -> set[str]:
    return {" ".join(tokens[i:i + n]) for n in range(2, longest + 1) for i in range(len(tokens) - n + 1)}


def _initials_in(content: str) -> set[tuple[str, str]]:
    """(initial, surname) pairs written "D. Curtis", "D Curtis", "Curtis, D" or "CURTIS D"."""
    pairs = set()
    for m in _INITIAL_FIRST.finditer(content):
        if m.group(1).isupper() and m.group(2)[0].isupper():
            pairs.add((m.group(1).lower(), name_key(pd.Series([m.group(2)])).iloc[0]))
    for m in _SURNAME_FIRST.finditer(content):
        if m.group(2).isupper() and m.group(1)[0].isupper():
            pairs.add((m.group(2).lower(), name_key(pd.Series([m.group(1)])).iloc[0]))
    return pairs


def scan_text(content: str, found: dict[str, set]) -> list[str]:
    """Kinds of identifier found in ``content`` (counts only, never the values themselves)."""
    keyed = name_key(pd.Series([content])).fillna("").iloc[0]
    names = _ngrams(keyed.split(), MAX_NAME_WORDS)
    person_hits = (found.get("name", set()) | found.get("_name_reversed", set())) & names
    initial_hits = found.get("_name_initial", set()) & _initials_in(content)
    hits = {
        "name": len(person_hits) + len(initial_hits),
        "address": len(found.get("address", set()) & _ngrams(_words(content).split(), MAX_ADDRESS_WORDS)),
        "postcode": len(found.get("postcode", set()) & {(a + b).lower() for a, b in _POSTCODE.findall(content)}),
        "phone": len(found.get("phone", set()) & {_nsn(re.sub(r"\D", "", p)) for p in _PHONE.findall(content)}),
        "email": len(found.get("email", set()) & {e.lower() for e in _EMAIL.findall(content)}),
        "date_of_birth": len(found.get("date_of_birth", set()) & _dates_in(content)),
    }
    return [f"{n} {kind} value(s)" for kind, n in hits.items() if n]


def refuse_identifiers(fields: dict[str, str], found: dict[str, set], what: str) -> None:
    """Raise if any field's text holds an identifier from the extract; the message names the
    field and the kind, never the value (the text is bound for a leadership-facing output)."""
    leaky = [f"{name} ({', '.join(hits)})" for name, value in fields.items() if value
             for hits in [scan_text(value, found)] if hits]
    if leaky:
        raise OutputError(f"{what}: personal data from the extract in {'; '.join(leaky)}; it would reach "
                          "leadership-facing outputs or the register. Rewrite it without names, addresses, "
                          "phone numbers, postcodes, emails or dates of birth (refer to people by pseudonymous id).")


def _document_text(path: Path) -> str:
    if path.suffix.lower() == ".pdf":
        import logging

        from pypdf import PdfReader
        from pypdf.errors import PyPdfError

        logging.getLogger("pypdf").setLevel(logging.CRITICAL)  # its warnings would be a second, vaguer line
        try:
            return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
        except (PyPdfError, ValueError, KeyError, TypeError, OSError):
            raise OutputError(f"{path}: not a readable PDF, so it cannot be checked; re-render it or remove it "
                              "before sharing the folder.") from None
    content = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix.lower() == ".ipynb":
        try:
            content = json.dumps(json.loads(content), ensure_ascii=False)  # decode "\u00e9" to "é"
        except ValueError:
            pass
    return html.unescape(content)


def _restricted_folders(folder: Path) -> set[Path]:
    """THE restricted output folders: ``restricted/`` beside a riskkit output marker, nothing else."""
    return {marker.parent / RESTRICTED_SUBDIR for marker in [*folder.rglob(OUTPUT_MARKER)]} | (
        {folder / RESTRICTED_SUBDIR} if (folder / OUTPUT_MARKER).exists() else set())


def leadership_files(folder: Path) -> Iterable[Path]:
    restricted = _restricted_folders(folder)
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or any(r in path.parents for r in restricted):
            continue
        if path.suffix.lower() in LEADERSHIP_SUFFIXES:
            yield path


def scan_folder(folder: str | Path, incident: str | Path) -> list[str]:
    """Every leadership-facing file under ``folder`` (the restricted output folders excluded) with
    what leaked. A missing folder or a file is an error: a check of nothing must not pass."""
    folder = Path(folder)
    if not folder.is_dir():
        what = "is a file" if folder.exists() else "does not exist"
        raise OutputError(f"{folder}: {what}; give the assessment's output folder.")
    found = identifiers(incident)
    leaks = []
    for path in leadership_files(folder):
        hits = scan_text(_document_text(path), found)
        if hits:
            leaks.append(f"{path}: {', '.join(hits)}")
    return leaks


def incident_fields(incident: str | Path) -> dict[str, str]:
    """Every text from the incident that can reach a leadership-facing output (the briefing, the
    papermill parameters in the executed notebook, the data-quality table, the ICO form), by the
    name the user knows it by: its free text, and the names of its file and folders."""
    inc = load_incident(incident)
    fields = {"title": inc.title, "summary": inc.summary, "controller": inc.controller,
              "exposure.description": inc.exposure.description, "containment.description": inc.containment.description,
              "the incident file's path": str(Path(incident).resolve())}
    for i, spec in enumerate(inc.files):
        fields[f"files[{i}].path"] = str(inc.resolve(spec.path))
    for i, override in enumerate(inc.overrides):
        fields[f"overrides[{i}].reason"] = override.reason
    return fields


def check_publishable(incident: str | Path, what: str, extra: dict[str, str | None] | None = None,
                      found: dict[str, set] | None = None) -> dict[str, set]:
    """Refuse, before anything is published, an incident or option text that names someone from
    the extract; returns the identifiers (callers checking more texts reuse them)."""
    found = found if found is not None else identifiers(incident)
    fields = {**incident_fields(incident), **{k: v or "" for k, v in (extra or {}).items()}}
    refuse_identifiers(fields, found, what)
    return found
