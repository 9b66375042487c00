"""A labelled set of export-shaped files for measuring ``riskkit inspect``.

Written at test or benchmark time into a folder (deterministic for a seed): HR, police and
council exports with the conventions real systems use: varied header wording, casing and
abbreviations, title rows above the header, comma, semicolon and tab CSVs in UTF-8 and
Windows-1252, workbooks with several sheets (one hidden), Parquet; names from several Faker
locales. Each column carries its expected canonical field (or None) and whether it holds
personal data, so ``evaluate`` can score column-level precision and recall.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from faker import Faker

SEED = 16
LOCALES_UTF8 = ["en_GB", "en_IE", "en_IN", "pl_PL", "ga_IE", "en_GB", "fr_FR"]
LOCALES_CP1252 = ["en_GB", "fr_FR", "de_DE", "es_ES"]
# generator key -> (expected canonical field or None, personal data?, header variants)
KEYS: dict[str, tuple[str | None, bool, list[str]]] = {
    "case_ref": ("case_ref", False, ["Case Ref", "Case Number", "CaseID", "Incident No", "Crime Reference", "ASB Ref",
                                     "Occurrence Number", "URN"]),
    "case_district": ("case_district", False, ["Case Location District", "Incident District", "Offence Borough",
                                               "Location LA", "Case Area Council"]),
    "role": ("role", True, ["Subject Role", "Involvement", "Party Type", "Role", "Person Type", "Role in Case"]),
    "full_name": ("full_name", True, ["Name", "Full Name", "Employee Name", "Subject Name", "Person Name", "Staff Name"]),
    "first_name": ("first_name", True, ["Forename", "First Name", "Forenames", "Given Name", "FName", "Christian Name"]),
    "last_name": ("last_name", True, ["Surname", "Last Name", "Family Name", "LName", "Sur Name"]),
    "date_of_birth": ("date_of_birth", True, ["DOB", "Date of Birth", "BirthDate", "D.O.B.", "Birth Date", "Born"]),
    "age": ("age", True, ["Age", "Age at Report", "Age (Years)"]),
    "address": ("address", True, ["Address", "Home Address", "Address Line 1", "Addr1", "Street", "Residential Address"]),
    "address2": (None, True, ["Address Line 2", "Address 2", "Addr2"]),
    "town": ("town", True, ["Town", "City", "Post Town", "Town/City", "Locality", "Area"]),
    "postcode": ("postcode", True, ["Postcode", "Post Code", "PCode", "Postal Code", "Home Postcode", "PC"]),
    "lat": ("lat", True, ["Latitude", "Lat"]),
    "lon": ("lon", True, ["Longitude", "Long", "Lng"]),
    "easting": ("easting", True, ["Easting", "X Coord"]),
    "northing": ("northing", True, ["Northing", "Y Coord"]),
    "district": ("district", False, ["Resident District", "District", "Local Authority", "Home Council", "Borough"]),
    "phone": ("phone", True, ["Telephone", "Phone", "Mobile", "Contact Number", "Tel No", "Home Phone", "Mobile No."]),
    "email": ("email", True, ["Email", "E-mail Address", "Work Email", "Personal Email", "Email Address"]),
    "markers": ("markers", True, ["Markers", "Warning Markers", "Vulnerability", "Risk Flags", "Alerts"]),
    "notes": ("notes", True, ["Case Notes", "Notes", "Comments", "Narrative", "Details", "Remarks"]),
    "employee_id": ("employee_id", True, ["Employee No", "Payroll Number", "Staff ID", "StaffRef", "Person ID", "Emp No",
                                          "Personnel Number", "Assignment Number", "Collar Number"]),
    "job_title": ("job_title", True, ["Job Title", "Post", "Position", "Role", "Occupation", "Post Title", "Designation"]),
    "salary_band": ("salary_band", True, ["Grade", "Salary Band", "Pay Band", "PayBand", "Grade/Salary Band", "Pay Scale"]),
    "sickness_absence": ("sickness_absence", True, ["Sickness Absence (Y/N)", "LTS", "Absence Flag", "Off Sick",
                                                    "Sickness Days", "Long Term Sick"]),
    "sensitive_role": ("sensitive_role", True, ["Protected Role", "Sensitive Post", "Covert", "Restricted Post (Y/N)"]),
    "ni_number": ("ni_number", True, ["NI Number", "National Insurance No", "NINO", "NI No."]),
    "bank_account": ("bank_account", True, ["Bank Account", "Account Number", "Bank Acc No"]),
    "sort_code": (None, True, ["Sort Code"]),
    "gender": (None, True, ["Gender", "Sex"]),
    "ethnicity": (None, True, ["Ethnicity", "Ethnic Origin"]),
    "religion": (None, True, ["Religion/Belief", "Religion"]),
    "nationality": (None, True, ["Nationality"]),
    "marital_status": (None, True, ["Marital Status"]),
    "next_of_kin": (None, True, ["Next of Kin", "Emergency Contact Name"]),
    "start_date": (None, True, ["Start Date", "Date Joined", "Continuous Service Date"]),
    "date_reported": (None, True, ["Date Reported", "Reported On", "Created Date"]),
    "department": (None, False, ["Department", "Team", "Directorate", "Cost Centre"]),
    "status": (None, False, ["Status", "Case Status", "Outcome"]),
    "row_no": (None, False, ["Row", "S No", "Line"]),
}
# Header wording kept out of development: written once, before any measurement, and never used
# to tune the rules, so the benchmark can say how inspect does on wording it has not seen.
HELD_OUT: dict[str, list[str]] = {
    "case_ref": ["Log Number", "Reference No", "Job Ref"], "case_district": ["Incident Location (District)", "Offence LA"],
    "role": ["Involvement Type", "Person Role", "Capacity"], "full_name": ["Customer Name", "Officer Name", "Resident Name"],
    "first_name": ["First Names", "Forename(s)", "Given Names"], "last_name": ["Family Name", "Surname/Family Name", "Last"],
    "date_of_birth": ["Date Of Birth (dd/mm/yyyy)", "DoB", "Birth Dt"], "age": ["Age Now", "Current Age"],
    "address": ["Address 1", "House No/Street", "Street Address"], "address2": ["Addr Line 2", "Address (2)"],
    "town": ["Town Name", "Post Town"], "postcode": ["Post_Code", "Postcode (Home)", "ZIP"],
    "lat": ["Lat (WGS84)"], "lon": ["Lon (WGS84)"], "easting": ["Grid Easting"], "northing": ["Grid Northing"],
    "district": ["Council Area", "LAD Name", "Home Borough"], "phone": ["Mobile Tel", "Phone No", "Telephone Number"],
    "email": ["EmailAddr", "E Mail", "Work E-mail"], "markers": ["Warning Flags", "Vulnerability Markers"],
    "notes": ["Incident Narrative", "Officer Comments", "Notes/Comments"],
    "employee_id": ["Payroll Ref", "Employee ID", "Staff Number", "Warrant No"],
    "job_title": ["Job Role", "Post Held", "Job Name"], "salary_band": ["Pay Grade", "Salary Grade", "Band"],
    "sickness_absence": ["Sick Days (12m)", "Absence (Y/N)", "Currently Off Sick"],
    "sensitive_role": ["Protected Post", "Covert Role (Y/N)"], "ni_number": ["N.I. Number", "NI Num", "National Ins No"],
    "bank_account": ["Acct Number", "Bank A/C No"], "sort_code": ["Bank Sort Code"], "gender": ["Gender Identity", "M/F"],
    "ethnicity": ["Ethnic Group", "Ethnicity Code"], "religion": ["Faith", "Religious Belief"],
    "nationality": ["Country of Birth", "Nationality Code"], "marital_status": ["Marital Stat", "Civil Status"],
    "next_of_kin": ["NOK Name", "Emergency Contact"], "start_date": ["Service Start", "Hire Date", "Employment Start Date"],
    "date_reported": ["Report Date", "Date Logged", "Date Opened"], "department": ["Dept", "Business Unit", "Section"],
    "status": ["Current Status", "Stage"], "row_no": ["Row No", "Record"],
}
# Exports as systems shape them: the columns each kind of file carries.
TEMPLATES: list[list[str]] = [
    ["employee_id", "first_name", "last_name", "date_of_birth", "address", "town", "postcode", "job_title",
     "salary_band", "sickness_absence", "email"],
    ["employee_id", "full_name", "date_of_birth", "address", "address2", "postcode", "job_title", "salary_band",
     "ni_number", "gender", "start_date"],
    ["row_no", "employee_id", "last_name", "first_name", "department", "job_title", "sensitive_role", "phone",
     "email", "next_of_kin", "marital_status"],
    ["employee_id", "first_name", "last_name", "ni_number", "bank_account", "sort_code", "salary_band", "address",
     "town", "postcode"],
    ["case_ref", "date_reported", "case_district", "role", "first_name", "last_name", "date_of_birth", "address",
     "town", "postcode", "district", "phone", "markers", "notes"],
    ["case_ref", "role", "full_name", "age", "address", "postcode", "lat", "lon", "status", "notes"],
    ["case_ref", "full_name", "date_of_birth", "gender", "ethnicity", "address", "postcode", "easting", "northing",
     "phone", "markers"],
    ["first_name", "last_name", "date_of_birth", "address", "address2", "postcode", "email", "phone", "nationality",
     "religion"],
    ["employee_id", "full_name", "job_title", "department", "salary_band", "sickness_absence", "start_date",
     "ethnicity"],
    ["case_ref", "date_reported", "first_name", "last_name", "role", "address", "town", "postcode", "district",
     "case_district", "status"],
    ["full_name", "address", "town", "postcode", "phone", "email", "date_of_birth", "notes"],
    ["employee_id", "last_name", "first_name", "date_of_birth", "ni_number", "address", "postcode", "phone",
     "job_title", "sensitive_role", "marital_status"],
]
# (format, delimiter, encoding, title rows, casing, date format, name style)
SHAPES = [
    ("csv", ",", "utf-8", False, "as_is", "%d/%m/%Y", "plain"),
    ("csv", ";", "cp1252", False, "as_is", "%d.%m.%Y", "comma"),
    ("xlsx", None, None, False, "snake", "%Y-%m-%d", "plain"),
    ("csv", "\t", "utf-8", True, "upper", "%d-%b-%Y", "plain"),
    ("xlsx", None, None, True, "as_is", "%d/%m/%Y", "comma"),
    ("xlsx-multi", None, None, False, "camel", "%Y-%m-%d", "plain"),
    ("csv", ",", "utf-8", True, "lower", "%m/%d/%Y", "plain"),
    ("parquet", None, None, False, "snake", "%Y-%m-%d", "plain"),
]
# How each file's system cases names and addresses (FEBRL: lower; council systems: UPPER), by file
# index, so every seed holds each; keys whose values it applies to.
VALUE_CASINGS = ["as_is", "upper", "as_is", "lower"]
CASED_KEYS = {"first_name", "last_name", "full_name", "address", "address2", "town", "next_of_kin"}
DISTRICTS = ["Dacorum", "Watford BC", "St Albans City and District Council", "Broxbourne", "Stevenage",
             "Three Rivers DC", "Hertsmere", "Bedford", "Luton", "Cambridge City", "Fenland DC"]
CASE_ROLES = ["Victim", "Alleged Offender", "Witness", "Complainant", "Suspect", "Reporting Person"]
BANDS = ["Band A", "Band C", "Band F", "Grade 5", "SO1", "PO2", "Scale 6", "G7"]
MARKERS = ["Vulnerable adult", "Repeat victim", "Mental health", "Child in household", "Hate incident"]
DEPARTMENTS = ["Finance", "HR", "Estates", "Custody", "Contact Centre", "ICT", "Fleet"]
STATUSES = ["Open", "Closed", "Under review", "Referred"]
INWARD = "ABDEFGHJLNPQRSTUWXYZ"
NINO_FIRST, NINO_SECOND = "ABCEGHJKLMNOPRSTWXYZ", "ABCEGHJKLMNPRSTWXYZ"


@dataclass
class Labelled:
    """One table of the labelled set: where it is and what each header should map to."""

    path: Path
    sheet: str | None
    labels: dict[str, tuple[str | None, bool]] = field(default_factory=dict)  # header -> (field, personal)
    convention: str = ""


def _case(header: str, casing: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in header).split()
    if casing == "upper":
        return header.upper()
    if casing == "lower":
        return header.lower()
    if casing == "snake":
        return "_".join(w.lower() for w in words)
    if casing == "camel":
        return "".join(w[:1].upper() + w[1:] for w in words)
    return header


class _Values:
    def __init__(self, rng: random.Random, locale: str, date_format: str, name_style: str,
                 value_casing: str = "as_is") -> None:
        self.rng, self.date_format, self.name_style, self.value_casing = rng, date_format, name_style, value_casing
        self.fake = Faker(locale)
        self.fake.seed_instance(rng.randrange(1 << 30))
        self.uk = Faker("en_GB")
        self.uk.seed_instance(rng.randrange(1 << 30))
        self.prefix = rng.choice(["H", "B", "C", "E", ""])
        self.case_style = rng.randrange(3)
        self.flag_style = rng.choice([("Y", "N"), ("TRUE", "FALSE"), ("Yes", "No"), ("Y", "")])

    def date(self, lo_years: int, hi_years: int) -> str:
        day = date(2026, 10, 1) - timedelta(days=self.rng.randint(int(lo_years * 365.25), int(hi_years * 365.25)))
        return day.strftime(self.date_format)

    def postcode(self) -> str:
        outward = self.rng.choice(["AL1", "SG8", "HP2", "WD17", "MK41", "CB6", "PE15", "LU1", "EN6", "N8", "S62"])
        return f"{outward} {self.rng.randint(1, 9)}{self.rng.choice(INWARD)}{self.rng.choice(INWARD)}"

    def nino(self) -> str:
        text = f"{self.rng.choice(NINO_FIRST)}{self.rng.choice(NINO_SECOND)}{self.rng.randint(0, 999999):06d}" \
               f"{self.rng.choice('ABCD')}"
        return text if self.rng.random() < 0.5 else f"{text[:2]} {text[2:4]} {text[4:6]} {text[6:8]} {text[8]}"

    def value(self, key: str, person: dict) -> str:
        text = self._value(key, person)
        if key in CASED_KEYS and self.value_casing != "as_is":
            return text.upper() if self.value_casing == "upper" else text.lower()
        return text

    def _value(self, key: str, person: dict) -> str:
        r = self.rng
        if key == "case_ref":
            return person["case"]
        if key in {"first_name", "last_name"}:
            return person[key]
        if key == "full_name":
            if self.name_style == "comma":
                return f"{person['last_name'].upper()}, {person['first_name']}"
            return f"{person['first_name']} {person['last_name']}"
        gens: dict[str, Callable[[], str]] = {
            "case_district": lambda: r.choice(DISTRICTS), "district": lambda: r.choice(DISTRICTS),
            "role": lambda: r.choice(CASE_ROLES), "date_of_birth": lambda: self.date(17, 85),
            "age": lambda: str(r.randint(12, 90)) if r.random() < 0.9 else "",
            "address": lambda: self.uk.street_address().replace("\n", ", "),
            "address2": lambda: f"{r.choice(['Flat', 'Unit', 'Apartment'])} {r.randint(1, 40)}",
            "town": self.uk.city, "postcode": self.postcode,
            "lat": lambda: f"{r.uniform(50.5, 55.5):.6f}", "lon": lambda: f"{r.uniform(-4.5, 1.5):.6f}",
            "easting": lambda: str(r.randint(350_000, 560_000)), "northing": lambda: str(r.randint(150_000, 450_000)),
            "phone": self.uk.phone_number, "email": lambda: self.uk.email(),
            "markers": lambda: r.choice(MARKERS) if r.random() < 0.4 else "",
            "notes": lambda: self.uk.sentence(nb_words=r.randint(6, 14)),
            "employee_id": lambda: f"{self.prefix}{r.randint(100000, 999999)}",
            "job_title": self.uk.job, "salary_band": lambda: r.choice(BANDS),
            "sickness_absence": lambda: self.flag_style[0] if r.random() < 0.15 else self.flag_style[1],
            "sensitive_role": lambda: self.flag_style[0] if r.random() < 0.05 else self.flag_style[1],
            "ni_number": self.nino, "bank_account": lambda: f"{r.randint(10_000_000, 99_999_999)}",
            "sort_code": lambda: f"{r.randint(10, 99)}-{r.randint(10, 99)}-{r.randint(10, 99)}",
            "gender": lambda: r.choice(["Male", "Female", "M", "F", "Not stated"]),
            "ethnicity": lambda: r.choice(["White British", "Asian British", "Black British", "Mixed", "Not stated"]),
            "religion": lambda: r.choice(["Christian", "Muslim", "None", "Hindu", "Prefer not to say"]),
            "nationality": lambda: r.choice(["British", "Irish", "Polish", "Indian"]),
            "marital_status": lambda: r.choice(["Married", "Single", "Divorced", "Civil Partnership"]),
            "next_of_kin": self.uk.name, "start_date": lambda: self.date(0, 30),
            "date_reported": lambda: self.date(0, 2), "department": lambda: r.choice(DEPARTMENTS),
            "status": lambda: r.choice(STATUSES), "row_no": lambda: str(person["row"]),
        }
        return gens[key]()

    def person(self, row: int, case: str) -> dict:
        return {"row": row, "case": case, "first_name": self.fake.first_name(), "last_name": self.fake.last_name()}

    def case_ref(self, n: int) -> str:
        return [f"ASB/{26 - n % 3:02d}/{n:04d}", f"CR-{100000 + n * 7}", f"INC{2026}{n:05d}"][self.case_style]


def _rows(values: _Values, keys: list[str], count: int) -> list[list[str]]:
    rows, case_n = [], 1
    for i in range(count):
        if values.rng.random() < 0.45:
            case_n += 1
        person = values.person(i + 1, values.case_ref(case_n))
        rows.append([values.value(k, person) for k in keys])
    return rows


def _headers(rng: random.Random, keys: list[str], casing: str, held_out: bool = False) -> list[str]:
    headers, seen = [], set()
    for key in keys:
        options = [h for h in (HELD_OUT[key] if held_out else KEYS[key][2]) if _case(h, casing) not in seen]
        header = _case(rng.choice(options), casing)
        seen.add(header)
        headers.append(header)
    return headers


def write_corpus(folder: Path, files: int = 24, seed: int = SEED, held_out: bool = False) -> list[Labelled]:
    """Write ``files`` labelled export files into ``folder``; the same seed writes the same files.
    ``held_out`` takes header wording from ``HELD_OUT`` (never used to tune the rules)."""
    import openpyxl
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not security
    out: list[Labelled] = []
    for i in range(files):
        keys = TEMPLATES[i % len(TEMPLATES)]
        fmt, delim, enc, title, casing, date_format, name_style = SHAPES[i % len(SHAPES)]
        locales = LOCALES_CP1252 if enc == "cp1252" else LOCALES_UTF8
        locale = locales[(i // len(SHAPES)) % len(locales)]
        value_casing = VALUE_CASINGS[(i + i // len(SHAPES)) % len(VALUE_CASINGS)]
        values = _Values(random.Random(rng.randrange(1 << 30)), locale, date_format, name_style,  # noqa: S311
                         value_casing)
        headers = _headers(rng, keys, casing, held_out)
        rows = _rows(values, keys, rng.randint(40, 260))
        labels = {h: KEYS[k][:2] for h, k in zip(headers, keys, strict=True)}
        convention = f"{fmt} {locale} {casing} headers, {value_casing} values" + (" title rows" if title else "")
        stem = f"export_{i:02d}"
        if fmt == "csv":
            path = folder / f"{stem}.csv"
            with path.open("w", encoding=enc or "utf-8", newline="", errors="replace") as fh:
                if title:
                    fh.write(f"Extract run {date(2026, 10, 1).isoformat()}{delim}\n{delim}\n")
                w = csv.writer(fh, delimiter=delim or ",")
                w.writerow(headers)
                w.writerows(rows)
            out.append(Labelled(path, None, labels, convention))
        elif fmt == "parquet":
            path = folder / f"{stem}.parquet"
            pq.write_table(pa.table({h: [r[j] for r in rows] for j, h in enumerate(headers)}), path)
            out.append(Labelled(path, None, labels, convention))
        else:
            path = folder / f"{stem}.xlsx"
            book = openpyxl.Workbook()
            ws = book.active
            ws.title = "Export"
            if title:
                ws.append(["Staff and case extract (OFFICIAL-SENSITIVE)"])
                ws.append([])
            ws.append(headers)
            for r in rows:
                ws.append(r)
            out.append(Labelled(path, "Export", labels, convention))
            if fmt == "xlsx-multi":  # a second, hidden sheet of people (the PSNI case) and a lookup
                keys2 = TEMPLATES[(i + 5) % len(TEMPLATES)]
                headers2 = _headers(rng, keys2, "as_is", held_out)
                hidden = book.create_sheet("Sheet2")
                hidden.sheet_state = "hidden"
                hidden.append(headers2)
                for r in _rows(values, keys2, rng.randint(20, 80)):
                    hidden.append(r)
                out.append(Labelled(path, "Sheet2", {h: KEYS[k][:2] for h, k in zip(headers2, keys2, strict=True)},
                                    convention + " hidden sheet"))
                lookup = book.create_sheet("Lookups")
                lookup.sheet_state = "hidden"
                lookup.append(["Code", "Description"])
                for code, text in enumerate(DEPARTMENTS):
                    lookup.append([str(code), text])
                out.append(Labelled(path, "Lookups", {"Code": (None, False), "Description": (None, False)},
                                    "lookup sheet"))
            book.save(path)
    return out


@dataclass
class Score:
    """Column-level results of inspect against the labels."""

    columns: int = 0
    correct: int = 0  # proposed field equals the label (None for None included)
    proposed: int = 0  # columns inspect mapped to a field
    proposed_right: int = 0
    expected: int = 0  # columns labelled with a field
    sure: int = 0  # mapped without a "# check"
    sure_wrong: int = 0
    personal_unflagged: list[str] = field(default_factory=list)  # personal columns unmapped without a reason
    mistakes: list[str] = field(default_factory=list)  # "file/sheet/header: expected X, got Y"

    @property
    def accuracy(self) -> float:
        return self.correct / self.columns if self.columns else 0.0

    @property
    def precision(self) -> float:
        return self.proposed_right / self.proposed if self.proposed else 0.0

    @property
    def recall(self) -> float:
        return self.proposed_right / self.expected if self.expected else 0.0


def evaluate(labelled: list[Labelled]) -> Score:
    """Run inspect over the labelled files and score every column."""
    from riskkit.inspect.inventory import inspect_paths

    paths = sorted({item.path for item in labelled})
    reports, _ = inspect_paths(paths)
    found = {(r.sheet.path, r.sheet.name if r.sheet.sheets_in_file > 1 or r.sheet.path.suffix == ".xlsx" else None): r
             for r in reports}
    score = Score()
    for item in labelled:
        report = found.get((item.path, item.sheet))
        guesses = {g.header: g for g in report.guesses} if report else {}
        for header, (want, personal) in item.labels.items():
            g = guesses.get(header)
            got = g.field if g else None
            score.columns += 1
            score.correct += got == want
            score.expected += want is not None
            if got is not None:
                score.proposed += 1
                score.proposed_right += got == want
                if g is not None and g.sure:
                    score.sure += 1
                    score.sure_wrong += got != want
            if personal and got is None and not (g is not None and g.reason and g.personal):
                score.personal_unflagged.append(f"{item.path.name}/{item.sheet or '-'}/{header}")
            if got != want:
                score.mistakes.append(f"{item.path.name}/{item.sheet or '-'}/{header}: expected {want}, got {got}")
    return score


def load_labels(path: Path, root: Path) -> dict[str, list[Labelled]]:
    """Hand-labelled tables (a YAML list of ``{set, path, sheet, columns: {header: [field, personal]}}``,
    paths relative to ``root``), grouped by set: files the project did not generate, scored
    apart from the generated corpus so a rule tuned to the generator's habits shows up."""
    import yaml

    from riskkit.incident import CANONICAL_FIELDS

    sets: dict[str, list[Labelled]] = {}
    for i, entry in enumerate(yaml.safe_load(path.read_text(encoding="utf-8")), start=1):
        try:
            labels = {str(h): (f, bool(p)) for h, (f, p) in entry["columns"].items()}
            item = Labelled(root / entry["path"], entry.get("sheet"), labels, entry["set"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: entry {i}: expected set, path, sheet and columns of [field, personal] "
                             f"({type(exc).__name__}); fix that entry.") from None
        unknown = {f for f, _ in labels.values() if f is not None} - set(CANONICAL_FIELDS)
        if unknown:
            raise ValueError(f"{path}: entry {i}: unknown canonical field(s) {sorted(unknown)}; fix that entry.")
        sets.setdefault(item.convention, []).append(item)
    return sets
