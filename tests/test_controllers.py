"""Several controllers in one breach (issue 16 item 3): each controller's figures reconcile with
the whole, a person in two controllers' files counts once overall and once in each, and every
controller gets its own decision, briefing row, register events and ICO report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from riskkit import controllers
from riskkit.analysis import analyse, summary
from riskkit.errors import ExtractError, IncidentError, ParameterError
from riskkit.incident import load_incident
from tests.conftest import STAFF

FORCES = {"Hertfordshire Constabulary": ["Herts"], "Bedfordshire Police": [], "Cambridgeshire Constabulary": ["CAMBS"]}
SPELLINGS = ["Hertfordshire Constabulary", "Bedfordshire Police", "CAMBS", "Herts"]  # as an export writes them
COPIES = 4  # rows repeated under a second force: people in two controllers' files


def _staff_incident(folder: Path, files: list[dict], listed: bool = True) -> Path:
    spec = yaml.safe_load(STAFF.read_text())
    spec["files"] = files
    spec["postcode_lookup"]["path"] = str(STAFF.parent / "postcode_lookup.csv")
    if listed:
        spec["controllers"] = [{"name": n, "values": v, "contact": "the force's data protection office"}
                               for n, v in FORCES.items()]
        spec["controllers"][1]["regime"] = "dpa2018_part3"  # Bedfordshire's own regime
    path = folder / "incident.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _herts_columns() -> dict[str, str]:
    return dict(yaml.safe_load(STAFF.read_text())["files"][0]["columns"])


@pytest.fixture(scope="module")
def force_column(tmp_path_factory):
    """The Hertfordshire HR extract with a 'Force' column naming three forces (two by other
    spellings), plus copies of its first rows under a second force; and the plain extract."""
    folder = tmp_path_factory.mktemp("force_column")
    plain = pd.read_csv(STAFF.parent / "herts_hr_extract_1.csv", dtype=str, keep_default_na=False)
    plain.to_csv(folder / "plain.csv", index=False)
    forced = plain.assign(Force=[SPELLINGS[i % len(SPELLINGS)] for i in range(len(plain))])
    copies = forced.head(COPIES).assign(Force=["Bedfordshire Police" if f != "Bedfordshire Police" else "Herts"
                                               for f in forced["Force"].head(COPIES)])
    both = pd.concat([forced, copies], ignore_index=True)
    both.to_csv(folder / "forces.csv", index=False)
    original_row = list(range(2, len(plain) + 2)) + list(range(2, COPIES + 2))  # each row's row in plain.csv
    canonical = {"Herts": "Hertfordshire Constabulary", "CAMBS": "Cambridgeshire Constabulary"}
    force_of = [canonical.get(f, f) for f in both["Force"]]
    base = analyse(_staff_incident(folder, [{"path": "plain.csv", "columns": _herts_columns()}], listed=False))
    inc = _staff_incident(folder, [{"path": "forces.csv", "columns": {**_herts_columns(), "controller": "Force"}}])
    return base, analyse(inc), original_row, force_of


def test_a_force_column_gives_each_controller_its_people_and_a_person_in_two_counts_in_both(force_column):
    base, a, original_row, force_of = force_column
    assert a.ingested.rows_quarantined == 0 and base.ingested.rows_quarantined == 0
    # Who each row is, from the extract without the column: the expected people per force.
    pid = dict(zip(base.records["source_row"], base.records["person_id"], strict=True))
    expected: dict[str, set] = {}
    for row, force in zip(original_row, force_of, strict=True):
        expected.setdefault(force, set()).add(pid[row])
    s = summary(a)
    got = {c["name"]: c for c in s["controllers"]}
    assert list(got) == list(FORCES)  # listed order, spellings folded into the listed names
    for name, people in expected.items():
        assert got[name]["people"] == len(people), name
        assert got[name]["subject_records"] == force_of.count(name), name
        assert sum(got[name]["risk_bands"].values()) == got[name]["people"]
        assert got[name]["people_range"]["min"] <= got[name]["people"] <= got[name]["people_range"]["max"]
    # Nobody lost, nobody invented: the copies are the same people, counted once overall ...
    assert s["people"] == len(base.people) == len(set().union(*expected.values()))
    assert sum(c["subject_records"] for c in s["controllers"]) == s["subject_records"]
    # ... and once in each controller whose file holds them.
    in_two = sum(len(p) for p in expected.values()) - s["people"]
    assert in_two >= 1
    assert sum(c["people"] for c in s["controllers"]) == s["people"] + in_two


def test_each_controller_has_its_own_decision_and_the_briefing_a_by_controller_section(force_column):
    from riskkit.report import briefing

    _, a, _, _ = force_column
    s = summary(a)
    for c in s["controllers"]:
        assert set(c) == {"name", "regime", "cases", "subject_records", "people", "people_range", "risk_bands",
                          "regulator", "communicate"}
        assert c["regulator"]["deadline"] == s["regulator"]["deadline"]
        assert c["regulator"]["law"] == ("DPA 2018 s.67" if c["name"] == "Bedfordshire Police" else "UK GDPR Art. 33")
        assert c["communicate"]["required"] + c["communicate"]["recommended"] <= c["people"]
    assert "contact" not in json.dumps(s["controllers"])  # the DPO contact is for the ICO form only
    html = briefing.decisions(a).data
    assert "By controller" in html
    for name in FORCES:
        assert name in html
    assert "data protection office" not in html


def test_one_controller_has_no_by_controller_section_and_its_figures_are_the_whole(force_column):
    from riskkit.report import briefing

    base, _, _, _ = force_column
    s = summary(base)
    assert len(s["controllers"]) == 1
    only = s["controllers"][0]
    assert only["name"] == base.incident.controller
    assert (only["people"], only["subject_records"], only["risk_bands"]) == (s["people"], s["subject_records"],
                                                                             s["risk_bands"])
    assert "By controller" not in briefing.decisions(base).data


def test_a_controller_per_file_entry_splits_the_staff_sample_by_force(tmp_path):
    spec = yaml.safe_load(STAFF.read_text())
    force_of_file = {"herts": "Hertfordshire Constabulary", "beds": "Bedfordshire Police", "cambs": "CAMBS"}
    files = []
    for entry in spec["files"]:
        entry = {**entry, "path": str(STAFF.parent / entry["path"])}
        entry["controller"] = force_of_file[Path(entry["path"]).name.split("_")[0]]
        files.append(entry)
    a = analyse(_staff_incident(tmp_path, files))
    s = summary(a)
    got = {c["name"]: c for c in s["controllers"]}
    assert list(got) == list(FORCES)
    files_force = {f: force_of_file[Path(f).name.split("_")[0]] for f in a.records["source_file"].astype(str).unique()}
    recs = a.records.assign(force=a.records["source_file"].astype(str).map(files_force))
    for key, name in (("herts", "Hertfordshire Constabulary"), ("beds", "Bedfordshire Police"),
                      ("cambs", "Cambridgeshire Constabulary")):
        mine = recs[recs["force"] == force_of_file[key]]
        assert got[name]["subject_records"] == len(mine)
        assert got[name]["people"] == mine["person_id"].nunique()
    assert sum(c["subject_records"] for c in s["controllers"]) == s["subject_records"]
    assert sum(c["people"] for c in s["controllers"]) >= s["people"]


def test_controllers_are_checked_in_the_incident_file(tmp_path):
    files = [{"path": str(STAFF.parent / "cambs_staff_list.csv"), "encoding": "cp1252",
              "columns": {"full_name": "Name"}, "controller": "Essex Police"}]
    with pytest.raises(IncidentError, match=r"files\.0\.controller is not one of the controllers"):
        load_incident(_staff_incident(tmp_path, files))
    spec = yaml.safe_load((tmp_path / "incident.yml").read_text())
    spec["files"][0]["controller"] = "Bedfordshire Police"
    spec["controllers"].append({"name": "bedfordshire police"})
    (tmp_path / "incident.yml").write_text(yaml.safe_dump(spec))
    with pytest.raises(IncidentError, match="each name once"):
        load_incident(tmp_path / "incident.yml")


def test_a_column_of_many_values_is_refused_as_a_controller_column(tmp_path):
    plain = pd.read_csv(STAFF.parent / "herts_hr_extract_1.csv", dtype=str, keep_default_na=False)
    plain.to_csv(tmp_path / "x.csv", index=False)
    inc = _staff_incident(tmp_path, [{"path": "x.csv", "columns": {**_herts_columns(), "controller": "Surname"}}],
                          listed=False)
    a = analyse(inc)
    with pytest.raises(ExtractError, match="'controller' has .* different values") as err:
        summary(a)
    assert not any(str(v) in str(err.value) for v in plain["Surname"].head(50))


def test_controller_names_from_the_command_line_must_be_listed(force_column):
    _, a, _, _ = force_column
    assert controllers.resolve_name(a.incident, "herts") == "Hertfordshire Constabulary"
    with pytest.raises(ParameterError, match="not one of the controllers"):
        controllers.resolve_name(a.incident, "Essex Police")
    assert controllers.slug("Hertfordshire Constabulary") == "hertfordshire-constabulary"


def test_decide_and_the_register_keep_the_controller(tmp_path, force_column):
    from riskkit.register import Register, record_decisions, state

    reg = Register(f"sqlite:///{tmp_path / 'r.sqlite'}")
    reg.append("inc", "assessment", {"became_aware": "2026-01-20T09:00:00+00:00", "regulator": {"notify": True}})
    record_decisions(reg, "inc", [("regulator_decision", {"decision": "notify", "reason": "",
                                                          "controller": "Bedfordshire Police"})])
    events = reg.events("inc")
    assert state(events, controller="Bedfordshire Police").regulator is not None
    assert state(events, controller="Hertfordshire Constabulary").regulator is None
    assert state(events).regulator is not None  # without a controller: every decision, as before


def test_cli_decide_with_controller_and_ico_form_per_controller(tmp_path, force_column):
    import subprocess
    import sys

    riskkit = str(Path(sys.executable).parent / "riskkit")
    _, a, _, _ = force_column
    incident = str(a.incident.source)
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([riskkit, *args, "--register", url], capture_output=True, text=True)

    from riskkit.register import Register, assessment_payload

    Register(url).append(a.incident.id, "assessment", assessment_payload(summary(a), a.incident, None))
    done = cli("decide", incident, "--regulator", "notify", "--controller", "cambs")
    assert done.returncode == 0, done.stderr
    refused = cli("decide", incident, "--regulator", "notify", "--controller", "Essex Police")
    assert refused.returncode != 0 and "not one of the controllers" in refused.stderr
    shown = cli("register", "show", a.incident.id, "--controller", "Cambridgeshire Constabulary").stdout
    assert "regulator_decision" in shown and '"controller": "Cambridgeshire Constabulary"' in shown
    out = tmp_path / "ico"
    made = cli("ico-form", incident, "--out", str(out))
    assert made.returncode == 0, made.stderr
    forms = sorted(p.name for p in out.glob("ico_form_*.json"))
    assert forms == sorted(f"ico_form_{controllers.slug(n)}.json" for n in FORCES)
    cambs = json.loads((out / "ico_form_cambridgeshire-constabulary.json").read_text())
    about = {f["field"]: f["value"] for f in cambs["fields"]}
    assert about["Organisation and data protection officer contact details"].startswith("Cambridgeshire Constabulary")
    got = {c["name"]: c for c in summary(a)["controllers"]}
    assert about["Number of personal data records concerned"] == f"{got['Cambridgeshire Constabulary']['subject_records']:,}"
    shutil.rmtree(out)


def test_assess_renders_by_controller_and_the_leadership_files_hold_no_personal_data(tmp_path, force_column):
    import subprocess
    import sys

    riskkit = str(Path(sys.executable).parent / "riskkit")
    _, a, _, _ = force_column
    incident, out = str(a.incident.source), tmp_path / "out"
    run = subprocess.run([riskkit, "assess", incident, "--out", str(out), "--quiet", "--register",
                          f"sqlite:///{tmp_path / 'r.sqlite'}"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    html = (out / "briefing.html").read_text()
    assert "By controller" in html and "What the extract holds" in html
    s = json.loads((out / "summary.json").read_text())
    assert [c["name"] for c in s["controllers"]] == list(FORCES)
    check = subprocess.run([riskkit, "check-output", str(out), "--incident", incident], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_register_list_by_controller_shows_only_its_incidents_and_its_own_filing(tmp_path):
    import subprocess
    import sys

    from riskkit.register import Register, record_decisions

    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    reg = Register(url)
    forces = [{"name": "Bedfordshire Police"}, {"name": "Hertfordshire Constabulary"}]
    reg.append("shared", "assessment", {"became_aware": "2026-01-20T09:00:00+00:00", "controllers": forces})
    reg.append("herts-only", "assessment", {"became_aware": "2026-01-21T09:00:00+00:00",
                                            "controllers": forces[1:]})
    record_decisions(reg, "shared", [("filing", {"filed_at": "2026-01-21T09:00:00+00:00", "reference": "IC-1",
                                                 "controller": "Bedfordshire Police"})])
    assert controllers.in_events(reg.events("shared"), " bedfordshire POLICE") == "Bedfordshire Police"
    assert controllers.in_events(reg.events("herts-only"), "Bedfordshire Police") is None

    def listed(*args: str) -> str:
        done = subprocess.run([str(Path(sys.executable).parent / "riskkit"), "register", "list", "--register", url,
                               *args], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout

    beds = listed("--controller", "bedfordshire police").splitlines()
    assert len(beds) == 1 and beds[0].startswith("shared\tBedfordshire Police\tfiled")
    herts = {line.split("\t")[0]: line.split("\t")[2] for line in listed("--controller", "Hertfordshire Constabulary")
             .splitlines()}
    assert set(herts) == {"shared", "herts-only"} and not herts["shared"].startswith("filed")  # Beds' filing is not Herts'
    assert listed().count("filed") == 1  # without --controller: the whole incident, as before
    as_json = json.loads(listed("--controller", "Bedfordshire Police", "--json"))
    assert [(r["incident_id"], r["controller"], r["status"]) for r in as_json] == [("shared", "Bedfordshire Police", "filed")]
    assert "involves the controller 'Essex Police'" in listed("--controller", "Essex Police")
