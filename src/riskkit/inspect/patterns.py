"""What a column's values look like: the share of non-empty values matching each pattern.

Only counts leave this module (``Profile``): which patterns matched and how often, never a
value, so the terminal table and the draft can show evidence without showing personal data.
Phone numbers are checked by ``phonenumbers`` (Google's libphonenumber metadata for the UK
numbering plan, including the Ofcom drama ranges that synthetic data uses); the other shapes
are short regular expressions over well-defined formats (postcode, NI number, email, ONS
codes), where a library would add nothing a test does not already pin down.

No pattern depends on how the exporting tool cased its values: FEBRL writes names in lower
case, council systems in UPPER CASE, HR systems in Title Case, and a name is a name in each.
Dates stored as ``yyyymmdd`` numbers (FEBRL, many mainframe exports) count as dates, and
postcodes in other countries' formats are counted apart (``postcode_other``) so a foreign
postcode column is named as such rather than left as "numbers".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import phonenumbers

POSTCODE = re.compile(r"^(GIR ?0AA|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})$", re.IGNORECASE)
# HMRC format: two prefix letters (D, F, I, Q, U, V never used), six digits, suffix A-D.
NINO = re.compile(r"^(?!BG|GB|KN|NK|NT|TN)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]$", re.IGNORECASE)
EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
ONS_CODE = re.compile(r"^[EWSN]\d{8}$")
CASE_REF = re.compile(r"^[A-Z]{0,6}\d{0,8}([/\-][A-Z0-9]{1,8}){1,4}$", re.IGNORECASE)
PAYROLL = re.compile(r"^[A-Z]{0,3}-?\d{4,10}$", re.IGNORECASE)
BAND = re.compile(r"^((band|grade|scale|pay ?band|spine( point)?|sp|pb|sco|po)\s*)?[A-Z]?\d{0,2}[A-Z]?$", re.IGNORECASE)
SORT_ACCOUNT = re.compile(r"^(\d{2}-\d{2}-\d{2}\s*)?\d{8}$")
# Names in any alphabet: a "word" is letters (Unicode), apostrophes and hyphens, starting upper-case.
_WORD = r"[^\W\d_][^\W\d_'’\-]*(?:['’\-][^\W\d_]+)*"
NAME_COMMA = re.compile(rf"^{_WORD}(?: {_WORD})*, ?{_WORD}(?: {_WORD})*$")
NAME_WORDS = re.compile(rf"^(?:(?:Mr|Mrs|Ms|Miss|Dr)\.? )?{_WORD}(?: {_WORD}){{0,3}}$", re.IGNORECASE)
# Other countries' postcode shapes (Australia and most of Europe: 4 digits; US/DE/FR: 5, ZIP+4;
# NL "1234 AB"; Canada "K1A 0B1"; Sweden/Czechia "123 45"; Poland "12-345"; Japan "123-4567";
# Ireland's Eircode "D02 X285"; India/China 6 digits). Only ever read beside a postcode header.
POSTCODE_OTHER = re.compile(r"^(\d{4}|\d{5}(-\d{4})?|\d{4} ?[A-Z]{2}|[A-Z]\d[A-Z] ?\d[A-Z]\d|\d{3} \d{2}|\d{2}-\d{3}|"
                            r"\d{3}-\d{4}|[AC-FHKNPRTV-Y]\d{2}[0-9W]? ?[AC-FHKNPRTV-Y0-9]{4}|\d{6})$", re.IGNORECASE)
# An identity number of any country: digits (6 to 14, spaces or dashes allowed), at most two
# letters before and one after. Read beside a national-id header only.
ID_NUMBER = re.compile(r"^[A-Z]{0,2}\d[\d \-]{4,16}\d[A-Z]?$", re.IGNORECASE)
ADDRESS = re.compile(r"^((flat|studio|apartment|apt|unit|room|suite|house)\s+\d+[a-z]?,?\s+)?(\d+[a-z]?(-\d+)?,?\s+)?"
                     r"[^\W\d_][\w'’\- ,.]+$|"
                     r"\b(road|street|lane|avenue|close|drive|way|court|place|gardens|crescent|terrace)\b", re.IGNORECASE)
HONORIFICS = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "rev", "sir", "dame", "lady", "lord", "master", "fr",
              "revd", "herr", "frau", "mme", "mlle", "m"}
# Words in the names of organisations that can be controllers (not departments or teams).
ORG_WORDS = re.compile(r"\b(police|constabulary|force|council|borough|county|trust|nhs|ltd|limited|plc|llp|"
                       r"university|college|authority|commission|agency|ministry|foundation|charity|hospital|"
                       r"academy|company|inc|gmbh|service of|fire and rescue)\b", re.IGNORECASE)
# Street types of the UK and of other English-speaking countries (FEBRL's Australian "cove",
# "circuit", "parade"): a value with one and no digit is still a street address.
STREET_WORDS = re.compile(r"\b(road|rd|street|st|lane|ln|avenue|ave|close|drive|dr|way|court|ct|place|pl|crescent|"
                          r"cres|terrace|tce|grove|gardens|walk|row|square|sq|hill|rise|mews|parade|circuit|cove|"
                          r"highway|hwy|boulevard|esplanade|loop|vale|wharf|green|view|park|broadway)$")
FLAG_VALUES = {"y", "n", "yes", "no", "true", "false", "t", "f", "0", "1", "x", "✓"}
CASE_ROLES = {"victim", "offender", "alleged offender", "suspect", "witness", "complainant", "perpetrator",
              "alleged perpetrator", "reporting person", "caller", "complainant/victim", "informant", "subject",
              "respondent", "aggrieved", "accused", "injured party"}
DATE_FORMATS = (  # (regex, order) for numeric dates; order names the position of day, month, year
    (re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(:\d{2})?)?$"), "ymd"),
    (re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?: \d{1,2}:\d{2}(:\d{2})?)?$"), "?"),
    (re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2})$"), "?"),
    (re.compile(r"^(1[89]\d{2}|20\d{2})(\d{2})(\d{2})$"), "ymd"),  # yyyymmdd stored as a number
)
MONTH_DATE = re.compile(r"^(\d{1,2})[ -]([A-Za-z]{3,9})[ -](\d{2,4})$")
MONTHS = {m: i for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                       "nov", "dec"], start=1)}


@dataclass
class Profile:
    """Counts and shares only: safe to print."""

    values: int = 0  # non-empty values looked at
    empty: int = 0
    distinct: int = 0
    share: dict[str, float] = field(default_factory=dict)  # pattern -> share of non-empty values
    date_order: str | None = None  # "dmy", "mdy", "ymd" or "ambiguous"
    median_year: int | None = None
    mean_length: float = 0.0
    mean_words: float = 0.0
    max_repeat: int = 0  # how often the most frequent value occurs

    @property
    def distinct_ratio(self) -> float:
        return self.distinct / self.values if self.values else 0.0


def _phone(value: str) -> bool:
    digits = re.sub(r"\D", "", value)
    if not 10 <= len(digits) <= 13 or re.search(r"[A-Za-z]", value):
        return False
    if not (value.lstrip("( ").startswith(("0", "+44"))):
        return False
    try:
        number = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException:
        return False
    return number.country_code == 44 and phonenumbers.is_possible_number(number) and \
        len(str(number.national_number)) in (9, 10)


def _one_casing(value: str) -> bool:
    """Words cased the way one tool writes names: all Capitalised ("Ann O'Brien"), all UPPER
    ("ANN O'BRIEN") or all lower ("ann o'brien"). A sentence-cased phrase ("Moved out") is
    not a name; beyond that casing cannot tell a name from a phrase: the header decides."""
    words = value.split()
    return all(w[0].isupper() for w in words) or value.islower() or value.isupper()


def _date(value: str) -> tuple[str, int, int, int] | None:
    """(order, first, second, year) for a date-shaped value, else None."""
    for pattern, order in DATE_FORMATS:
        m = pattern.match(value)
        if m:
            a, b, c = (int(g) for g in m.groups()[:3])
            if order == "ymd":
                return ("ymd", c, b, a) if 1 <= b <= 12 and 1 <= c <= 31 else None
            if a > 31 or b > 31 or (a > 12 and b > 12) or 0 in (a, b):
                return None
            year = c + (1900 if c > 30 else 2000) if c < 100 else c
            return ("?", a, b, year)
    m = MONTH_DATE.match(value)
    if m and m.group(2)[:3].lower() in MONTHS:
        year = int(m.group(3))
        return ("dmy", int(m.group(1)), MONTHS[m.group(2)[:3].lower()], year + (1900 if year < 100 and year > 30 else 0))
    return None


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def profile(values: list[str], known_places: set[str] | None = None) -> Profile:
    """Count which patterns the non-empty values match; ``known_places`` are lower-cased town
    and district names (the package's reference lists) for place-name evidence."""
    vals = [v for v in (x.strip() for x in values) if v]
    p = Profile(values=len(vals), empty=len(values) - len(vals))
    if not vals:
        return p
    counts: dict[str, int] = {}
    freq: dict[str, int] = {}
    for v in vals:
        freq[v] = freq.get(v, 0) + 1
    p.distinct, p.max_repeat = len(freq), max(freq.values())
    p.mean_length = sum(len(v) for v in vals) / len(vals)
    p.mean_words = sum(len(v.split()) for v in vals) / len(vals)
    firsts: list[int] = []
    seconds: list[int] = []
    years: list[int] = []
    orders: set[str] = set()
    numbers: list[float] = []

    def hit(name: str, n: int = 1) -> None:
        counts[name] = counts.get(name, 0) + n

    for v, n in freq.items():  # each distinct value checked once, weighted by its count
        low = v.lower()
        digits = sum(c.isdigit() for c in v)
        if POSTCODE.match(v):
            hit("postcode", n)
        elif digits and POSTCODE_OTHER.match(v):
            hit("postcode_other", n)
        if digits >= 6 and ID_NUMBER.match(v):
            hit("id_number", n)
        if NINO.match(v):
            hit("ni_number", n)
        if EMAIL.match(v):
            hit("email", n)
        if ONS_CODE.match(v):
            hit("ons_code", n)
        if low in FLAG_VALUES:
            hit("flag", n)
        if low.rstrip(".") in HONORIFICS:
            hit("honorific", n)
        if ORG_WORDS.search(v):
            hit("org_name", n)
        if low in CASE_ROLES or any(r in low for r in ("victim", "offender", "perpetrator", "witness", "suspect")):
            hit("case_role", n)
        if known_places and (low in known_places or low.rsplit(" ", 1)[0] in known_places
                             or re.sub(r"\s+(borough|district|city)?\s*(council|bc|dc|cc)$", "", low) in known_places):
            hit("place", n)
        if _phone(v):
            hit("phone", n)
        d = _date(v)
        if d:
            hit("date", n)
            if v.isdigit():
                hit("compact_date", n)
            order, a, b, year = d
            orders.add(order)
            firsts.append(a)
            seconds.append(b)
            years.extend([year] * n)
        num = _number(v)
        if num is not None:
            hit("number", n)
            numbers.extend([num] * n)
            if num.is_integer() and 0 <= num <= 110:
                hit("age", n)
        if CASE_REF.match(v) and re.search(r"\d", v) and re.search(r"[/\-]", v) and not d:
            hit("case_ref", n)
        if PAYROLL.match(v) and not d:
            hit("payroll_id", n)
        if BAND.match(v) and not d and len(v) <= 12 and (num is None or num < 100):
            hit("band", n)
        if SORT_ACCOUNT.match(v):
            hit("bank_account", n)
        # "SURNAME, Forename", or a system that cases everything one way ("smith, ann"); Title
        # Case "Watford, Hertfordshire" is a place as often as a name, so it is left out; more
        # than five words is a phrase ("CALLED RE CHANGE OF ADDRESS, EVIDENCE REQUESTED")
        if len(v.split()) <= 5 and NAME_COMMA.match(v) and (v.split(",")[0].isupper() or v.islower()):
            hit("name_comma", n)
        if NAME_WORDS.match(v) and _one_casing(v):
            words = len(v.split())
            hit("single_word_name" if words == 1 else "multi_word_name", n)
            if words <= 3:
                hit("name_like", n)
        if not d and len(v.split()) >= 2 and ADDRESS.search(v) and \
                (re.search(r"\d", v) or STREET_WORDS.search(low)):
            hit("address", n)
        if re.search(r"\d", v):
            hit("has_digit", n)
        if len(v) >= 25 and len(v.split()) >= 4:
            hit("free_text", n)
    if numbers:
        inside = sum(49.5 <= x <= 61 for x in numbers)
        if inside:
            hit("lat", inside)
        lon = sum(-8.7 <= x <= 2 and not x.is_integer() for x in numbers)
        if lon:
            hit("lon", lon)
        east = sum(x.is_integer() and 80_000 <= x <= 700_000 for x in numbers)
        if east:
            hit("easting", east)
        north = sum(x.is_integer() and 5_000 <= x <= 1_250_000 and x >= 100_000 for x in numbers)
        if north:
            hit("northing", north)
    if years:
        years.sort()
        p.median_year = years[len(years) // 2]
        if orders == {"ymd"}:
            p.date_order = "ymd"
        elif any(a > 12 for a in firsts) and not any(b > 12 for b in seconds):
            p.date_order = "dmy"
        elif any(b > 12 for b in seconds) and not any(a > 12 for a in firsts):
            p.date_order = "mdy"
        elif "dmy" in orders and "?" not in orders:
            p.date_order = "dmy"
        else:
            p.date_order = "ambiguous"
    p.share = {k: v / p.values for k, v in counts.items()}
    return p


def age_years(median_year: int | None, today: date | None = None) -> int | None:
    """How many years before ``today`` the median date lies (dates of birth lie 16+ years back)."""
    if median_year is None:
        return None
    return (today or date.today()).year - median_year
