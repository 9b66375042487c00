"""Tables for the analysts' notebook: the per-person view with filters, inside the restricted
environment only."""

from __future__ import annotations

import pandas as pd

from riskkit import districts
from riskkit.analysis import Analysis
from riskkit.briefing import district_frame
from riskkit.errors import ParameterError
from riskkit.restricted import person_table
from riskkit.risk import BANDS


def counts(a: Analysis) -> pd.DataFrame:
    return district_frame(a)[["District", "Cases", "Subject records", "People"]]


def people(a: Analysis, district: str = "", role: str = "", band: str = "") -> pd.DataFrame:
    """The per-person table (pseudonymous ids), filtered; unknown filter values are errors,
    not empty tables, so a typo is never mistaken for 'nobody affected'."""
    table = person_table(a)
    if district:
        code = districts.code_for(district) or district
        if code not in set(a.people["district_code"]):
            raise ParameterError(f"district '{district}' has no people in this incident; "
                                 f"known: {', '.join(sorted(set(table['district'])))}.")
        table = table[a.people["district_code"].to_numpy() == code]
    if role:
        if not table["roles"].str.split(";").explode().eq(role).any():
            known = ", ".join(sorted(set(table["roles"].str.split(";").explode())))
            raise ParameterError(f"role '{role}' does not occur; use one of {known}.")
        table = table[table["roles"].str.split(";").apply(lambda r: role in r)]
    if band:
        if band not in BANDS:
            raise ParameterError(f"band '{band}' is not one of {', '.join(BANDS)}.")
        table = table[table["band"] == band]
    return table.reset_index(drop=True)


def findings(a: Analysis) -> pd.DataFrame:
    return pd.DataFrame(a.findings or [{"check": "no findings", "count": 0}])
