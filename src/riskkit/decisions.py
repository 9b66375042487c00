"""The model's proposals: tell the regulator? whom to contact, and how?

These are proposals, labelled as policy: people decide. The 72-hour clock runs continuously
from ``became_aware`` (no weekends or holidays), and is shown against the run's own clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd

from riskkit.incident import Incident, Regime
from riskkit.risk import BANDS, RiskModel, incident_likelihood

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
    communicate_count: int
    channels: dict[str, int]
    restriction_prompt: str | None
    policy_label: str

    @property
    def deadline_words(self) -> str:
        return time_left_words(self.hours_left)


def time_left_words(hours: float) -> str:
    """'49 hours 30 minutes left' or 'overdue by 3 hours 5 minutes' (whole minutes, rounded down)."""
    minutes = int(abs(hours) * 60)
    text = f"{minutes // 60} hours {minutes % 60} minutes"
    return f"{text} left" if hours >= 0 else f"overdue by {text}"


def channels(people: pd.DataFrame, model: RiskModel) -> pd.Series:
    """Recommended channel per person to contact, or missing for people not contacted."""
    min_rank = BANDS.index(model.policy.communicate["min_band"])
    contact = people["band_rank"] >= min_rank
    chosen = pd.Series(pd.NA, index=people.index, dtype="string")
    default = model.policy.channels.get("default", "letter")
    for name, rule in model.policy.channels.items():
        if isinstance(rule, str):
            continue
        hit = people["band"].astype(str).isin(rule.bands)
        for factor in rule.factors:
            col = f"factor_{factor}"
            if col in people:
                hit |= people[col]
        chosen = chosen.mask(chosen.isna() & hit & contact, name)
    chosen = chosen.mask(chosen.isna() & contact, default if isinstance(default, str) else "letter")
    return chosen


def decide(people: pd.DataFrame, incident: Incident, model: RiskModel, rows_read: int,
           rows_quarantined: int, now: datetime | None = None) -> Decisions:
    """Regulator and communication proposals with their reasons."""
    policy = model.policy.regulator
    now = now or datetime.now(UTC)
    deadline = incident.timestamps.became_aware + timedelta(hours=policy.deadline_hours)
    hours_left = (deadline - now).total_seconds() / 3600
    law, communicate_law = LAW[incident.regime]

    max_rank = int(people["band_rank"].max()) if len(people) else 0
    lk, _ = incident_likelihood(incident, model)
    doubt = rows_read > 0 and rows_quarantined / rows_read > policy.doubt_quarantine_share
    low = max_rank <= BANDS.index(policy.no_notify_max_band) and lk <= policy.no_notify_max_likelihood
    if low and not doubt:
        notify = False
        reason = (f"unlikely to result in a risk: every person is at most {policy.no_notify_max_band} "
                  f"and the likelihood is {model.likelihood.labels[lk - 1]}; record the breach and the "
                  "reasons for not notifying")
    else:
        notify = True
        top = BANDS[max_rank]
        parts = [f"highest individual risk {top}", f"likelihood {model.likelihood.labels[lk - 1]}"]
        if doubt:
            parts.append(f"{rows_quarantined} of {rows_read} rows could not be analysed (if in doubt, notify)")
        reason = "a risk to people cannot be ruled out: " + ", ".join(parts)

    chosen = people["channel"] if "channel" in people else channels(people, model)
    counts = chosen.value_counts()
    prompt = None
    if incident.regime is Regime.dpa2018_part3:
        prompt = ("Consider DPA 2018 s.68(7) restrictions before telling people: never give one party "
                  "another party's details, and do not prejudice an inquiry or prosecution.")
    return Decisions(notify=notify, law=law, communicate_law=communicate_law, deadline=deadline,
                     hours_left=hours_left, reason=reason, communicate_count=int(chosen.notna().sum()),
                     channels={k: int(v) for k, v in counts.items() if v}, restriction_prompt=prompt,
                     policy_label=model.policy.label)
