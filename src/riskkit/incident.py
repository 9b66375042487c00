"""The incident file: what happened, when, to whom it was exposed, and where the extract is.

Validated with pydantic so that every problem is reported with its key path before any
extract is read; an analyst fixing a file at 2 a.m. should see all the mistakes at once.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from riskkit.errors import IncidentError
from riskkit.yamlio import load_validated

CANONICAL_FIELDS = (
    "case_ref", "case_district", "role", "full_name", "first_name", "last_name", "date_of_birth",
    "age", "address", "town", "postcode", "lon", "lat", "easting", "northing", "district", "phone",
    "email", "markers", "notes", "employee_id", "job_title", "salary_band", "sickness_absence",
    "sensitive_role", "ni_number", "bank_account", "controller",
)

# What ``riskkit inspect`` writes for facts only the analyst knows; refused wherever it is left.
PLACEHOLDER = "FILL_ME"

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


SubjectCategory = Literal["employees", "customers", "users", "subscribers", "students", "patients", "children",
                          "vulnerable_adults", "victims", "witnesses", "suspects", "offenders", "other"]


class Regime(StrEnum):
    uk_gdpr = "uk_gdpr"
    dpa2018_part3 = "dpa2018_part3"


class Timestamps(_Strict):
    occurred: datetime | None = None
    became_aware: datetime
    contained: datetime | None = None

    @field_validator("occurred", "became_aware", "contained")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a time zone, e.g. 2026-10-09T10:30:00+01:00")
        return value

    @model_validator(mode="after")
    def _order(self) -> Timestamps:
        if self.occurred and self.occurred > self.became_aware:
            raise ValueError("occurred is later than became_aware")
        if self.contained and self.occurred and self.contained < self.occurred:
            raise ValueError("contained is earlier than occurred")
        return self


class Encryption(_Strict):
    """Whether the exposed copy was unintelligible (EDPB 01/2021's first question for a lost device)."""

    state_of_the_art: bool = False
    key_compromised: bool = False

    @property
    def unintelligible(self) -> bool:
        return self.state_of_the_art and not self.key_compromised


Duration = float | Literal["unknown", "ongoing"]


class Exposure(_Strict):
    channel: Literal["public_web", "email", "file_transfer", "lost_device", "stolen_device", "paper",
                     "post", "cyber_attack", "other"]
    # "none": nobody outside the controller saw the data (e.g. ransomware without exfiltration).
    recipients: Literal["none", "trusted_contract", "known", "unknown", "public"]
    # How long the data were exposed (or unavailable); unknown and ongoing are scored as long.
    duration_hours: Duration = "unknown"
    # unknown is the usual state in the first 72 hours and is scored as "possible".
    evidence_of_access: Literal["unknown", "none", "low_views", "accessed", "misused"] = "unknown"
    recipients_count: int | None = Field(default=None, ge=0)
    encrypted: Encryption | None = None
    page_views: int | None = Field(default=None, ge=0)

    @field_validator("duration_hours")
    @classmethod
    def _duration(cls, value: Duration) -> Duration:
        if not isinstance(value, str) and value < 0:
            raise ValueError("must be 0 or more hours, or 'unknown' or 'ongoing'")
        return value
    malicious: bool = False
    integrity_loss: Literal["none", "recoverable", "not_recoverable"] = "none"
    availability_loss: Literal["none", "temporary", "permanent"] = "none"
    description: str = ""


class Containment(_Strict):
    removed: bool = False
    deletion_confirmed: bool = False
    description: str = ""


IDENTIFYING_FIELDS = ("full_name", "first_name", "last_name", "address", "email", "phone", "ni_number",
                      "employee_id")


def _check_columns(value: dict[str, str], where: str) -> None:
    unknown = sorted(set(value) - set(CANONICAL_FIELDS))
    if unknown:
        raise ValueError(f"{where}unknown canonical field(s) {unknown}; known: {', '.join(CANONICAL_FIELDS)}")
    if not set(IDENTIFYING_FIELDS) & set(value):
        raise ValueError(f"{where}map at least one identifying field ({', '.join(IDENTIFYING_FIELDS)})")


class CategoryUse(_Strict):
    """A column's data category with a case-specific ENISA adjustment (every adjustment needs a reason)."""

    category: str
    adjust: int = Field(default=0, ge=-3, le=3)
    reason: str = ""

    @model_validator(mode="after")
    def _reason(self) -> CategoryUse:
        if self.adjust and len(self.reason) < 3:
            raise ValueError("every adjustment needs a written reason")
        return self


class ExtractFile(_Strict):
    """One extract file. A workbook's every non-empty sheet (hidden ones too) is part of the
    extract: ``sheet`` names the only one with data, ``sheets: all`` reads every sheet with
    ``columns``, ``sheets: {name: {columns}}`` maps each, and ``exclude_sheets`` names the
    sheets that hold no people, each with the reason."""

    path: Path
    sheet: str | None = None
    sheets: Literal["all"] | dict[str, dict[str, str]] | None = None
    exclude_sheets: dict[str, str] = Field(default_factory=dict)
    header_row: int | None = Field(default=None, ge=1, le=1000)
    encoding: str | None = None
    delimiter: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    # Extra columns and what they expose, e.g. {"Medical notes": health}, or with an ENISA
    # adjustment: {"Food preference": {category: health, adjust: -3, reason: "..."}}.
    categories: dict[str, str | CategoryUse] = Field(default_factory=dict)
    # Headers deliberately not mapped, each with the reason (``riskkit inspect`` drafts them).
    unmapped: dict[str, str] = Field(default_factory=dict)
    # The controller of every record in this file whose ``controller`` column is empty or absent.
    controller: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 1:
            raise ValueError("a delimiter is one character, such as ',' ';' '|' or a tab; omit it to detect it")
        return value

    @field_validator("columns")
    @classmethod
    def _canonical(cls, value: dict[str, str]) -> dict[str, str]:
        if value:
            _check_columns(value, "")
        return value

    @field_validator("exclude_sheets")
    @classmethod
    def _reasons(cls, value: dict[str, str]) -> dict[str, str]:
        short = [name for name, why in value.items() if len(str(why).strip()) < 3]
        if short:
            raise ValueError(f"give a reason for excluding sheet(s) {short}, e.g. 'reference table, no people'")
        return value

    @model_validator(mode="after")
    def _mapping(self) -> ExtractFile:
        if self.sheets is not None and self.sheet is not None:
            raise ValueError("use either 'sheet' or 'sheets', not both")
        if isinstance(self.sheets, dict):
            for name, cols in self.sheets.items():
                _check_columns(cols, f"sheet '{name}': ")
            if self.columns:
                raise ValueError("with one 'columns' block per sheet under 'sheets', leave 'columns' out")
        elif not self.columns:
            raise ValueError("'columns' is missing: map at least one identifying field "
                             f"({', '.join(IDENTIFYING_FIELDS)})")
        both = set(self.exclude_sheets) & ({self.sheet} | set(self.sheets if isinstance(self.sheets, dict) else {}))
        if both:
            raise ValueError(f"sheet(s) {sorted(both)} both mapped and excluded")
        return self

    def columns_for(self, sheet: str | None) -> dict[str, str]:
        """The mapping for one sheet (the file's ``columns`` unless mapped per sheet)."""
        if isinstance(self.sheets, dict) and sheet is not None:
            return self.sheets[sheet]
        return self.columns

    @property
    def all_columns(self) -> set[str]:
        """Every canonical field this file maps, on any sheet."""
        if isinstance(self.sheets, dict):
            return {c for cols in self.sheets.values() for c in cols}
        return set(self.columns)


class Controller(_Strict):
    """One controller with its own duty to notify: named as in the files' ``controller`` column
    (or ``values`` lists the spellings used there), with its regime and who to contact."""

    name: str = Field(min_length=1, max_length=200)
    regime: Regime | None = None  # default: the incident's
    contact: str = ""  # the DPO's office, for the ICO form only (never the briefing or summary)
    values: list[str] = Field(default_factory=list)


class Boundaries(_Strict):
    path: Path
    code_column: str = "lad_code"
    name_column: str | None = "district"
    schematic: bool = False


class PostcodeLookup(_Strict):
    path: Path
    postcode_column: str = "pcds"
    code_column: str = "lad"


class Override(_Strict):
    case_ref: str
    accessed: bool = False
    extra_cb: float = Field(default=0.0, ge=0, le=1)
    reason: str = Field(min_length=3)


class Incident(_Strict):
    id: str
    title: str
    controller: str
    regime: Regime
    protective_marking: str = "OFFICIAL-SENSITIVE"
    summary: str = ""
    subject_noun: str = "people"
    case_noun: str = "cases"
    data_context: list[str] = Field(default_factory=list)
    threat_context: list[str] = Field(default_factory=list)
    subject_categories: list[SubjectCategory] = Field(default_factory=list)
    timestamps: Timestamps
    exposure: Exposure
    containment: Containment = Containment()
    model: Path | None = None
    boundaries: Boundaries | None = None
    postcode_lookup: PostcodeLookup | None = None
    files: list[ExtractFile] = Field(min_length=1)
    overrides: list[Override] = Field(default_factory=list)
    # Several controllers in one incident (see riskkit.controllers); empty: ``controller`` alone.
    controllers: list[Controller] = Field(default_factory=list)
    source: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _no_placeholders(cls, data: object) -> object:
        left = _placeholders(data)
        if left:
            raise ValueError(f"{PLACEHOLDER} left at {', '.join(left)}: fill in these facts (the draft from "
                             "'riskkit inspect' leaves them for you)")
        return data

    @model_validator(mode="after")
    def _controllers(self) -> Incident:
        names = [c.name.casefold() for c in self.controllers]
        if len(set(names)) != len(names):
            raise ValueError("controllers: each name once (list other spellings under 'values')")
        known = {v.casefold() for c in self.controllers for v in (c.name, *c.values)}
        for i, spec in enumerate(self.files):
            if spec.controller and self.controllers and spec.controller.casefold() not in known:
                raise ValueError(f"files.{i}.controller is not one of the controllers listed under 'controllers'")
        return self

    @field_validator("id")
    @classmethod
    def _safe_id(cls, value: str) -> str:
        if not SAFE_ID.match(value) or ".." in value:
            raise ValueError("use letters, digits, '.', '_' and '-' only (no '..', no slashes), "
                             "at most 80 characters")
        return value

    @property
    def folder(self) -> Path:
        return self.source.parent if self.source else Path.cwd()

    def resolve(self, path: Path) -> Path:
        """Paths in the incident file are relative to the file itself."""
        return path if path.is_absolute() else (self.folder / path).resolve()


def _placeholders(data: object, where: str = "") -> list[str]:
    """Key paths whose value is still the placeholder."""
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in _placeholders(v, f"{where}.{k}" if where else str(k))]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in _placeholders(v, f"{where}.{i}")]
    return [where or "(top level)"] if isinstance(data, str) and data.strip() == PLACEHOLDER else []


def load_incident(path: str | Path) -> Incident:
    """Read and validate an incident file; every problem is reported with its key path."""
    path = Path(path)
    incident = load_validated(path, Incident, IncidentError, "the incident file")
    incident.source = path.resolve()
    return incident
