"""The model's proposals: tell the regulator? whom to contact, and how?

These are proposals, labelled as policy: people decide. The regulator's clock (72 hours in the
default model's ``deadline_hours``) runs continuously from ``became_aware`` (no weekends or
holidays), and is shown against the run's own clock. Telling people is proposed per person:
required (high risk to that person), recommended (what controllers in the reference cases
did), or not needed, each with its reason and channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from riskkit import labels
from riskkit.incident import Incident, Regime
from riskkit.risk import BANDS, IncidentRisk, RiskModel

LAW = {
    Regime.uk_gdpr: ("UK GDPR Art. 33", "UK GDPR Art. 34"),
    Regime.dpa2018_part3: ("DPA 2018 s.67", "DPA 2018 s.68"),
}


@dataclass
class Decisions:
    notify: bool
    law: str
    communicate_law: str
    deadline: datetime
    hours_left: float
    reason: str
    communicate_count: int  # everyone on the contact list: required plus recommended
    channels: dict[str, int]
    restriction_prompt: str | None
    policy_label: str
    required: int = 0
    recommended: int = 0
    communicate_reason: str = ""
    regulator: str = "Information Commissioner's Office"
    unknowns: list[str] = field(default_factory=list)

    @property
    def deadline_words(self) -> str:
        return time_left_words(self.hours_left)


def time_left_words(hours: float) -> str:
    """'2 days 1 hour left' or 'overdue by 41 days 4 hours': riskkit.wording's one form."""
    from riskkit.wording import time_left

    return time_left(hours)


def deadline(incident: Incident, model: RiskModel) -> datetime:
    """The one deadline rule: became_aware plus the model's deadline hours, running continuously."""
    return incident.timestamps.became_aware + timedelta(hours=model.policy.regulator.deadline_hours)


def notify_needed(people: pd.DataFrame, model: RiskModel, likelihood: int) -> bool:
    """Art. 33 / s.67: notify unless everyone is at or below the policy's no-notify band."""
    policy = model.policy.regulator
    max_rank = int(people["band_rank"].max()) if len(people) else 0
    return not (max_rank <= BANDS.index(policy.no_notify_max_band) and likelihood <= policy.no_notify_max_likelihood)


def recommend_all_because(incident: Incident, model: RiskModel) -> str | None:
    """Why everyone should be told although the law does not require it, or None."""
    rule = model.policy.recommend_all
    hits = [model.context_factors[k].label or k.replace("_", " ") for k in incident.data_context
            if k in rule.data_context and k in model.context_factors]
    hits += [k.replace("_", " ") for k in incident.subject_categories if k in rule.subject_categories]
    if rule.threat_context and incident.threat_context:
        hits += [k.replace("_", " ") for k in incident.threat_context]
    if not hits:
        return None
    listed = hits[0] if len(hits) == 1 else ", ".join(hits[:-1]) + " and " + hits[-1]
    return f"{rule.reason}; this breach involves {listed}"


def tell(people: pd.DataFrame, incident: Incident, model: RiskModel, notify: bool,
         unintelligible: bool = False) -> pd.DataFrame:
    """Per person: ``tell`` (required | recommended | not needed), ``tell_reason`` and ``channel``.

    Required follows high risk to that person (Art. 34 / s.68), unless the data were
    unintelligible (Art. 34(3)(a)); recommended covers the people whom controllers in the
    reference cases told anyway."""
    min_rank = BANDS.index(model.policy.communicate["min_band"])
    high = (people["band_rank"] >= min_rank).to_numpy() & (not unintelligible)
    because = recommend_all_because(incident, model) if notify else None
    recommended = ~high & (because is not None)
    state = np.select([high, recommended], [0, 1], 2)
    not_why = ("data unintelligible (state-of-the-art encryption, key safe): Art. 34(3)(a)" if unintelligible
               else f"risk to this person below {model.policy.communicate['min_band']}")
    # Text made once per distinct (state, band, strongest driver), never once per person.
    drivers = pd.Categorical(people["drivers"])
    key = (state * len(BANDS) + people["band_rank"].to_numpy()) * (len(drivers.categories) + 1) + drivers.codes + 1
    codes, distinct = pd.factorize(key)
    texts = []
    for k in distinct:
        st, rest = divmod(int(k), len(BANDS) * (len(drivers.categories) + 1))
        rank, drv = divmod(rest, len(drivers.categories) + 1)
        first = str(drivers.categories[drv - 1]).split("; ")[0] if drv else ""
        texts.append([f"high risk to this person: {BANDS[rank]} ({first})", because or "", not_why][st])
    out = pd.DataFrame({"tell": pd.Categorical.from_codes(state, categories=TELL),
                        "tell_reason": labels.categorical(texts, codes)}, index=people.index)
    chosen = channels(people, model, contact=high)
    chosen = chosen.mask(chosen.isna() & recommended, model.policy.recommend_all.channel)
    out["channel"] = chosen
    return out


TELL = ("required", "recommended", "not needed")


def channels(people: pd.DataFrame, model: RiskModel, contact: np.ndarray | None = None) -> pd.Series:
    """Recommended channel per person to contact, or missing for people not contacted.

    ``contact`` marks who is contacted (default: everyone at or above the policy's band). The
    first rule that applies wins; decided on integer codes, one pass per rule, never per person."""
    if contact is None:
        contact = (people["band_rank"] >= BANDS.index(model.policy.communicate["min_band"])).to_numpy()
    default = model.policy.channels.get("default", "letter")
    names = [name for name, rule in model.policy.channels.items() if not isinstance(rule, str)]
    names.append(default if isinstance(default, str) else "letter")
    choice = np.full(len(people), -1, dtype=np.int64)
    band_rank = people["band_rank"].to_numpy()
    for i, name in enumerate(names[:-1]):
        rule = model.policy.channels[name]
        hit = np.isin(band_rank, [BANDS.index(b) for b in rule.bands if b in BANDS])
        for factor in rule.factors:
            col = f"factor_{factor}"
            if col in people:
                hit |= people[col].to_numpy(dtype=bool)
        choice = np.where((choice < 0) & hit & contact, i, choice)
    choice = np.where((choice < 0) & contact, len(names) - 1, choice)
    distinct = list(dict.fromkeys(names))  # the default may also name a rule's channel
    codes = np.array([distinct.index(n) for n in names] + [-1])[choice]
    return pd.Series(pd.Categorical.from_codes(codes, categories=distinct), index=people.index).astype("string")


def _top_group(people: pd.DataFrame, rank: int) -> str:
    """Who decided it: how many people at the top band, and their strongest reason."""
    at = (people["band_rank"] == rank).to_numpy(dtype=bool)  # a mask, not a copy of a million people
    n = int(at.sum())
    first = str(people["drivers"].iloc[int(np.argmax(at))]).split("; ")[0] if n else ""
    return f"{n:,} {'person' if n == 1 else 'people'} at {BANDS[rank]} ({first})"


def decide(people: pd.DataFrame, incident: Incident, model: RiskModel, rows_read: int,
           rows_quarantined: int, now: datetime | None, risk: IncidentRisk) -> Decisions:
    """Regulator and communication proposals with their reasons, each naming what decided it."""
    policy = model.policy.regulator
    now = now or datetime.now(UTC)
    due = deadline(incident, model)
    hours_left = (due - now).total_seconds() / 3600
    law, communicate_law = LAW[incident.regime]
    lk = risk.likelihood
    lk_words = f"likelihood {model.likelihood.labels[lk - 1]} ({lk} of 5)"

    max_rank = int(people["band_rank"].max()) if len(people) else 0
    doubt = rows_read > 0 and rows_quarantined / rows_read > policy.doubt_quarantine_share
    notify = notify_needed(people, model, lk) or doubt
    if not notify:
        reason = (f"unlikely to result in a risk: every person is at most {policy.no_notify_max_band} "
                  f"({lk_words}); record the breach and the reasons for not notifying")
    else:
        parts = []
        if max_rank > BANDS.index(policy.no_notify_max_band):
            parts.append(f"{_top_group(people, max_rank)}, above the policy's {policy.no_notify_max_band} "
                         f"threshold for not notifying; {lk_words}")
        if doubt:
            parts.append(f"{rows_quarantined} of {rows_read} rows could not be analysed (if in doubt, notify)")
        reason = "a risk to people cannot be ruled out: " + "; ".join(parts or [lk_words])

    if "tell" in people:
        told = people[["tell", "channel"]]
    else:
        told = tell(people, incident, model, notify, risk.unintelligible)
    required = int((told["tell"] == "required").sum())
    recommended = int((told["tell"] == "recommended").sum())
    chosen = told["channel"]
    counts = chosen.value_counts()
    if required:
        why = (f"required for {required:,}: high risk to each, at {model.policy.communicate['min_band']} or above "
               f"(highest: {_top_group(people, max_rank)})")
    else:
        why = f"no one is at {model.policy.communicate['min_band']} risk or above"
        if risk.unintelligible:
            why = "the data were unintelligible (Art. 34(3)(a))"
    if recommended:
        why += f"; recommended for {recommended:,}: {recommend_all_because(incident, model)}"
    prompt = None
    if incident.regime is Regime.dpa2018_part3:
        prompt = ("Consider DPA 2018 s.68(7) restrictions before telling people: never give one party "
                  "another party's details, and do not prejudice an inquiry or prosecution.")
    return Decisions(notify=notify, law=law, communicate_law=communicate_law, deadline=due,
                     hours_left=hours_left, reason=reason, communicate_count=int(chosen.notna().sum()),
                     channels={k: int(v) for k, v in counts.items() if v}, restriction_prompt=prompt,
                     policy_label=model.policy.label, required=required, recommended=recommended,
                     communicate_reason=why, regulator=policy.name, unknowns=list(risk.unknowns))
