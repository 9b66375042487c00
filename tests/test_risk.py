"""The risk model: every rule, ENISA and EDPB calibration, monotonicity, decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskkit.analysis import analyse, summary
from riskkit.errors import ModelError
from riskkit.risk import BANDS, load_model
from tests.conftest import write_incident

NAME_ADDR = {"case_ref": "Case", "full_name": "Name", "address": "Address", "postcode": "Postcode", "district": "District"}


def _one(tmp_path, extra_cols=None, values=None, context=None, **kw):
    cols = dict(NAME_ADDR, **(extra_cols or {}))
    base = {"Case": "C1", "Name": "Ann Example", "Address": "1 High St", "Postcode": "HP1 1AA", "District": "Dacorum"}
    a = analyse(write_incident(tmp_path, [dict(base, **(values or {}))], columns=cols, context=context, **kw))
    return a, a.people.iloc[0]


def test_enisa_calibration_examples(tmp_path):
    """ENISA 2013's worked DPC examples, with their controller contexts."""
    expected = {None: 1, "financial_services_customer": 2, "sexual_life_inference": 3,
                "criminal_allegation": 4, "covert_police_role": 4}
    for context, dpc in expected.items():
        folder = tmp_path / str(context)
        folder.mkdir()
        _, person = _one(folder, context=[context] if context else None)
        assert person["dpc"] == dpc, context
        assert person["ei"] == 1.0  # name with postal address


def test_circumstances_and_severity_formula(tmp_path):
    _, p = _one(tmp_path, channel="email", recipients="known", hours=1)
    assert p["cb"] == 0.25 and p["severity"] == pytest.approx(p["dpc"] * p["ei"] + 0.25)
    (tmp_path / "b").mkdir()
    _, q = _one(tmp_path / "b", channel="public_web", recipients="public")
    assert q["cb"] == 0.5


@pytest.mark.parametrize("marker,factor", [("Vulnerable adult", "vulnerable_adult"), ("Child", "child"),
                                           ("Repeat victim", "repeat_victim"), ("Hate related", "hate_related"),
                                           ("Domestic abuse", "domestic_abuse")])
def test_each_marker_raises_dpc_with_its_reason(tmp_path, marker, factor):
    _, plain = _one(tmp_path / "a" if (tmp_path / "a").mkdir() is None else None)
    (tmp_path / "b").mkdir()
    _, marked = _one(tmp_path / "b", {"markers": "Markers"}, {"Markers": marker})
    model = load_model()
    assert marked["dpc"] == min(4, plain["dpc"] + model.individual_factors[factor].adjust)
    assert model.individual_factors[factor].reason in marked["drivers"]


def test_victim_in_case_with_alleged_perpetrator_faces_retaliation(tmp_path):
    cols = dict(NAME_ADDR, role="Role")
    people = [("C1", "Victim", "Ann Example", "HP1 1AA"), ("C1", "Alleged perpetrator", "Bob Example", "HP1 1AB"),
              ("C2", "Victim", "Cy Other", "HP1 1AD")]
    rows = [{"Case": c, "Role": r, "Name": n, "Address": "1 High St", "Postcode": pc, "District": "Dacorum"}
            for c, r, n, pc in people]
    a = analyse(write_incident(tmp_path, rows, columns=cols))
    ppl = a.people.set_index(a.people.roles + a.people.cases.astype(str))
    victims = a.people[a.people.roles == "victim"].sort_values("dpc")
    assert victims["factor_victim_with_perpetrator"].tolist() == [False, True]
    assert victims["dpc"].tolist()[1] == victims["dpc"].tolist()[0] + 1
    assert "same case as the alleged perpetrator" in victims["drivers"].iloc[1]
    assert len(ppl) == 3


def test_sensitive_staff_role_and_sickness_flag(tmp_path):
    _, p = _one(tmp_path, {"sickness_absence": "Sick", "sensitive_role": "Covert"}, {"Sick": "Y", "Covert": "Y"})
    assert p["dpc"] == 4 and "covert or sensitive role" in p["drivers"]


def test_likelihood_scale_from_recipients_and_containment(tmp_path):
    a, p = _one(tmp_path, channel="file_transfer", recipients="trusted_contract", hours=10, deleted=True)
    assert p["likelihood_label"] == "very unlikely"
    (tmp_path / "b").mkdir()
    _, q = _one(tmp_path / "b", channel="public_web", recipients="public", hours=120, evidence="misused")
    assert q["likelihood_label"] == "very likely"


def test_edpb_trusted_recipient_confirms_deletion_is_record_only(tmp_path):
    """EDPB 01/2021: data sent by mistake to a trusted recipient who confirms deletion."""
    a, _ = _one(tmp_path, channel="email", recipients="trusted_contract", hours=2, deleted=True)
    assert not a.decisions.notify and a.decisions.communicate_count == 0
    assert "unlikely to result in a risk" in a.decisions.reason


def test_edpb_identifiers_emailed_to_wrong_recipients_notify_and_tell(tmp_path):
    """EDPB 01/2021: social security numbers of many job-seekers emailed to the wrong recipients."""
    cols = {"case_ref": "Case", "full_name": "Name", "ni_number": "NI", "email": "Email"}
    rows = [{"Case": f"J{i}", "Name": f"Person {'ABCDE'[i]}lpha", "NI": f"QQ12345{i}C", "Email": f"p{i}@example.org"}
            for i in range(5)]
    a = analyse(write_incident(tmp_path, rows, columns=cols, channel="email", recipients="known", hours=48,
                               context=["job_seekers"]))
    assert a.decisions.notify and a.decisions.communicate_count == 5


def test_sample_outcomes(asb_analysis, staff_analysis):
    asb = summary(asb_analysis)
    assert asb["regulator"]["notify"] and asb["regulator"]["law"] == "DPA 2018 s.67"
    vulnerable = asb_analysis.people[asb_analysis.people["factor_vulnerable_adult"]]
    assert len(vulnerable) > 0 and (vulnerable["band"] == "Very high").all()
    assert asb_analysis.decisions.restriction_prompt and "s.68(7)" in asb_analysis.decisions.restriction_prompt
    assert set(staff_analysis.people["likelihood_label"]) == {"very unlikely"}
    assert staff_analysis.decisions.reason and staff_analysis.decisions.law == "UK GDPR Art. 33"


def test_deadline_is_72_hours_continuous(asb_analysis):
    d = asb_analysis.decisions
    aware = asb_analysis.incident.timestamps.became_aware
    assert d.deadline == aware + timedelta(hours=72)
    assert d.hours_left == pytest.approx((d.deadline - datetime(2026, 10, 10, 8, 0, tzinfo=UTC)).total_seconds() / 3600)
    assert d.deadline_words == "49 hours 30 minutes left"


def test_model_schema_errors(tmp_path):
    bad = tmp_path / "model.yml"
    bad.write_text(load_model().source.read_text().replace("salary_band: {category: financial, adjust: -1, reason:",
                                                            "salary_band: {category: money, adjust: -1, reason:"))
    with pytest.raises(ModelError, match="fields.salary_band.category"):
        load_model(bad)


RECIPIENTS = ["trusted_contract", "known", "unknown", "public"]
MARKERS = ["Vulnerable adult", "Child", "Repeat victim", "Hate related", "Domestic abuse"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.sets(st.sampled_from(["address", "date_of_birth", "phone", "salary_band"])),
       extra=st.sampled_from(["address", "date_of_birth", "phone", "salary_band", "markers"]),
       marker=st.sampled_from(MARKERS), recipients=st.integers(0, 2))
def test_property_more_exposure_never_lowers_score(tmp_path_factory, fields, extra, marker, recipients):
    values = {"address": "1 High St", "date_of_birth": "01/02/1980", "phone": "07700900123",
              "salary_band": "Band C", "markers": marker}

    def run(flds, rec):
        cols = {"case_ref": "Case", "full_name": "Name", **{f: f for f in flds}}
        row = {"Case": "C1", "Name": "Ann Example", **{f: values[f] for f in flds}}
        a = analyse(write_incident(tmp_path_factory.mktemp("m"), [row], columns=cols, recipients=rec))
        p = a.people.iloc[0]
        assert 0.25 <= p["severity"] <= 6.0
        return p["severity"], BANDS.index(p["band"]), p["likelihood"]

    base = run(fields, RECIPIENTS[recipients])
    assert base == run(fields, RECIPIENTS[recipients])  # deterministic
    more = run(fields | {extra}, RECIPIENTS[recipients])
    wider = run(fields, RECIPIENTS[recipients + 1])
    for bigger in (more, wider):
        assert bigger[0] >= base[0] and bigger[1] >= base[1] and bigger[2] >= base[2]


def test_chunked_features_equal_one_pass(asb_analysis, monkeypatch):
    """Scoring in chunks of records (for large extracts) gives exactly the one-pass answer."""
    from riskkit import risk

    whole = risk.score(asb_analysis.records, asb_analysis.incident, asb_analysis.model)
    monkeypatch.setattr(risk, "FEATURE_CHUNK", 7)
    chunked = risk.score(asb_analysis.records, asb_analysis.incident, asb_analysis.model)
    assert whole.sort_index().equals(chunked.sort_index())
