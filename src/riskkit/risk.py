"""Per-person severity (ENISA 2013), likelihood, band and the plain-English drivers of each.

Everything is vectorised over the person table: one pass per configured field or factor, not
one Python call per person, so a million records score in seconds. All weights come from the
YAML model file (schema and loading in ``riskkit.risk_model``), whose version goes into every
output. The incident-level part (circumstances, likelihood, what was unknown) is computed once,
in ``incident_risk``, and kept on the analysis.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskkit import groups, labels
from riskkit.incident import Incident
from riskkit.risk_model import BANDS, Category, FieldRule, Identifier, RiskModel, category_adjustments, check_incident, load_model

__all__ = ["BANDS", "Category", "FieldRule", "Identifier", "IncidentRisk", "RiskModel", "check_incident",
           "circumstance_phrase", "exposure_words", "incident_risk",
           "load_model", "recipient_words", "score"]


FEATURE_CHUNK = 500_000  # records per pass: bounds the per-record feature table's memory


def person_features(records: pd.DataFrame, incident: Incident, model: RiskModel) -> pd.DataFrame:
    """What each person had exposed and their individual factors, from all their records.

    Computed over chunks of records and combined with ``max`` (any exposure anywhere counts),
    which gives the same answer as one pass but never builds the whole per-record table.
    """
    case_codes, cases = groups.sorted_codes(records["case_ref"])
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
    person, ids = groups.sorted_codes(records["person_id"])
    combined: _PerPerson | None = None
    for i in range(0, max(len(records), 1), FEATURE_CHUNK):
        f = _record_features(records.iloc[i:i + FEATURE_CHUNK], incident, model,
                             per_case.iloc[case_codes[i:i + FEATURE_CHUNK]].reset_index(drop=True))
        combined = combined or _PerPerson(f.columns, len(ids))
        combined.add(f, person[i:i + FEATURE_CHUNK])
    assert combined is not None
    return combined.frame(pd.Index(ids, name="person_id"))


class _PerPerson:
    """The maximum of each record feature per person, gathered chunk by chunk: the flags packed
    as bits of one integer per record (``bitwise_or`` is their maximum), the numbers kept apart.
    One pass over each chunk, instead of a pandas group-by per chunk and another to combine."""

    def __init__(self, columns: pd.Index, n_people: int) -> None:
        self.columns = list(columns)
        self.flags: list[str] = []
        self.numbers: list[str] = []
        self.n = n_people
        self.bits: list[np.ndarray] = []  # one uint64 per person per 64 flags
        self.values: dict[str, np.ndarray] = {}

    def add(self, f: pd.DataFrame, person: np.ndarray) -> None:
        if not self.bits and not self.values:
            self.flags = [c for c in self.columns if pd.api.types.is_bool_dtype(f[c].dtype)]
            self.numbers = [c for c in self.columns if c not in self.flags]
            self.bits = [np.zeros(self.n, dtype=np.uint64) for _ in range(0, len(self.flags), 64)]
            self.values = {c: np.full(self.n, -np.inf) for c in self.numbers}
        for word, start in enumerate(range(0, len(self.flags), 64)):
            packed = np.zeros(len(f), dtype=np.uint64)
            for bit, column in enumerate(self.flags[start:start + 64]):
                packed |= f[column].to_numpy(dtype=bool, na_value=False).astype(np.uint64) << np.uint64(bit)
            np.bitwise_or.at(self.bits[word], person, packed)
        for column in self.numbers:
            np.maximum.at(self.values[column], person, f[column].to_numpy(dtype=float))

    def frame(self, index: pd.Index) -> pd.DataFrame:
        out = {}
        for column in self.columns:
            if column in self.values:
                out[column] = self.values[column]
            else:
                k = self.flags.index(column)
                out[column] = (self.bits[k // 64] >> np.uint64(k % 64)) & np.uint64(1) == 1
        return pd.DataFrame(out, index=index)


def _record_features(records: pd.DataFrame, incident: Incident, model: RiskModel,
                     per_case: pd.DataFrame) -> pd.DataFrame:
    f = pd.DataFrame(index=records.index)
    for name in model.fields:
        col = records[name] if name in records else pd.Series(pd.NA, index=records.index)
        f[f"field_{name}"] = col.fillna(False).astype(bool) if col.dtype == bool else col.notna()
    f["field_lon"] = f.get("field_lon", False) | records["lat"].notna() & records["lon"].notna()
    f["field_easting"] = f.get("field_easting", False) | records["easting"].notna()
    for name in category_adjustments(incident):  # only the categories this incident's files declare
        col = records.get(f"cat__{name}")
        f[f"cat_{name}"] = col.fillna(False).astype(bool).to_numpy() if col is not None else False

    perp_in_case = per_case["perp_in_case"].to_numpy()
    aware = pd.Timestamp(incident.timestamps.became_aware).tz_convert(None)
    age_now = (aware - records["date_of_birth"]).dt.days / 365.25
    child = records["marker_child"] | (records["age"] < 18) | (age_now < 18)
    everyone = set(incident.subject_categories)
    f["factor_alleged_perpetrator"] = records["role"] == "alleged_perpetrator"
    f["factor_victim_with_perpetrator"] = (records["role"] == "victim") & perp_in_case & (
        records["address"].notna() | records["postcode"].notna() | records["lat"].notna())
    f["factor_vulnerable_adult"] = records["marker_vulnerable_adult"] | ("vulnerable_adults" in everyone)
    f["factor_child"] = child.fillna(False) | ("children" in everyone)
    for marker in ("repeat_victim", "hate_related", "domestic_abuse"):
        f[f"factor_{marker}"] = records[f"marker_{marker}"]
    f["factor_sensitive_role"] = records["sensitive_role"]
    f["accessed"] = per_case["accessed"].to_numpy()
    f["extra_cb"] = per_case["extra_cb"].to_numpy()
    return f


@dataclass
class IncidentRisk:
    """The incident-level half of the assessment: the same for every person, computed once."""

    cb: float
    cb_why: list[str]
    likelihood: int
    likelihood_why: list[str]
    unknowns: list[str] = field(default_factory=list)  # what was not known, and how it was scored
    unintelligible: bool = False


def _duration_long(incident: Incident, model: RiskModel) -> bool:
    d = incident.exposure.duration_hours
    return isinstance(d, str) or d >= model.likelihood.long_exposure_hours


def incident_risk(incident: Incident, model: RiskModel) -> IncidentRisk:
    """CB and the likelihood (1..5) before any per-person evidence, each with its reasons.

    Unknown facts are scored as their cautious value and listed, so the briefing can say so."""
    lk, e = model.likelihood, incident.exposure
    parts = circumstance_parts(incident, model)
    cb_why = [f"{why} (+{v:g})" for v, why in parts if v]

    unknowns = []
    score = lk.recipients[e.recipients]
    why = [f"recipients: {recipient_words(e.recipients)} ({score})"]
    step = lk.evidence[e.evidence_of_access]
    if e.evidence_of_access == "unknown":
        unknowns.append(f"access unknown: assumed possible ({step:+d})")
    if step:
        score += step
        why.append(f"evidence of access: {e.evidence_of_access.replace('_', ' ')} ({step:+d})")
    if e.recipients_count is not None and e.recipients_count >= lk.many_recipients and e.recipients != "none":
        score += lk.many_recipients_step
        why.append(f"sent to {e.recipients_count:,} recipients ({lk.many_recipients_step:+d})")
    if _duration_long(incident, model) and e.recipients != "none":
        score += lk.long_exposure_step
        why.append(f"exposed for {exposure_words(e.duration_hours)} ({lk.long_exposure_step:+d})")
        if e.duration_hours == "unknown":
            unknowns.append(f"duration unknown: assumed longer than {exposure_words(lk.long_exposure_hours)}")
    if incident.containment.deletion_confirmed:
        score += lk.deletion_confirmed_step
        why.append(f"deletion confirmed ({lk.deletion_confirmed_step:+d})")
    unintelligible = bool(e.encrypted and e.encrypted.unintelligible)
    if unintelligible and score > lk.unintelligible_max:
        score = lk.unintelligible_max
        why.append(f"data unintelligible (state-of-the-art encryption, key safe): at most "
                   f"{lk.labels[lk.unintelligible_max - 1]}")
    floor = lk.availability_floor[e.availability_loss]
    if e.availability_loss != "none" and score < floor:
        score = floor
        long = _duration_long(incident, model) and e.availability_loss == "temporary"
        if long:  # a temporary loss that lasted (a permanent one is at its floor already)
            score += lk.long_exposure_step
        why.append(f"{e.availability_loss} loss of availability has already happened"
                   + (f" and lasted {exposure_words(e.duration_hours)}" if long else "") + f": at least {floor}")
    return IncidentRisk(sum(v for v, _ in parts), cb_why, int(np.clip(score, 1, 5)), why, unknowns, unintelligible)


def circumstance_parts(incident: Incident, model: RiskModel) -> list[tuple[float, str]]:
    """ENISA's circumstances of the breach (CB), each as (points, reason): summed into
    ``IncidentRisk.cb`` and listed one by one in the explore notebook's score breakdown."""
    c, e = model.circumstances, incident.exposure
    conf = c.confidentiality_channel_override.get(e.channel, c.confidentiality[e.recipients])
    return [(conf, f"disclosed to {recipient_words(e.recipients)}"),
            (c.integrity[e.integrity_loss], f"integrity loss: {e.integrity_loss.replace('_', ' ')}"),
            (c.availability[e.availability_loss], f"availability loss: {e.availability_loss}"),
            (c.malicious if e.malicious else 0.0, "malicious intent")]


def recipient_words(recipients: str) -> str:
    """Who received the data, as a reader says it (never 'none recipients')."""
    return {"none": "no one outside the controller", "trusted_contract": "a trusted recipient under contract",
            "known": "known recipients", "unknown": "unknown recipients", "public": "the public"}[recipients]


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def exposure_words(hours: float | str) -> str:
    """'5 days', '36 hours', '1 hour', '2 hours 20 minutes', 'ongoing': how a reader says a duration."""
    if isinstance(hours, str):
        return {"ongoing": "ongoing", "unknown": "an unknown time"}.get(hours, hours)
    if hours >= 48:
        return _plural(round(hours / 24), "day")
    minutes = round(hours * 60)
    if minutes < 60:
        return _plural(minutes, "minute")
    text = _plural(minutes // 60, "hour")
    return text + (f" {_plural(minutes % 60, 'minute')}" if minutes % 60 else "")


def circumstance_phrase(incident: Incident) -> str:
    e = incident.exposure
    where = {"public_web": "public web page", "email": "email", "file_transfer": "file transfer",
             "lost_device": "lost device", "stolen_device": "stolen device", "paper": "paper files",
             "post": "post", "cyber_attack": "cyber attack", "other": "disclosure"}[e.channel]
    d = e.duration_hours
    if d == "ongoing":
        return f"{where}, ongoing"
    if d == "unknown" or d == 0:
        return where
    return f"{where} for {exposure_words(d)}"


def score(records: pd.DataFrame, incident: Incident, model: RiskModel,
          risk: IncidentRisk | None = None) -> pd.DataFrame:
    """One row per person: DPC, EI, CB, severity, likelihood, band and drivers."""
    check_incident(incident, model)
    risk = risk or incident_risk(incident, model)
    feats = person_features(records, incident, model)
    out = pd.DataFrame(index=feats.index)
    drivers: list[tuple[float, np.ndarray, str]] = []  # (weight, applies per person, reason)

    # DPC: the highest-scoring exposed field or category, then context and individual raising factors.
    # numpy arrays, not Series: millions of people, a dozen passes each
    data_dpc = np.zeros(len(feats), dtype=np.int64)
    exposed_rules = _exposed_rules(incident, model)
    for column, _rule, value, text in exposed_rules:
        exposed = feats[column].to_numpy(dtype=bool)
        data_dpc = np.where(exposed, np.maximum(data_dpc, value), data_dpc)
        if value > 1:
            drivers.append((value - 1, exposed, text))
    ids = _identifiers(feats, model, exposed_rules)
    for combo in model.combinations:
        hit = np.logical_and.reduce([ids[i] for i in combo.all_of])
        data_dpc = np.where(hit, np.maximum(data_dpc, combo.dpc), data_dpc)
        drivers.append((combo.dpc - 1, hit, combo.reason))
    dpc = np.maximum(data_dpc, 1).astype(float)
    for key in incident.data_context:
        factor = model.context_factors[key]
        dpc += factor.adjust
        drivers.append((factor.adjust - 0.5, np.ones(len(feats), dtype=bool), factor.reason))
    for key in incident.threat_context:
        factor = model.threat_contexts[key]
        dpc += factor.adjust
        drivers.append((factor.adjust + 1, np.ones(len(feats), dtype=bool), factor.reason))
    for key, factor in model.individual_factors.items():
        applies = feats[f"factor_{key}"].to_numpy(dtype=bool)
        dpc += np.where(applies, factor.adjust, 0)
        drivers.append((factor.adjust + 0.5, applies, factor.reason))
    out["dpc"] = np.clip(dpc, 1, 4)

    ei = np.full(len(feats), model.identification.minimum)
    if not risk.unintelligible:  # nobody can identify anyone from ciphertext
        for rule in model.identification.rules:
            hit = np.logical_and.reduce([ids[i] for i in rule.all_of])
            ei = np.where(hit, np.maximum(ei, rule.ei), ei)
    out["ei"] = ei

    out["cb"] = np.minimum(risk.cb + feats["extra_cb"].to_numpy(dtype=float), 2.0)
    out["severity"] = np.clip(out["dpc"].to_numpy() * ei + out["cb"].to_numpy(), 0.25, 6.0).round(3)

    lk = model.likelihood
    out["likelihood"] = np.clip(risk.likelihood + np.where(feats["accessed"].to_numpy(dtype=bool), lk.record_accessed_step, 0),
                                1, 5).astype(int)
    out["likelihood_label"] = labels.categorical(lk.labels, out["likelihood"].to_numpy() - 1)

    sb = model.severity_bands
    sev_band = np.select([out["severity"] >= sb["very_high"], out["severity"] >= sb["high"],
                          out["severity"] >= sb["medium"]], [3, 2, 1], 0)
    out["severity_band"] = labels.categorical(BANDS, sev_band)
    matrix = np.array([[BANDS.index(b) for b in model.band_matrix[row]] for row in BANDS])
    rank = matrix[sev_band, out["likelihood"].to_numpy() - 1]
    scale = model.policy.scale
    if len(feats) >= scale.large_scale_people and scale.band_step:
        rank = np.minimum(rank + scale.band_step, len(BANDS) - 1)
        drivers.append((0.25, np.ones(len(feats), dtype=bool),
                        f"large-scale breach: {len(feats):,} people (band raised one step)"))
    out["band_rank"] = rank
    out["band"] = pd.Categorical.from_codes(out["band_rank"], categories=BANDS, ordered=True)
    out["drivers"] = _top_drivers(drivers, feats.index, circumstance_phrase(incident))
    for key in model.individual_factors:
        out[f"factor_{key}"] = feats[f"factor_{key}"].astype(bool)
    return out


def _exposed_rules(incident: Incident, model: RiskModel) -> list[tuple[str, FieldRule, int, str]]:
    """(feature column, rule, DPC value, reason) for every field and declared data category."""
    rules: list[tuple[str, FieldRule, int, str]] = [
        (f"field_{n}", r, model.value(r), r.reason or f"{r.category} data: {n.replace('_', ' ')}")
        for n, r in model.fields.items()]
    for name, (adjust, why) in category_adjustments(incident).items():
        r = model.categories[name]
        text = "; ".join(x for x in (r.reason or name.replace("_", " "), why) if x)
        rules.append((f"cat_{name}", r, model.value(r, adjust), text))
    return rules


def _identifiers(feats: pd.DataFrame, model: RiskModel,
                 exposed_rules: list[tuple[str, FieldRule, int, str]]) -> dict[str, np.ndarray]:
    ids = {i: np.zeros(len(feats), dtype=bool) for i in Identifier.__args__}  # type: ignore[attr-defined]
    for column, rule, _value, _text in exposed_rules:
        if rule.identifier:
            ids[rule.identifier] |= feats[column].to_numpy(dtype=bool)
    return ids


def _top_drivers(drivers: list[tuple[float, np.ndarray, str]], index: pd.Index, tail: str, top: int = 3) -> pd.Series:
    """The strongest reasons first, then the circumstances."""
    ranked = sorted(drivers, key=lambda d: -d[0])
    codes, texts = labels.joined(labels.bits([d[1] for d in ranked], len(index)), [d[2] for d in ranked], "; ", top)
    return pd.Series(labels.categorical([f"{t}; {tail}" if t else tail for t in texts], codes), index=index)


PART_COLUMNS = ["part", "item", "points", "severity_points", "note"]


def severity_parts(feats: pd.DataFrame, incident: Incident, model: RiskModel,
                   risk: IncidentRisk | None = None) -> pd.DataFrame:
    """How one person's severity is made, item by item, recomputed from the same model as ``score``.

    ``feats`` is that person's one row of ``person_features``. Each data field or category,
    combination, context, individual factor, identification rule and circumstance is a row with
    its points on its own scale (DPC, EI or CB) and its ``severity_points``: DPC points times the
    person's EI, CB points as they are, and a row for any limit applied. The severity points
    add up to the person's ``severity`` (before its rounding to three decimals), which is why
    an analyst can trust the breakdown: a test checks it for every person of both samples.
    """
    if len(feats) != 1:
        raise ValueError("severity_parts explains one person: pass one row of person_features")
    risk = risk or incident_risk(incident, model)
    row = feats.iloc[0]
    rules = _exposed_rules(incident, model)
    ids = {k: bool(v[0]) for k, v in _identifiers(feats, model, rules).items()}

    data = [(value, column.split("_", 1)[1].replace("_", " "), text) for column, _r, value, text in rules
            if bool(row[column])]
    data += [(float(c.dpc), "combination: " + " + ".join(i.replace("_", " ") for i in c.all_of), c.reason)
             for c in model.combinations if all(ids[i] for i in c.all_of)]
    ei = model.identification.minimum
    applied_ei = ""  # the reason of the rule applied
    if not risk.unintelligible:
        for rule in model.identification.rules:
            if all(ids[i] for i in rule.all_of) and rule.ei > ei:
                ei, applied_ei = rule.ei, rule.reason
    rows: list[tuple[str, str, float, float, str]] = []
    top = max(data, key=lambda d: d[0]) if data else None
    if top is None:
        rows.append(("data (DPC)", "no data field exposed", 1.0, ei, "DPC starts at 1"))
    for d in data:
        counted = d is top
        rows.append(("data (DPC)", d[1], float(d[0]), float(max(d[0], 1)) * ei if counted else 0.0,
                     d[2] if counted else f"{d[2]}; not counted: only the highest data score counts"))
    raw = float(max(top[0], 1)) if top else 1.0
    adjustments = [("context (DPC)", key, model.context_factors[key]) for key in incident.data_context]
    adjustments += [("threat (DPC)", key, model.threat_contexts[key]) for key in incident.threat_context]
    adjustments += [("individual factor (DPC)", key, f) for key, f in model.individual_factors.items()
                    if bool(row[f"factor_{key}"])]
    for part, key, factor in adjustments:
        raw += factor.adjust
        rows.append((part, key.replace("_", " "), float(factor.adjust), factor.adjust * ei, factor.reason))
    dpc = min(max(raw, 1.0), 4.0)
    if dpc != raw:
        rows.append(("limit (DPC)", "DPC kept within 1 to 4", dpc - raw, (dpc - raw) * ei,
                     f"the DPC points above add up to {raw:g}; ENISA's scale ends at {dpc:g}"))
    rows.append(("identification (EI)", applied_ei or "no identifying combination",
                 ei, 0.0, "data unintelligible: nobody can identify anyone" if risk.unintelligible else
                 f"multiplies the DPC: every DPC point above counts {ei:g} severity points"))

    cb = 0.0
    for value, why in circumstance_parts(incident, model):
        if value:
            cb += value
            rows.append(("circumstance (CB)", why, value, value, "the same for everyone in the incident"))
    extra = float(row["extra_cb"])
    if extra:
        cb += extra
        rows.append(("circumstance (CB)", "evidence about this person's case", extra, extra,
                     "from the incident file's overrides"))
    if cb > 2.0:
        rows.append(("limit (CB)", "CB kept at most 2", 2.0 - cb, 2.0 - cb, f"the CB points add up to {cb:g}"))
    total = dpc * ei + min(cb, 2.0)
    severity = min(max(total, 0.25), 6.0)
    if severity != total:
        rows.append(("limit (severity)", "severity kept within 0.25 to 6", severity - total, severity - total, ""))
    return pd.DataFrame(rows, columns=PART_COLUMNS)
