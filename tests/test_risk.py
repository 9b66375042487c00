"""The risk model: every rule, ENISA and EDPB calibration, monotonicity, decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
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
    assert d.deadline_words == "2 days 1 hour left"


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


# --- issue 14: day-one facts, categories, identification, telling people, reasons ---------------

from tests.calibration.build import write_case  # noqa: E402
from tests.calibration.cases import Case, people  # noqa: E402


def _case(tmp_path, rows, exposure=None, **kw):
    exposure = exposure or {"channel": "public_web", "recipients": "public", "duration_hours": 24}
    return analyse(write_case(Case("t", "test", "test", None, None, rows, exposure, **kw), tmp_path))


def test_durations_in_words():
    from riskkit.risk import exposure_words
    assert [exposure_words(h) for h in (1, 2 + 1 / 3, 0.5, 36, 120, "ongoing")] == [
        "1 hour", "2 hours 20 minutes", "30 minutes", "36 hours", "5 days", "ongoing"]


def test_unknowns_are_scored_cautiously_and_said(tmp_path):
    base = {"channel": "email", "recipients": "known", "duration_hours": 2}
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    known = _case(tmp_path / "a", people(2, "full_name", "email"), {**base, "evidence_of_access": "none"})
    unknown = _case(tmp_path / "b", people(2, "full_name", "email"), {**base, "duration_hours": "unknown"})
    assert unknown.incident_risk.likelihood == known.incident_risk.likelihood + 2
    assert unknown.decisions.unknowns == ["access unknown: assumed possible (+1)",
                                          "duration unknown: assumed longer than 3 days"]
    assert known.decisions.unknowns == []


def test_category_column_scores_what_it_exposes(tmp_path):
    rows = [dict(r, Notes="x") for r in people(2, "full_name", "address")]
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    health = _case(tmp_path / "a", rows, categories={"Notes": "health"})
    assert (health.people["dpc"] == 4).all() and "health data" in health.people["drivers"].iloc[0]
    lowered = _case(tmp_path / "b", rows, categories={"Notes": {"category": "health", "adjust": -3,
                                                                "reason": "a food intolerance"}})
    assert (lowered.people["dpc"] == 1).all()


def test_unknown_category_context_or_threat_is_one_line_before_reading(tmp_path):
    from riskkit.errors import IncidentError
    rows = [dict(r, Notes="x") for r in people(1, "full_name")]
    for kw, words in (({"categories": {"Notes": "medical"}}, "categories['Notes'] is 'medical'"),
                      ({"incident": {"data_context": ["nope"]}}, "data_context 'nope'"),
                      ({"incident": {"threat_context": ["nope"]}}, "threat_context 'nope'")):
        folder = tmp_path / words[:4]
        folder.mkdir()
        path = write_case(Case("t", "t", "t", None, None, rows, {"channel": "email", "recipients": "known"}, **kw),
                          folder)
        (folder / "extract.csv").unlink()  # the check comes before any extract is read
        with pytest.raises(IncidentError, match=words.replace("[", r"\[")) as err:
            analyse(path)
        assert "\n" not in str(err.value)


def test_adjustment_without_reason_is_refused(tmp_path):
    from riskkit.errors import IncidentError
    rows = [dict(r, Notes="x") for r in people(1, "full_name")]
    path = write_case(Case("t", "t", "t", None, None, rows, {"channel": "email", "recipients": "known"},
                           categories={"Notes": {"category": "health", "adjust": -2}}), tmp_path)
    with pytest.raises(IncidentError, match="every adjustment needs a written reason"):
        analyse(path)


def test_name_with_role_or_workplace_identifies_fully(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    alone = _case(tmp_path / "a", people(2, "full_name"))
    with_role = _case(tmp_path / "b", people(2, "full_name", "job_title"))
    assert (alone.people["ei"] == 0.5).all() and (with_role.people["ei"] == 1.0).all()


def test_scoring_without_a_name_uses_the_other_identifiers(asb_analysis):
    """A name-less extract (accepted once intake relaxes the validator) still scores: email alone is reachable."""
    from riskkit.risk import score
    recs = asb_analysis.records.copy()
    recs["full_name"] = pd.NA
    recs["address"] = pd.NA
    recs[["lat", "lon", "easting"]] = np.nan
    recs[["postcode", "phone"]] = pd.NA
    recs["date_of_birth"] = pd.NaT
    recs["email"] = "someone@example.org"
    out = score(recs, asb_analysis.incident, asb_analysis.model)
    assert (out["ei"] == 0.5).all()


def test_encrypted_copy_needs_no_one_told(tmp_path):
    exposure = {"channel": "stolen_device", "recipients": "unknown", "malicious": True,
                "encrypted": {"state_of_the_art": True, "key_compromised": False}}
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    rows = [dict(r, Notes="x") for r in people(3, "full_name", "address")]
    safe = _case(tmp_path / "a", rows, exposure, categories={"Notes": "health"})
    broken = _case(tmp_path / "b", rows, {**exposure, "encrypted": {"state_of_the_art": True, "key_compromised": True}},
                   categories={"Notes": "health"})
    assert (safe.people["ei"] == 0.25).all() and safe.decisions.required == 0
    assert broken.decisions.required == 3 and broken.decisions.notify


def test_tell_required_recommended_not_needed_with_reasons(asb_analysis, staff_analysis):
    asb = asb_analysis.people
    required = asb[asb["tell"] == "required"]
    assert (required["band_rank"] >= BANDS.index("High")).all()
    assert required["tell_reason"].astype(str).str.startswith("high risk to this person").all()
    staff = staff_analysis.people
    assert (staff["tell"] == "recommended").all() and staff["tell_reason"].astype(str).str.contains("employees").all()
    s = summary(staff_analysis)
    assert s["communicate"] == {"required": 0, "recommended": 1020, "channels": {"letter": 1020},
                                "reason": staff_analysis.decisions.communicate_reason}


def test_reasons_name_the_deciding_group(staff_analysis):
    reason = staff_analysis.decisions.reason
    assert "3 people at Medium (covert or sensitive role)" in reason and "highest individual risk" not in reason


def test_register_deadline_reads_the_model_and_old_registers_keep_72_hours():
    from riskkit.register import Event, state
    aware = datetime(2026, 10, 9, 10, 30, tzinfo=UTC)

    def event(payload):
        return Event(seq=1, incident_id="i", kind="assessment", payload={"became_aware": aware.isoformat(), **payload},
                     actor="a", recorded_at="", prev_hash="", hash="")
    assert state([event({})]).deadline == aware + timedelta(hours=72)
    assert state([event({"deadline_hours": 96})]).deadline == aware + timedelta(hours=96)


def test_register_records_the_model_version_and_deadline_hours(staff_analysis):
    from riskkit.register import assessment_payload
    payload = assessment_payload(summary(staff_analysis), staff_analysis.incident, None)
    assert payload["model_version"] == staff_analysis.model.model_version == "riskkit-default-2.0.0"
    assert payload["deadline_hours"] == staff_analysis.model.policy.regulator.deadline_hours
    assert payload["communicate"]["recommended"] == 1020
    assert summary(staff_analysis)["regulator"]["regulator"] == staff_analysis.model.policy.regulator.name


def test_tell_everyone_reason_names_the_data_by_the_model_files_label(asb_analysis, tmp_path):
    """The reason for telling everyone names the data in the model file's words, so an analyst
    who adds a context (or rewords one) changes the sentence without touching code."""
    import yaml

    from riskkit.decisions import recommend_all_because
    from riskkit.paths import DEFAULT_MODEL

    inc = asb_analysis.incident
    assert "a police anti-social behaviour case list" in recommend_all_because(inc, load_model())
    model = yaml.safe_load(DEFAULT_MODEL.read_text())
    model["context_factors"]["police_asb_case"]["label"] = "the force's nuisance log"
    (tmp_path / "reworded.yml").write_text(yaml.safe_dump(model))
    reworded = recommend_all_because(inc, load_model(tmp_path / "reworded.yml"))
    assert "involves the force's nuisance log" in reworded and "anti-social" not in reworded
    del model["context_factors"]["police_asb_case"]["label"]
    (tmp_path / "unlabelled.yml").write_text(yaml.safe_dump(model))
    assert "involves police asb case" in recommend_all_because(inc, load_model(tmp_path / "unlabelled.yml"))
