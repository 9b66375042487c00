"""The explore notebook's views (riskkit.report.explore) on both samples: paging, filters, the score
breakdown, one person's records side by side, the district drill-down, conflicts and links in
words, and the comparison of two model files."""

from __future__ import annotations

import re
from html import unescape

import pandas as pd
import pytest
import yaml

from riskkit import risk
from riskkit.errors import ParameterError
from riskkit.report import explore

ONS_CODE = re.compile(r"\b[EWSN]\d{8}\b")


@pytest.fixture(params=["asb", "staff"])
def analysis(request, asb_analysis, staff_analysis):
    return asb_analysis if request.param == "asb" else staff_analysis


# ---- paging and filters -------------------------------------------------------------------

@pytest.mark.parametrize("size", [7, 100])
def test_paging_covers_everyone_exactly_once(analysis, size):
    first = explore.page(analysis, 1, size, reasons=False)
    assert str(first).startswith(f"page 1 of {first.pages} ")
    seen = [pid for n in range(1, first.pages + 1)
            for pid in explore.page(analysis, n, size, reasons=False).table["person_id"]]
    assert len(seen) == len(set(seen)) == first.total == len(analysis.people)
    assert set(seen) == set(analysis.people.index)
    assert seen == list(analysis.people.index)  # highest priority first, page after page
    last = explore.page(analysis, first.pages, size, reasons=False)
    assert 1 <= len(last.table) <= size
    with pytest.raises(ParameterError, match=f"there are {first.pages} page"):
        explore.page(analysis, first.pages + 1, size)


def test_asb_has_thirteen_pages_of_ten(asb_analysis):
    assert str(explore.page(asb_analysis, 1, 10, reasons=False)) == "page 1 of 13 (people 1-10 of 130)"


def test_page_reasons_are_full_and_name_every_contribution(asb_analysis):
    table = explore.page(asb_analysis, 1, 20).table
    assert table["all_reasons"].str.len().max() > 50  # the old view cut the text at 50 characters
    for pid, text in zip(table["person_id"], table["all_reasons"], strict=True):
        parts = explore.breakdown(asb_analysis, pid).parts
        for note in parts.loc[parts["part"].str.startswith("individual") & (parts["severity_points"] != 0), "note"]:
            assert note in text
        assert "disclosed to the public" in text
    html = explore.page(asb_analysis, 1, 20)._repr_html_()
    assert table["all_reasons"].iloc[0] in unescape(html)  # not cut in the notebook either


def test_unassigned_is_a_district_filter(analysis):
    unassigned = analysis.people["district_code"].astype(str) == "unassigned"
    table = explore.people(analysis, district="Unassigned")
    assert set(table["person_id"]) == set(analysis.people.index[unassigned.to_numpy()])
    assert len(table) == int(unassigned.sum()) > 0
    assert explore.page(analysis, 1, 5, district="unassigned", reasons=False).total == len(table)


def test_district_by_name_or_code_and_unknown_is_an_error(asb_analysis):
    by_name = explore.people(asb_analysis, district="Dacorum")
    assert len(by_name) and set(by_name["district"]) == {"Dacorum"}
    assert by_name.equals(explore.people(asb_analysis, district="E07000096"))
    with pytest.raises(ParameterError, match="use one of: .*Unassigned") as err:
        explore.people(asb_analysis, district="Dacorm")
    assert "\n" not in str(err.value)


def test_role_and_band_filters(asb_analysis):
    perps = explore.people(asb_analysis, role="alleged perpetrator")
    assert len(perps) and perps["roles"].str.contains("alleged_perpetrator").all()
    assert perps.equals(explore.people(asb_analysis, role="alleged_perpetrator"))
    high = explore.people(asb_analysis, band="very HIGH")
    assert len(high) == int((asb_analysis.people["band"] == "Very high").sum()) > 0
    combined = explore.people(asb_analysis, district="Dacorum", role="victim", band="Very high")
    assert set(combined["district"]) <= {"Dacorum"} and combined["roles"].str.contains("victim").all()
    with pytest.raises(ParameterError, match="role 'vicitm'"):
        explore.people(asb_analysis, role="vicitm")
    with pytest.raises(ParameterError, match="not one of Low"):
        explore.people(asb_analysis, band="Severe")


# ---- the score breakdown ------------------------------------------------------------------

def test_breakdown_adds_up_to_every_persons_stored_score(analysis):
    feats = explore.features(analysis)
    for pid in analysis.people.index:
        b = explore.breakdown(analysis, pid, feats)
        assert round(b.total, 3) == b.severity == analysis.people.at[pid, "severity"], pid
        ei = b.parts[b.parts["part"].str.startswith("identification")]
        assert len(ei) == 1 and ei["points"].iloc[0] == analysis.people.at[pid, "ei"]


def test_breakdown_of_one_person_uses_their_cases(asb_analysis):
    """Computed from the person's cases alone (not the whole extract), it still sees the
    alleged perpetrator in a victim's case and still adds up."""
    a = asb_analysis
    victims = a.people.index[a.people["factor_victim_with_perpetrator"].to_numpy()]
    assert len(victims)
    for pid in list(victims[:10]) + list(a.people.index[-10:]):
        b = explore.breakdown(a, pid)
        assert round(b.total, 3) == b.severity
    parts = explore.breakdown(a, victims[0]).parts
    assert "victim with perpetrator" in set(parts["item"])


def test_breakdown_of_a_limited_dpc_says_so(asb_analysis):
    a = asb_analysis
    raw_over = a.people.index[(a.people["factor_hate_related"] | a.people["factor_domestic_abuse"]).to_numpy()]
    assert len(raw_over)
    parts = explore.breakdown(a, raw_over[0]).parts
    assert (parts["part"] == "limit (DPC)").any()


def test_breakdown_words_for_likelihood_and_band(staff_analysis):
    a = staff_analysis
    pid = a.people.index[0]
    b = explore.breakdown(a, pid)
    assert b.likelihood[-1].startswith(f"likelihood {a.people.at[pid, 'likelihood']} of 5")
    assert str(a.people.at[pid, "band"]) in b.band[1]
    with pytest.raises(ParameterError, match="is not in this incident") as err:
        explore.breakdown(a, "Jane Example")
    assert "Jane" not in str(err.value)


def test_band_raised_for_a_large_scale_breach_is_said(staff_analysis, tmp_path):
    from riskkit.analysis import analyse
    from tests.conftest import STAFF

    def change(d):
        d["policy"]["scale"] = {"large_scale_people": 1000, "band_step": 1}

    a = analyse(STAFF, model=_modified(staff_analysis, tmp_path, change))
    pid = a.people.index[-1]
    b = explore.breakdown(a, pid)
    assert round(b.total, 3) == b.severity
    assert str(a.people.at[pid, "band"]) != staff_analysis.people.at[pid, "band"]
    assert f"large-scale breach ({len(a.people):,} people, from 1,000)" in b.band[-1]


def test_severity_parts_wants_one_person(asb_analysis):
    feats = explore.features(asb_analysis)
    with pytest.raises(ValueError, match="one person"):
        risk.severity_parts(feats.iloc[:2], asb_analysis.incident, asb_analysis.model)


# ---- one person's records side by side ----------------------------------------------------

def test_side_by_side_columns_are_the_persons_records(analysis):
    a = analysis
    several = a.people.index[(a.people["records"] > 1).to_numpy()]
    assert len(several)
    for pid in several:
        view = explore.side_by_side(a, pid)
        recs = a.records[a.records["person_id"] == pid].sort_values(["source_file", "source_row"])
        columns = [c for c in view.records.columns if c != "agree"]
        assert len(columns) == len(recs) == a.people.at[pid, "records"]
        assert all(f"row {r}" in col for col, r in zip(columns, recs["source_row"], strict=True))
        for field in ("full_name", "role", "case_ref", "postcode"):
            if field in view.records.index:
                expected = recs[field].astype(object).where(recs[field].notna(), "").tolist()
                assert view.records.loc[field, columns].tolist() == expected, (pid, field)
        # each merge of this person is listed, and names only this person's records
        assert len(view.links) == int((a.links["person_id"] == pid).sum())
        assert set(view.links["record"]) | set(view.links["other record"]) <= set(columns)


def test_side_by_side_names_the_sheet_of_a_workbook(staff_analysis):
    a = staff_analysis
    in_workbook = a.records.loc[a.records["source_file"].astype(str).str.endswith(".xlsx"), "person_id"]
    view = explore.side_by_side(a, in_workbook.iloc[0])
    assert any("[Export] row" in c for c in view.records.columns)


# ---- district drill-down, conflicts and links ---------------------------------------------

def test_district_view_has_its_people_cases_and_map(asb_analysis):
    view = explore.district_view(asb_analysis, "Dacorum")
    assert view.name == "Dacorum" and len(view.cases) == 9  # the sample's 9 cases in Dacorum
    assert set(view.people["district"]) == {"Dacorum"}
    assert len(view.people) == int((asb_analysis.people["district"] == "Dacorum").sum())
    assert view.cases["records"].sum() >= len(view.cases)
    assert view.map_html.startswith("<img") and "Dacorum" in view._repr_html_()
    unassigned = explore.district_view(asb_analysis, "Unassigned")
    assert unassigned.name == "Unassigned" and "<img" in unassigned.map_html


def test_conflicts_and_links_in_names_and_words(analysis):
    a = analysis
    conflicts = explore.conflicts(a)
    links = explore.links(a)
    assert len(conflicts) == len(a.assignment.conflicts) and len(links) == len(a.links)
    for frame in (conflicts, links):
        text = frame.astype(str).to_string()
        assert not ONS_CODE.search(text)
        assert "district_name" not in text and "unassigned" not in text
    if len(conflicts):
        assert set(conflicts["by"]) <= set(explore.METHOD_WORDS.values())
    assert links["evidence"].str.contains("same|different|one").all()


# ---- comparing two model files ------------------------------------------------------------

def _modified(analysis, tmp_path, change) -> str:
    data = yaml.safe_load(analysis.model.source.read_text())
    change(data)
    data["model_version"] = "test-modified"
    path = tmp_path / "model.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def test_same_model_moves_nobody(analysis):
    c = explore.compare_models(analysis, analysis.model.source)
    assert c.moved.empty
    bands = analysis.people["band"].astype(str).value_counts()
    for band in risk.BANDS:
        assert c.moves.loc[band, band] == bands.get(band, 0)
    assert int(c.moves.to_numpy().sum()) == len(analysis.people)


def test_band_matrix_change_moves_exactly_those_people(analysis, tmp_path):
    a = analysis
    severity_band, likelihood = "Very high", 4 if len(a.people) < 500 else None
    people = a.people
    if likelihood is None:  # staff: the few Very high severity people, at whatever likelihood they have
        likelihood = int(people.loc[people["severity_band"] == severity_band, "likelihood"].iloc[0])
    old = a.model.band_matrix[severity_band][likelihood - 1]
    new = "Low" if old != "Low" else "High"

    def change(d):
        d["band_matrix"][severity_band][likelihood - 1] = new

    c = explore.compare_models(a, _modified(a, tmp_path, change))
    cell = (people["severity_band"] == severity_band) & (people["likelihood"] == likelihood) & (people["band"] != new)
    expected = set(people.index[cell.to_numpy()])
    assert expected and set(c.moved["person_id"]) == expected
    assert (c.moved["band B"] == new).all()
    assert c.moved["what changed"].str.contains("band matrix").all()
    assert c.moves.loc[old, new] == len(expected)
    assert "test-modified" in c.model_b


def test_factor_change_moves_only_people_with_that_factor(asb_analysis, tmp_path):
    a = asb_analysis

    def change(d):
        d["individual_factors"]["alleged_perpetrator"]["adjust"] = 0
        d["context_factors"]["police_asb_case"]["adjust"] = 0

    c = explore.compare_models(a, _modified(a, tmp_path, change))
    assert len(c.moved)
    perps = set(a.people.index[a.people["factor_alleged_perpetrator"].to_numpy()])
    assert set(c.moved["person_id"]) <= set(a.people.index)
    assert not c.moved["what changed"].str.contains("band matrix").any()
    moved_perps = c.moved[c.moved["person_id"].isin(perps)]
    assert len(moved_perps) and moved_perps["what changed"].str.contains("alleged perpetrator").all()
    assert c.moved["what changed"].str.contains("police asb case").all()
    assert (pd.Series(c.moved["severity B"]) < pd.Series(c.moved["severity A"])).all()


def test_compare_models_names_a_missing_file(asb_analysis, tmp_path):
    with pytest.raises(ParameterError, match="model_b: .* is not a file"):
        explore.compare_models(asb_analysis, tmp_path / "nope.yml")


# ---- the notebook -------------------------------------------------------------------------

@pytest.mark.slow
def test_notebook_runs_with_parameters(asb_analysis, tmp_path):
    """The explore notebook under papermill: the page asked for, one district's people, the
    person's breakdown and records, the drill-down and a model comparison all run and show."""
    import papermill as pm

    from tests.conftest import ASB, ROOT

    def change(d):
        d["individual_factors"]["victim_with_perpetrator"]["adjust"] = 0

    other = _modified(asb_analysis, tmp_path, change)
    out = tmp_path / "explore.ipynb"
    pm.execute_notebook(str(ROOT / "notebooks" / "explore.ipynb"), str(out), cwd=str(ROOT / "notebooks"),
                        parameters={"incident": str(ASB), "page": "2", "page_size": "10", "district": "Dacorum",
                                    "compare_model": other},
                        progress_bar=False, kernel_name="python3")
    text = out.read_text()
    in_dacorum = int((asb_analysis.people["district"] == "Dacorum").sum())
    assert f"page 2 of 2 (people 11-{in_dacorum} of {in_dacorum})" in text
    assert "the severity points below add up to" in text and "Why they were merged" in text
    assert "Dacorum</h3>" in text and "data:image/png;base64," in text
    assert "victim with perpetrator (individual factor (DPC)): 1 -&gt; 0" in text
