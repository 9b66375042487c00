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
    "sensitive_role", "ni_number", "bank_account",
)

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


class Exposure(_Strict):
    channel: Literal["public_web", "email", "file_transfer", "lost_device", "post", "other"]
    recipients: Literal["trusted_contract", "known", "unknown", "public"]
    duration_hours: float = Field(ge=0)
    evidence_of_access: Literal["none", "low_views", "accessed", "misused"] = "none"
    page_views: int | None = Field(default=None, ge=0)
    malicious: bool = False
    integrity_loss: Literal["none", "recoverable", "not_recoverable"] = "none"
    availability_loss: Literal["none", "temporary", "permanent"] = "none"
    description: str = ""


class Containment(_Strict):
    removed: bool = False
    deletion_confirmed: bool = False
    description: str = ""


class ExtractFile(_Strict):
    path: Path
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    columns: dict[str, str]

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 1:
            raise ValueError("a delimiter is one character, such as ',' ';' '|' or a tab; omit it to detect it")
        return value

    @field_validator("columns")
    @classmethod
    def _canonical(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(CANONICAL_FIELDS))
        if unknown:
            raise ValueError(f"unknown canonical field(s) {unknown}; known: {', '.join(CANONICAL_FIELDS)}")
        names = {"full_name", "first_name", "last_name"} & set(value)
        if not names:
            raise ValueError("map at least one of full_name, first_name, last_name")
        return value


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
    timestamps: Timestamps
    exposure: Exposure
    containment: Containment = Containment()
    model: Path | None = None
    boundaries: Boundaries | None = None
    postcode_lookup: PostcodeLookup | None = None
    files: list[ExtractFile] = Field(min_length=1)
    overrides: list[Override] = Field(default_factory=list)
    source: Path | None = Field(default=None, exclude=True)

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


def load_incident(path: str | Path) -> Incident:
    """Read and validate an incident file; every problem is reported with its key path."""
    path = Path(path)
    incident = load_validated(path, Incident, IncidentError, "the incident file")
    incident.source = path.resolve()
    return incident
