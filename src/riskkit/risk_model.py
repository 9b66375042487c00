"""The risk model file: its schema, loading, and the checks an incident must pass against it.

Kept apart from the scoring (``riskkit.risk``) so that the CLI can validate an incident's
data_context, threat_context and column categories against the model before any notebook
starts, without importing the scoring stack.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from riskkit.errors import IncidentError, ModelError
from riskkit.incident import Incident
from riskkit.paths import DEFAULT_MODEL
from riskkit.yamlio import load_validated

BANDS = ("Low", "Medium", "High", "Very high")
Band = Literal["Low", "Medium", "High", "Very high"]
Category = Literal["simple", "behavioural", "financial", "sensitive"]
Identifier = Literal["name", "address", "postcode", "date_of_birth", "email", "phone",
                     "national_id", "reference_number", "role", "workplace", "account"]
# The ICO breach report form's list of data categories (late 2026).
IcoCategory = Literal["basic personal identifiers", "identification data", "economic or financial data",
                      "official documents", "location data", "health data", "criminal convictions or offences",
                      "special category data", "genetic or biometric data", "gender reassignment data",
                      "not yet known", "other"]
ICO_CATEGORIES: tuple[str, ...] = IcoCategory.__args__  # type: ignore[attr-defined]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldRule(_Strict):
    """What one canonical field or data category exposes, in ENISA's terms."""

    category: Category
    adjust: int = Field(default=0, ge=-3, le=3)
    reason: str = ""
    identifier: Identifier | None = None
    ico: IcoCategory = "basic personal identifiers"

    @model_validator(mode="after")
    def _reason(self) -> FieldRule:
        if self.adjust and not self.reason:
            raise ValueError("every adjustment needs a written reason")
        return self


class Factor(_Strict):
    adjust: int = Field(ge=0, le=3)
    reason: str = Field(min_length=3)
    # What the data were, in a chief officer's words ("a police anti-social behaviour case
    # list"), for sentences that name it; without one the code is spelt out.
    label: str | None = None


class IdRule(_Strict):
    all_of: list[Identifier] = Field(min_length=1)
    ei: float = Field(ge=0.25, le=1.0)
    reason: str


class Identification(_Strict):
    minimum: float = Field(0.25, ge=0.25, le=1.0)
    rules: list[IdRule]


class Combination(_Strict):
    """Identifiers that together raise the data's DPC (e.g. what identity fraud needs)."""

    all_of: list[Identifier] = Field(min_length=2)
    dpc: int = Field(ge=1, le=4)
    reason: str = Field(min_length=3)


Recipients = Literal["none", "trusted_contract", "known", "unknown", "public"]


class Circumstances(_Strict):
    confidentiality: dict[Recipients, float]
    confidentiality_channel_override: dict[str, float] = {}
    integrity: dict[Literal["none", "recoverable", "not_recoverable"], float]
    availability: dict[Literal["none", "temporary", "permanent"], float]
    malicious: float = Field(ge=0, le=0.5)


class Likelihood(_Strict):
    labels: list[str] = Field(min_length=5, max_length=5)
    recipients: dict[Recipients, int]
    evidence: dict[Literal["unknown", "none", "low_views", "accessed", "misused"], int]
    long_exposure_hours: float = 72
    long_exposure_step: int = 1
    deletion_confirmed_step: int = -1
    record_accessed_step: int = 1
    many_recipients: int = 50
    many_recipients_step: int = 1
    # An availability loss has already happened to everyone: harm is at least this likely.
    availability_floor: dict[Literal["none", "temporary", "permanent"], int] = {"none": 1, "temporary": 1,
                                                                              "permanent": 1}
    # Data unintelligible to the recipient (state-of-the-art encryption, key safe).
    unintelligible_max: int = Field(1, ge=1, le=5)


class RegulatorPolicy(_Strict):
    name: str = "Information Commissioner's Office"
    no_notify_max_band: Band = "Low"
    no_notify_max_likelihood: int = Field(5, ge=1, le=5)
    doubt_quarantine_share: float = Field(0.05, ge=0, le=1)
    deadline_hours: float = 72
    pecr_deadline_hours: float = 72


class Channel(_Strict):
    bands: list[Band] = []
    factors: list[str] = []


class RecommendAll(_Strict):
    """Whom controllers in the reference cases told although the law did not require it."""

    data_context: list[str] = []
    subject_categories: list[str] = []
    threat_context: bool = True
    reason: str = "controllers in comparable cases told everyone affected"
    channel: str = "letter"


class Scale(_Strict):
    """The number of people affected enters the breach-level judgement (EDPB 9/2022)."""

    large_scale_people: int = Field(5000, ge=1)
    band_step: int = Field(1, ge=0, le=1)


class Policy(_Strict):
    label: str
    regulator: RegulatorPolicy
    communicate: dict[Literal["min_band"], Band]
    recommend_all: RecommendAll = RecommendAll()
    scale: Scale = Scale()
    channels: dict[str, Channel | str]


class RiskModel(_Strict):
    model_version: str = Field(min_length=1)
    description: str = ""
    base_scores: dict[Category, int]
    fields: dict[str, FieldRule]
    categories: dict[str, FieldRule] = {}
    context_factors: dict[str, Factor]
    threat_contexts: dict[str, Factor] = {}
    individual_factors: dict[str, Factor]
    identification: Identification
    combinations: list[Combination] = []
    circumstances: Circumstances
    severity_bands: dict[Literal["medium", "high", "very_high"], float]
    likelihood: Likelihood
    band_matrix: dict[Band, list[Band]]
    policy: Policy
    source: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _matrix(self) -> RiskModel:
        for row in self.band_matrix.values():
            if len(row) != 5:
                raise ValueError("band_matrix rows need 5 entries, one per likelihood level")
        return self

    def value(self, rule: FieldRule, adjust: int = 0) -> int:
        """ENISA DPC of one field or category: base score plus adjustments, kept within 1..4."""
        return max(1, min(4, self.base_scores[rule.category] + rule.adjust + adjust))


def load_model(path: str | Path | None = None) -> RiskModel:
    """The default model, or a user's copy; validated with every problem's key path."""
    path = Path(path) if path else DEFAULT_MODEL
    model = load_validated(path, RiskModel, ModelError, "the model file")
    model.source = path.resolve()
    return model


def check_incident(incident: Incident, model: RiskModel) -> None:
    """One-line errors for incident keys the model does not know, before any extract is read."""
    where = incident.source or "the incident file"
    for key in incident.data_context:
        if key not in model.context_factors:
            raise IncidentError(f"{where}: data_context '{key}' is not in the model; use one of "
                                f"{', '.join(model.context_factors)}, or add it to the model file.")
    for key in incident.threat_context:
        if key not in model.threat_contexts:
            raise IncidentError(f"{where}: threat_context '{key}' is not in the model; use one of "
                                f"{', '.join(model.threat_contexts)}, or add it to the model file.")
    for n, spec in enumerate(incident.files):
        for header, use in spec.categories.items():
            name = use if isinstance(use, str) else use.category
            if name not in model.categories:
                raise IncidentError(f"{where}: files[{n}].categories['{header}'] is '{name}', not a data "
                                    f"category in the model; use one of {', '.join(model.categories)}.")


def category_adjustments(incident: Incident) -> dict[str, tuple[int, str]]:
    """Per data category, the largest case-specific adjustment given on any column, with its reason."""
    out: dict[str, tuple[int, str]] = {}
    for spec in incident.files:
        for use in spec.categories.values():
            if isinstance(use, str):
                out.setdefault(use, (0, ""))
            elif use.category not in out or use.adjust > out[use.category][0]:
                out[use.category] = (use.adjust, use.reason)
    return out
