"""Per-person severity (ENISA 2013), likelihood, band and the plain-English drivers of each.

Everything is vectorised over the person table: one pass per configured field or factor, not
one Python call per person, so a million records score in seconds. All weights come from the
YAML model file, whose version goes into every output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from riskkit import labels
from riskkit.errors import ModelError
from riskkit.incident import Incident
from riskkit.paths import DEFAULT_MODEL
from riskkit.yamlio import load_validated

BANDS = ("Low", "Medium", "High", "Very high")
Category = Literal["simple", "behavioural", "financial", "sensitive"]
Identifier = Literal["name", "address", "postcode", "date_of_birth", "email", "phone",
                     "national_id", "reference_number"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldRule(_Strict):
    category: Category
    adjust: int = Field(default=0, ge=-3, le=3)
    reason: str = ""
    identifier: Identifier | None = None

    @model_validator(mode="after")
    def _reason(self) -> FieldRule:
        if self.adjust and not self.reason:
            raise ValueError("every adjustment needs a written reason")
        return self


class Factor(_Strict):
    adjust: int = Field(ge=0, le=3)
    reason: str = Field(min_length=3)


class IdRule(_Strict):
    all_of: list[Identifier] = Field(min_length=1)
    ei: float = Field(ge=0.25, le=1.0)
    reason: str


class Identification(_Strict):
    minimum: float = Field(0.25, ge=0.25, le=1.0)
    rules: list[IdRule]


class Circumstances(_Strict):
    confidentiality: dict[Literal["trusted_contract", "known", "unknown", "public"], float]
    confidentiality_channel_override: dict[str, float] = {}
    integrity: dict[Literal["none", "recoverable", "not_recoverable"], float]
    availability: dict[Literal["none", "temporary", "permanent"], float]
    malicious: float = Field(ge=0, le=0.5)


class Likelihood(_Strict):
    labels: list[str] = Field(min_length=5, max_length=5)
    recipients: dict[Literal["trusted_contract", "known", "unknown", "public"], int]
    evidence: dict[Literal["none", "low_views", "accessed", "misused"], int]
    long_exposure_hours: float = 72
    long_exposure_step: int = 1
    deletion_confirmed_step: int = -1
    record_accessed_step: int = 1


class RegulatorPolicy(_Strict):
    no_notify_max_band: Literal["Low", "Medium", "High", "Very high"] = "Low"
    no_notify_max_likelihood: int = Field(2, ge=1, le=5)
    doubt_quarantine_share: float = Field(0.05, ge=0, le=1)
    deadline_hours: float = 72


class Channel(_Strict):
    bands: list[Literal["Low", "Medium", "High", "Very high"]] = []
    factors: list[str] = []


class Policy(_Strict):
    label: str
    regulator: RegulatorPolicy
    communicate: dict[Literal["min_band"], Literal["Low", "Medium", "High", "Very high"]]
    channels: dict[str, Channel | str]


class RiskModel(_Strict):
    model_version: str = Field(min_length=1)
    description: str = ""
    base_scores: dict[Category, int]
    fields: dict[str, FieldRule]
    context_factors: dict[str, Factor]
    individual_factors: dict[str, Factor]
    identification: Identification
    circumstances: Circumstances
    severity_bands: dict[Literal["medium", "high", "very_high"], float]
    likelihood: Likelihood
    band_matrix: dict[Literal["Low", "Medium", "High", "Very high"], list[Literal["Low", "Medium", "High", "Very high"]]]
    policy: Policy
    source: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _matrix(self) -> RiskModel:
        for row in self.band_matrix.values():
            if len(row) != 5:
                raise ValueError("band_matrix rows need 5 entries, one per likelihood level")
        return self


def load_model(path: str | Path | None = None) -> RiskModel:
    """The default model, or a user's copy; validated with every problem's key path."""
    path = Path(path) if path else DEFAULT_MODEL
    model = load_validated(path, RiskModel, ModelError, "the model file")
    model.source = path.resolve()
    return model


FEATURE_CHUNK = 500_000  # records per pass: bounds the per-record feature table's memory


def person_features(records: pd.DataFrame, incident: Incident, model: RiskModel) -> pd.DataFrame:
    """What each person had exposed and their individual factors, from all their records.

    Computed over chunks of records and combined with ``max`` (any exposure anywhere counts),
    which gives the same answer as one pass but never builds the whole per-record table.
    """
    case_codes, cases = pd.factorize(records["case_ref"])
    perp = np.zeros(len(cases) + 1, dtype=bool)  # indexed by case code; the last slot is "no case"
    perp[case_codes[(records["role"] == "alleged_perpetrator").to_numpy()]] = True
    case_set = pd.Index(cases)
    accessed = np.zeros(len(cases) + 1, dtype=bool)
    extra = np.zeros(len(cases) + 1)
    for o in incident.overrides:
        where = case_set.get_indexer([o.case_ref])[0]
        if where >= 0:
            accessed[where] |= bool(o.accessed)
            extra[where] = o.extra_cb
    per_case = pd.DataFrame({"perp_in_case": perp, "accessed": accessed, "extra_cb": extra})
    # Grouped by integer person codes (sorted like the ids), not by the id strings.
    person, ids = pd.factorize(records["person_id"], sort=True)
    parts = [_record_features(records.iloc[i:i + FEATURE_CHUNK], incident, model,
                              per_case.iloc[case_codes[i:i + FEATURE_CHUNK]].reset_index(drop=True),
                              person[i:i + FEATURE_CHUNK])
             for i in range(0, max(len(records), 1), FEATURE_CHUNK)]
    combined = pd.concat(parts)
    combined = combined.groupby(level=0).max() if len(parts) > 1 else combined
    combined.index = pd.Index(ids, name="person_id")[combined.index]
    return combined


def _record_features(records: pd.DataFrame, incident: Incident, model: RiskModel, per_case: pd.DataFrame,
                     person: np.ndarray) -> pd.DataFrame:
    f = pd.DataFrame(index=records.index)
    for name in model.fields:
        col = records[name] if name in records else pd.Series(pd.NA, index=records.index)
        f[f"field_{name}"] = col.fillna(False).astype(bool) if col.dtype == bool else col.notna()
    f["field_lon"] = f.get("field_lon", False) | records["lat"].notna() & records["lon"].notna()
    f["field_easting"] = f.get("field_easting", False) | records["easting"].notna()

    perp_in_case = per_case["perp_in_case"].to_numpy()
    aware = pd.Timestamp(incident.timestamps.became_aware).tz_convert(None)
    age_now = (aware - records["date_of_birth"]).dt.days / 365.25
    child = records["marker_child"] | (records["age"] < 18) | (age_now < 18)
    f["factor_alleged_perpetrator"] = records["role"] == "alleged_perpetrator"
    f["factor_victim_with_perpetrator"] = (records["role"] == "victim") & perp_in_case & (
        records["address"].notna() | records["postcode"].notna() | records["lat"].notna())
    f["factor_vulnerable_adult"] = records["marker_vulnerable_adult"]
    f["factor_child"] = child.fillna(False)
    for marker in ("repeat_victim", "hate_related", "domestic_abuse"):
        f[f"factor_{marker}"] = records[f"marker_{marker}"]
    f["factor_sensitive_role"] = records["sensitive_role"]
    f["accessed"] = per_case["accessed"].to_numpy()
    f["extra_cb"] = per_case["extra_cb"].to_numpy()
    return f.groupby(person).max()


def circumstances(incident: Incident, model: RiskModel) -> tuple[float, list[str]]:
    """CB for the incident as a whole, with what contributed."""
    c, e = model.circumstances, incident.exposure
    conf = c.confidentiality_channel_override.get(e.channel, c.confidentiality[e.recipients])
    parts = [(conf, f"disclosed to {e.recipients.replace('_', ' ')} recipients")]
    parts.append((c.integrity[e.integrity_loss], f"integrity loss: {e.integrity_loss}"))
    parts.append((c.availability[e.availability_loss], f"availability loss: {e.availability_loss}"))
    parts.append((c.malicious if e.malicious else 0.0, "malicious intent"))
    return sum(v for v, _ in parts), [f"{why} (+{v:g})" for v, why in parts if v]


def incident_likelihood(incident: Incident, model: RiskModel) -> tuple[int, list[str]]:
    """Likelihood 1..5 for the incident before any per-person evidence, with reasons."""
    lk, e = model.likelihood, incident.exposure
    score = lk.recipients[e.recipients]
    why = [f"recipients: {e.recipients.replace('_', ' ')} ({score})"]
    if lk.evidence[e.evidence_of_access]:
        score += lk.evidence[e.evidence_of_access]
        why.append(f"evidence of access: {e.evidence_of_access.replace('_', ' ')} ({lk.evidence[e.evidence_of_access]:+d})")
    if e.duration_hours >= lk.long_exposure_hours:
        score += lk.long_exposure_step
        why.append(f"exposed for {exposure_words(e.duration_hours)} ({lk.long_exposure_step:+d})")
    if incident.containment.deletion_confirmed:
        score += lk.deletion_confirmed_step
        why.append(f"deletion confirmed ({lk.deletion_confirmed_step:+d})")
    return int(np.clip(score, 1, 5)), why


def exposure_words(hours: float) -> str:
    """'5 days' or '36 hours': how a briefing reader says a duration."""
    return f"{hours / 24:.0f} days" if hours >= 48 else f"{hours:.0f} hours"


def circumstance_phrase(incident: Incident) -> str:
    e = incident.exposure
    where = {"public_web": "public web page", "email": "email", "file_transfer": "file transfer",
             "lost_device": "lost device", "post": "post", "other": "disclosure"}[e.channel]
    return f"{where} for {exposure_words(e.duration_hours)}"


def score(records: pd.DataFrame, incident: Incident, model: RiskModel) -> pd.DataFrame:
    """One row per person: DPC, EI, CB, severity, likelihood, band and drivers."""
    feats = person_features(records, incident, model)
    out = pd.DataFrame(index=feats.index)
    drivers: list[tuple[float, np.ndarray, str]] = []  # (weight, applies per person, reason)

    # DPC: the highest-scoring exposed field, then context and individual raising factors.
    # numpy arrays, not Series: millions of people, a dozen passes each
    data_dpc = np.zeros(len(feats), dtype=np.int64)
    for name, rule in model.fields.items():
        value = int(np.clip(model.base_scores[rule.category] + rule.adjust, 1, 4))
        exposed = feats[f"field_{name}"].to_numpy(dtype=bool)
        data_dpc = np.where(exposed, np.maximum(data_dpc, value), data_dpc)
        if value > 1:
            text = rule.reason or f"{rule.category} data: {name.replace('_', ' ')}"
            drivers.append((value - 1, exposed, text))
    dpc = np.maximum(data_dpc, 1).astype(float)
    for key in incident.data_context:
        factor = model.context_factors.get(key)
        if factor is None:
            raise ModelError(f"incident data_context '{key}' is not a context factor in the model "
                             f"({', '.join(model.context_factors)}); fix the incident or the model.")
        dpc += factor.adjust
        drivers.append((factor.adjust - 0.5, np.ones(len(feats), dtype=bool), factor.reason))
    for key, factor in model.individual_factors.items():
        applies = feats[f"factor_{key}"].to_numpy(dtype=bool)
        dpc += np.where(applies, factor.adjust, 0)
        drivers.append((factor.adjust + 0.5, applies, factor.reason))
    out["dpc"] = np.clip(dpc, 1, 4)

    ids = _identifiers(feats, model)
    ei = np.full(len(feats), model.identification.minimum)
    for rule in model.identification.rules:
        hit = np.logical_and.reduce([ids[i] for i in rule.all_of])
        ei = np.where(hit, np.maximum(ei, rule.ei), ei)
    out["ei"] = ei

    cb, _ = circumstances(incident, model)
    out["cb"] = np.minimum(cb + feats["extra_cb"].to_numpy(dtype=float), 2.0)
    out["severity"] = np.clip(out["dpc"].to_numpy() * ei + out["cb"].to_numpy(), 0.25, 6.0).round(3)

    base_lk, _ = incident_likelihood(incident, model)
    lk = model.likelihood
    out["likelihood"] = np.clip(base_lk + np.where(feats["accessed"], lk.record_accessed_step, 0), 1, 5).astype(int)
    out["likelihood_label"] = labels.categorical(lk.labels, out["likelihood"].to_numpy() - 1)

    sb = model.severity_bands
    sev_band = np.select([out["severity"] >= sb["very_high"], out["severity"] >= sb["high"],
                          out["severity"] >= sb["medium"]], [3, 2, 1], 0)
    out["severity_band"] = labels.categorical(BANDS, sev_band)
    matrix = np.array([[BANDS.index(b) for b in model.band_matrix[row]] for row in BANDS])
    out["band_rank"] = matrix[sev_band, out["likelihood"].to_numpy() - 1]
    out["band"] = pd.Categorical.from_codes(out["band_rank"], categories=BANDS, ordered=True)
    out["drivers"] = _top_drivers(drivers, feats.index, circumstance_phrase(incident))
    for key in model.individual_factors:
        out[f"factor_{key}"] = feats[f"factor_{key}"].astype(bool)
    return out


def _identifiers(feats: pd.DataFrame, model: RiskModel) -> dict[str, np.ndarray]:
    ids = {i: np.zeros(len(feats), dtype=bool) for i in Identifier.__args__}  # type: ignore[attr-defined]
    for name, rule in model.fields.items():
        if rule.identifier:
            ids[rule.identifier] |= feats[f"field_{name}"].to_numpy(dtype=bool)
    return ids


def _top_drivers(drivers: list[tuple[float, np.ndarray, str]], index: pd.Index, tail: str, top: int = 3) -> pd.Series:
    """The strongest reasons first, then the circumstances."""
    ranked = sorted(drivers, key=lambda d: -d[0])
    codes, texts = labels.joined(labels.bits([d[1] for d in ranked], len(index)), [d[2] for d in ranked], "; ", top)
    return pd.Series(labels.categorical([f"{t}; {tail}" if t else tail for t in texts], codes), index=index)
