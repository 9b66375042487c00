"""What the analysts' explore notebook shows, inside the restricted environment only.

The notebook only calls these functions, so every view is tested here and the notebook stays
a page of calls. The views may show personal data (the side-by-side records, the district's
people): the notebook is a restricted output and is committed without outputs. Errors still
name parameters and pseudonymous ids only, never a cell's value.

- ``page``: every person, a page at a time, with filters and every reason in full;
- ``breakdown``: how one person's severity adds up, item by item, and their likelihood and band;
- ``side_by_side``: the source records that resolved to one person, with the link evidence;
- ``district_view``: one district's people and cases, and the briefing's map with it outlined;
- ``compare_models``: two model files side by side, who changes band and why;
- ``conflicts`` and ``links``: district placement conflicts and merges in names and words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from riskkit import districts, risk
from riskkit.analysis import Analysis, scope
from riskkit.errors import ParameterError
from riskkit.report.briefing import district_frame, district_map
from riskkit.report.restricted import people_sheet
from riskkit.risk import BANDS

UNASSIGNED_NAME = "Unassigned"
METHOD_WORDS = {"coordinates": "map coordinates", "postcode": "postcode lookup",
                "district_name": "district named in the file", "none": "not placed"}
# Columns of a record that are bookkeeping, not what the source row said.
_INTERNAL = {"record_id", "person_id", "person_fewest", "person_most", "source_file", "source_row",
             "district_code", "assign_method"}


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:g}"
    return "" if value is None or value is pd.NA else str(value)


def _html(frame: pd.DataFrame, index: bool = False) -> str:
    """A table with every cell in full (pandas' own display cuts text at 50 characters), short
    cells on one line and long text wrapped in a wide column, so a row stays readable."""
    long = [c for c in frame.columns if frame[c].astype(str).str.len().max() > 40] if len(frame) else []
    styler = frame.style.format(_cell, escape="html").set_properties(
        **{"white-space": "nowrap", "text-align": "left", "vertical-align": "top"})
    if long:
        styler = styler.set_properties(subset=long, **{"white-space": "normal", "min-width": "24em"})
    if not index:
        styler = styler.hide(axis="index")
    return styler.to_html()


def _whole(a: Analysis) -> Analysis:
    """The whole incident behind a district's view: a victim's case may name an alleged
    perpetrator who lives elsewhere, so features are computed on every record."""
    return a.whole or a


def counts(a: Analysis) -> pd.DataFrame:
    return district_frame(a)[["District", "Cases", "Subject records", "People"]]


def findings(a: Analysis) -> pd.DataFrame:
    return pd.DataFrame(a.findings or [{"check": "no findings", "count": 0}])


# ---- filters and paging -------------------------------------------------------------------

def district_code(a: Analysis, district: str) -> str:
    """The ONS code (or ``unassigned``) for a district typed as a name, a code or "Unassigned";
    a district with nobody in this incident is an error listing the ones that have people."""
    text = district.strip()
    names = dict(zip(a.people["district"].astype(str), a.people["district_code"].astype(str), strict=True))
    code = {n.casefold(): c for n, c in names.items()}.get(text.casefold()) or districts.code_for(text) or text
    if code not in set(names.values()):
        raise ParameterError(f"district '{district}' has no people in this incident; "
                             f"use one of: {', '.join(sorted(names))}.")
    return code


def _role_key(role: str) -> str:
    return role.strip().lower().replace(" ", "_")


def people(a: Analysis, district: str = "", role: str = "", band: str = "") -> pd.DataFrame:
    """The per-person table (pseudonymous ids), highest priority first, filtered; unknown filter
    values are errors, not empty tables, so a typo is never mistaken for 'nobody affected'."""
    whole = table = people_sheet(a)
    if district:
        code = district_code(a, district)
        table = table[a.people["district_code"].astype(str).to_numpy() == code]
    if role:
        held = table["roles"].str.split(";")
        known = sorted(set(whole["roles"].str.split(";").explode()))
        if _role_key(role) not in known:
            raise ParameterError(f"role '{role}' does not occur in this incident; use one of {', '.join(known)}.")
        table = table[held.apply(lambda r: _role_key(role) in r).to_numpy(dtype=bool)]
    if band:
        chosen = {b.casefold(): b for b in BANDS}.get(band.strip().casefold())
        if chosen is None:
            raise ParameterError(f"band '{band}' is not one of {', '.join(BANDS)}.")
        table = table[table["band"] == chosen]
    return table.reset_index(drop=True)


@dataclass
class Page:
    """One page of the per-person table, and where it sits among all pages."""

    table: pd.DataFrame
    number: int
    pages: int
    total: int
    size: int

    @property
    def first(self) -> int:
        return (self.number - 1) * self.size + 1 if self.total else 0

    def __str__(self) -> str:
        last = self.first + len(self.table) - 1 if self.total else 0
        return f"page {self.number} of {self.pages} (people {self.first:,}-{last:,} of {self.total:,})"

    def _repr_html_(self) -> str:
        return f"<p><strong>{escape(str(self))}</strong></p>" + _html(self.table)


def _whole_number(name: str, value: int | str) -> int:
    """A page or page size given as a papermill string parameter ("2") or an int."""
    text = str(value).strip()
    if not text.isdigit() or int(text) < 1:
        raise ParameterError(f"parameter '{name}' must be a whole number of at least 1; got {text!r}.")
    return int(text)


def page(a: Analysis, number: int | str = 1, size: int | str = 10, district: str = "", role: str = "",
         band: str = "", reasons: bool = True) -> Page:
    """Page ``number`` (from 1) of the filtered people, ``size`` a page. With ``reasons`` each row
    gets ``all_reasons``: every item that adds to the person's severity (``drivers`` keeps the
    strongest three), computed for this page's people only."""
    number, size = _whole_number("page", number), _whole_number("page_size", size)
    table = people(a, district, role, band)
    pages = max(1, math.ceil(len(table) / size))
    if not 1 <= number <= pages:
        raise ParameterError(f"page {number!r} does not exist; there are {pages} page(s) of {size} people.")
    rows = table.iloc[(number - 1) * size: number * size].reset_index(drop=True)
    if reasons and len(rows):
        rows["all_reasons"] = all_reasons(a, rows["person_id"].tolist())
    return Page(rows, number, pages, len(table), size)


# ---- per-person score breakdown -----------------------------------------------------------

def features(a: Analysis, person_ids: list[str] | None = None, model: risk.RiskModel | None = None) -> pd.DataFrame:
    """``risk.person_features`` for these people (everyone when None), computed on the records of
    every case they appear in, because a factor such as 'victim in the same case as the alleged
    perpetrator' depends on the other people in the case."""
    records = _whole(a).records
    if person_ids is not None:
        cases = records.loc[records["person_id"].isin(person_ids), "case_ref"].unique()
        records = records[records["case_ref"].isin(cases)]
    feats = risk.person_features(records, a.incident, model or a.model)
    return feats if person_ids is None else feats.loc[list(person_ids)]


def chosen_person(a: Analysis, person_id: str = "", district: str = "", role: str = "", band: str = "") -> str:
    """The person to explain: ``person_id`` when given, else the highest-priority person
    matching the filters (so the notebook shows someone without a parameter)."""
    if person_id.strip():
        _check_person(a, person_id.strip())
        return person_id.strip()
    table = people(a, district, role, band)
    if table.empty:
        raise ParameterError("no person matches the district, role and band filters; widen them or give person.")
    return str(table["person_id"].iloc[0])


def busiest_district(a: Analysis) -> str:
    """The district with the most cases (ties: the most people), for a drill-down with no district given."""
    t = a.districts[a.districts["lad_code"] != districts.UNASSIGNED]
    if t.empty:
        return UNASSIGNED_NAME
    return str(t.sort_values(["cases", "people"], ascending=False, kind="stable")["district"].iloc[0])


def _check_person(a: Analysis, person_id: str) -> None:
    if person_id not in a.people.index:
        # the value is not repeated: a name typed by mistake must not reach the output
        raise ParameterError("person: the id given is not in this incident (or this district's view); "
                             "copy a person_id (P-...) from the people table.")


@dataclass
class Breakdown:
    """How one person's score is made."""

    person_id: str
    parts: pd.DataFrame  # risk.severity_parts' rows
    severity: float  # the stored score
    likelihood: list[str]
    band: list[str]

    @property
    def total(self) -> float:
        return float(self.parts["severity_points"].sum())

    def __str__(self) -> str:
        return (f"{self.person_id}: severity {self.severity:g} (the parts add up to {self.total:g})\n"
                + self.parts.to_string(index=False) + "\nLikelihood: " + "; ".join(self.likelihood)
                + "\nBand: " + "; ".join(self.band))

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{escape(t)}</li>" for t in self.likelihood)
        bands = "".join(f"<li>{escape(t)}</li>" for t in self.band)
        return (f"<p><strong>{escape(self.person_id)}</strong>: severity {self.severity:g}; "
                f"the severity points below add up to {self.total:g}.</p>" + _html(self.parts)
                + f"<p>Likelihood:</p><ul>{items}</ul><p>Band:</p><ul>{bands}</ul>")


def breakdown(a: Analysis, person_id: str, feats: pd.DataFrame | None = None,
              model: risk.RiskModel | None = None) -> Breakdown:
    """Each field or data category, combination, context, factor, EI rule and circumstance with
    its contribution to this person's severity, then their likelihood and band in words.

    ``feats`` (from ``features``) saves recomputing when explaining many people."""
    _check_person(a, person_id)
    mdl = model or a.model
    feats = feats if feats is not None else features(a, [person_id], mdl)
    row = feats.iloc[[feats.index.get_loc(person_id)]]  # one row, as a frame: iloc is the fast path
    inc_risk = a.incident_risk if model is None and a.incident_risk else risk.incident_risk(a.incident, mdl)
    parts = risk.severity_parts(row, a.incident, mdl, inc_risk)
    person = a.people.loc[person_id]
    return Breakdown(person_id, parts, float(person["severity"]), _likelihood_words(a, row, mdl, inc_risk),
                     _band_words(a, person, mdl))


def _likelihood_words(a: Analysis, row: pd.DataFrame, mdl: risk.RiskModel, inc_risk: risk.IncidentRisk) -> list[str]:
    words = list(inc_risk.likelihood_why)
    level = inc_risk.likelihood
    if bool(row["accessed"].iloc[0]):
        step = mdl.likelihood.record_accessed_step
        words.append(f"this person's case record was accessed ({step:+d})")
        level += step
    level = int(np.clip(level, 1, 5))
    words.append(f"likelihood {level} of 5: {mdl.likelihood.labels[level - 1]}")
    return words


def _band_words(a: Analysis, person: pd.Series, mdl: risk.RiskModel) -> list[str]:
    sb = mdl.severity_bands
    words = [f"severity {person['severity']:g} is {person['severity_band']} severity (Medium from {sb['medium']:g}, "
             f"High from {sb['high']:g}, Very high from {sb['very_high']:g})"]
    matrix_band = mdl.band_matrix[str(person["severity_band"])][int(person["likelihood"]) - 1]
    words.append(f"{person['severity_band']} severity at likelihood {int(person['likelihood'])} is {matrix_band} "
                 "in the model's band matrix")
    if str(person["band"]) != matrix_band:
        words.append(f"raised to {person['band']}: large-scale breach "
                     f"({len(_whole(a).people):,} people, from {mdl.policy.scale.large_scale_people:,})")
    return words


def reasons_text(parts: pd.DataFrame) -> str:
    """Every item that adds to the severity, largest first, in words with its severity points
    (and the identification rule with its multiplier)."""
    rows = []
    for r in parts.itertuples():
        if r.part.startswith("identification"):
            rows.append((math.inf, f"{r.item} (DPC x {r.points:g})"))
        elif r.severity_points:
            words = r.item if r.part.startswith(("circumstance", "limit")) else r.note
            rows.append((abs(r.severity_points), f"{words} ({r.severity_points:+g})"))
    return "; ".join(text for _, text in sorted(rows, key=lambda x: -x[0]))


def all_reasons(a: Analysis, person_ids: list[str]) -> list[str]:
    """``reasons_text`` for each of these people (one feature pass for all of them)."""
    feats = features(a, person_ids)
    return [reasons_text(breakdown(a, pid, feats).parts) for pid in person_ids]


# ---- one person's records side by side ----------------------------------------------------

def _sheets(a: Analysis) -> dict[str, str]:
    return {f["file"]: f["sheet"] for f in a.ingested.files if f.get("sheet")}


def _where(a: Analysis, file: pd.Series, row: pd.Series) -> list[str]:
    """'file.xlsx [Sheet] row 12' per record: the sheet added for a workbook read from one sheet
    (a label read from several sheets carries its sheet already). The label is made once per
    distinct file, since conflicts and links can run to millions of rows."""
    sheets = _sheets(a)
    files = pd.Series(file).astype(str).to_numpy()
    labels = {f: f"{f} [{sheets[f]}]" if f in sheets and "[" not in f else f for f in set(files.tolist())}
    return [f"{labels[f]} row {r}" for f, r in zip(files.tolist(), pd.Series(row).astype(int).tolist(), strict=True)]


@dataclass
class SideBySide:
    """One person's source records as columns, their fields as rows, and the merges that joined them."""

    person_id: str
    records: pd.DataFrame  # field -> one column per record, then "agree"
    links: pd.DataFrame

    def _repr_html_(self) -> str:
        return (f"<p><strong>{escape(self.person_id)}</strong>: {len(self.records.columns) - 1} record(s)</p>"
                + _html(self.records, index=True) + "<p>Why they were merged:</p>" + _html(self.links))


def person_records(a: Analysis, person_id: str) -> pd.DataFrame:
    """Every source row that resolved to this person, in file order."""
    _check_person(a, person_id)
    recs = _whole(a).records
    return recs[recs["person_id"] == person_id].sort_values(["source_file", "source_row"], kind="stable")


def side_by_side(a: Analysis, person_id: str) -> SideBySide:
    """The person's records aligned field by field (fields empty in all of them left out), where
    each came from (file, sheet, row), whether the records agree, and the link evidence."""
    recs = person_records(a, person_id)
    shown = recs.drop(columns=[c for c in _INTERNAL if c in recs.columns])
    shown = shown[[c for c in shown.columns if (shown[c].any() if shown[c].dtype == bool else shown[c].notna().any())]]
    shown = shown.assign(district_placed=districts.name_of(recs["district_code"].astype("string")).replace(
        {districts.UNASSIGNED: UNASSIGNED_NAME}).to_numpy(),
        placed_by=recs["assign_method"].astype(str).map(METHOD_WORDS).fillna(recs["assign_method"].astype(str)).to_numpy())
    for c in shown.columns[(shown.dtypes.astype(str).str.startswith("datetime")).to_numpy()]:
        shown[c] = shown[c].dt.strftime("%Y-%m-%d")  # a date of birth, not a midnight timestamp
    table = shown.astype(object).where(shown.notna(), "").T
    table.columns = _where(a, recs["source_file"], recs["source_row"])
    table.index.name = "field"
    table["agree"] = ["same" if len({str(v) for v in row}) == 1 else "differs" for row in table.to_numpy()]
    return SideBySide(person_id, table, person_links(a, person_id))


def person_links(a: Analysis, person_id: str) -> pd.DataFrame:
    """The merged record pairs of one person, with their match probability and evidence in words."""
    raw = _whole(a).links
    return links(a, raw[raw["person_id"] == person_id] if raw is not None else None)


# ---- conflicts and links in words ---------------------------------------------------------

def _name(codes: pd.Series) -> pd.Series:
    return districts.name_of(codes.astype("string")).replace({districts.UNASSIGNED: UNASSIGNED_NAME})


def conflicts(a: Analysis) -> pd.DataFrame:
    """Records whose placement methods disagree, with district names and the methods in words."""
    c = a.assignment.conflicts
    return pd.DataFrame({
        "record": _where(a, c["source_file"], c["source_row"]),
        "placed in": _name(c["kept"]).to_numpy(), "by": c["kept_method"].astype(str).map(METHOD_WORDS).to_numpy(),
        "not in": _name(c["other"]).to_numpy(), "which": c["other_method"].astype(str).map(METHOD_WORDS).to_numpy(),
    })


def links(a: Analysis, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """restricted/people_links.csv (``a.links``, or the rows of it given) as a reader wants it:
    the person's district by name, each record by file, sheet and row, the match probability
    and the evidence in words."""
    frame = frame if frame is not None else a.links if a.links is not None else pd.DataFrame(
        columns=["person_id", "record_file", "record_row", "other_file", "other_row", "match_probability", "evidence"])
    home = _name(_whole(a).people["district_code"])
    return pd.DataFrame({
        "person_id": frame["person_id"].to_numpy(),
        "district": frame["person_id"].map(home).to_numpy(),
        "record": _where(a, frame["record_file"], frame["record_row"]),
        "other record": _where(a, frame["other_file"], frame["other_row"]),
        "match probability": frame["match_probability"].to_numpy(),
        "evidence": frame["evidence"].to_numpy(),
    })


# ---- district drill-down ------------------------------------------------------------------

@dataclass
class DistrictView:
    name: str
    people: pd.DataFrame
    cases: pd.DataFrame
    map_html: str

    def _repr_html_(self) -> str:
        return (f"<h3>{escape(self.name)}</h3><p>{len(self.people):,} people live here; "
                f"{len(self.cases):,} cases belong here.</p>" + self.map_html
                + "<p>People</p>" + _html(self.people) + "<p>Cases</p>" + _html(self.cases))


def district_view(a: Analysis, district: str) -> DistrictView:
    """One district: the people who live there, the cases that belong to it (with how each was
    placed and how many of its records and people), and the briefing's map with it outlined."""
    whole = _whole(a)
    code = district_code(whole, district)
    scoped = scope(whole, code)
    recs = whole.records[whole.records["case_ref"].isin(scoped.case_district.index)]
    per_case = recs.groupby("case_ref", observed=True).agg(records=("person_id", "size"), people=("person_id", "nunique"))
    cases = pd.DataFrame({"case_ref": scoped.case_district.index.astype(str),
                          "placed by": scoped.case_rule.reindex(scoped.case_district.index).astype(str).to_numpy()})
    cases = cases.join(per_case, on="case_ref").fillna({"records": 0, "people": 0}).astype({"records": int, "people": int})
    if code == districts.UNASSIGNED:  # no shape to outline: the whole map, and say so
        name, drawn = UNASSIGNED_NAME, district_map(whole) + "<p>People and cases with no district have no shape on the map.</p>"
    else:
        name, drawn = scoped.scope_name or code, district_map(scoped)
    return DistrictView(name, people(scoped), cases.sort_values("case_ref", ignore_index=True), drawn)


# ---- model comparison ---------------------------------------------------------------------

@dataclass
class Comparison:
    """Two model files on the same people: the band moves and who moved, with the reasons."""

    model_a: str
    model_b: str
    moves: pd.DataFrame  # band under A (rows) by band under B (columns), counts
    moved: pd.DataFrame  # one row per person whose band changed
    notes: list[str] = field(default_factory=list)

    def _repr_html_(self) -> str:
        head = (f"<p>A: {escape(self.model_a)}<br>B: {escape(self.model_b)}<br>{len(self.moved):,} people change "
                "band.</p>" + "".join(f"<p>{escape(n)}</p>" for n in self.notes))
        return head + _html(self.moves, index=True) + _html(self.moved)


def _label(mdl: risk.RiskModel) -> str:
    return f"{mdl.model_version} ({mdl.source})" if mdl.source else mdl.model_version


def _changes(a_parts: pd.DataFrame, b_parts: pd.DataFrame) -> str:
    """The breakdown items whose points differ between two models, in words."""
    def keyed(parts: pd.DataFrame) -> dict[tuple[str, str], tuple[float, float]]:
        return {(r.part, r.item): (r.points, r.severity_points) for r in parts.itertuples()}

    before, after = keyed(a_parts), keyed(b_parts)
    out = []
    for key in list(before) + [k for k in after if k not in before]:
        x, y = before.get(key), after.get(key)
        if x == y:
            continue
        part, item = key
        if x is None:
            out.append(f"now {item} ({part}: {y[0]:g})")
        elif y is None:
            out.append(f"no longer {item} ({part}: {x[0]:g})")
        else:
            out.append(f"{item} ({part}): {x[0]:g} -> {y[0]:g}, severity points {x[1]:+g} -> {y[1]:+g}")
    return "; ".join(out)


def compare_models(a: Analysis, model_b: str | Path, model_a: str | Path | None = None, limit: int = 1000) -> Comparison:
    """Score the same people under two model files (A: the analysis's model unless given) and
    show who changes band: a table of counts (band under A by band under B) and, for each person
    who moved (the first ``limit``, highest priority first), both bands, severities,
    likelihoods, the reasons under each model and what changed between them."""
    for name, path in (("model_b", model_b), ("model_a", model_a)):
        if path is not None and not Path(path).is_file():
            raise ParameterError(f"{name}: {path} is not a file; give a risk model YAML.")
    whole = _whole(a)
    mdl_a = risk.load_model(model_a) if model_a else a.model
    mdl_b = risk.load_model(model_b)
    scored = {}
    for key, mdl in (("a", mdl_a), ("b", mdl_b)):
        s = risk.score(whole.records, a.incident, mdl, risk.incident_risk(a.incident, mdl))
        scored[key] = s.reindex(a.people.index)  # the view's people, highest priority first
    band_a, band_b = scored["a"]["band"].astype(str), scored["b"]["band"].astype(str)
    moves = pd.crosstab(pd.Categorical(band_a, BANDS), pd.Categorical(band_b, BANDS), dropna=False,
                        rownames=["band under A"], colnames=["band under B"])
    moved_ids = band_a.index[(band_a != band_b).to_numpy()]
    notes = []
    if len(moved_ids) > limit:
        notes.append(f"{len(moved_ids):,} people moved; the first {limit:,} by priority are listed.")
        moved_ids = moved_ids[:limit]
    ids = list(moved_ids)
    feats_a = features(a, ids, mdl_a) if ids else None
    feats_b = features(a, ids, mdl_b) if ids else None
    rows = []
    for pid in ids:
        pa = breakdown(a, pid, feats_a, mdl_a).parts
        pb = breakdown(a, pid, feats_b, mdl_b).parts
        sa, sb = scored["a"].loc[pid], scored["b"].loc[pid]
        what = _changes(pa, pb)
        if sa["likelihood"] != sb["likelihood"]:
            what = "; ".join(x for x in (what, f"likelihood {sa['likelihood']} -> {sb['likelihood']}") if x)
        if not what:
            what = (f"same severity ({sa['severity']:g}, {sa['severity_band']}) and likelihood: the band thresholds or "
                    "band matrix differ")
        rows.append({"person_id": pid, "district": a.people.at[pid, "district"], "roles": a.people.at[pid, "roles"],
                     "band A": str(sa["band"]), "band B": str(sb["band"]),
                     "severity A": sa["severity"], "severity B": sb["severity"],
                     "likelihood A": int(sa["likelihood"]), "likelihood B": int(sb["likelihood"]),
                     "what changed": what, "reasons under A": reasons_text(pa), "reasons under B": reasons_text(pb)})
    columns = ["person_id", "district", "roles", "band A", "band B", "severity A", "severity B", "likelihood A",
               "likelihood B", "what changed", "reasons under A", "reasons under B"]
    return Comparison(_label(mdl_a), _label(mdl_b), moves, pd.DataFrame(rows, columns=columns), notes)
