"""The incident file: schema errors name their key paths; hostile YAML is refused."""

from __future__ import annotations

import pytest

from riskkit.errors import IncidentError
from riskkit.incident import load_incident
from tests.conftest import ASB, STAFF, row


def test_sample_incidents_load():
    asb, staff = load_incident(ASB), load_incident(STAFF)
    assert asb.regime.value == "dpa2018_part3" and staff.regime.value == "uk_gdpr"
    assert len(staff.files) == 5
    assert asb.timestamps.became_aware.tzinfo is not None


def test_every_problem_reported_with_its_key_path(tmp_path):
    (tmp_path / "incident.yml").write_text(
        "id: x\ntitle: t\ncontroller: c\nregime: gdpr\n"
        "timestamps: {became_aware: 2026-10-02T09:00:00}\n"
        "exposure: {channel: web, recipients: public, duration_hours: -1}\n"
        "files: [{path: a.csv, columns: {surname_typo: Surname}}]\n")
    with pytest.raises(IncidentError) as err:
        load_incident(tmp_path / "incident.yml")
    msg = str(err.value)
    for key in ("regime", "timestamps.became_aware", "exposure.channel", "exposure.duration_hours", "files.0.columns"):
        assert key in msg
    assert "\n" not in msg


@pytest.mark.parametrize("bad_id", ["../escape", "/abs/path", "a/b", "", "x" * 81, "..hidden"])
def test_unsafe_incident_ids_are_refused(incident_factory, bad_id):
    path = incident_factory([row()])
    path.write_text(path.read_text().replace("id: test-incident", f"id: '{bad_id}'"))
    with pytest.raises(IncidentError, match="id"):
        load_incident(path)


def test_python_tags_are_refused(tmp_path):
    (tmp_path / "incident.yml").write_text("id: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(IncidentError, match="line 1"):
        load_incident(tmp_path / "incident.yml")


def test_billion_laughs_is_refused(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    (tmp_path / "incident.yml").write_text("\n".join(lines) + "\n")
    with pytest.raises(IncidentError, match="aliases"):
        load_incident(tmp_path / "incident.yml")


def test_missing_file_and_non_mapping(tmp_path):
    with pytest.raises(IncidentError, match="file not found"):
        load_incident(tmp_path / "nope.yml")
    (tmp_path / "list.yml").write_text("- a\n- b\n")
    with pytest.raises(IncidentError, match="mapping"):
        load_incident(tmp_path / "list.yml")


def test_a_key_repeated_in_one_mapping_is_refused_naming_its_line(tmp_path):
    # YAML's safe_load keeps the last of two equal keys without a word: the first duration (ongoing
    # exposure) would silently become the second.
    text = ASB.read_text()
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("duration_hours:"))
    lines.insert(at + 1, lines[at].replace(lines[at].split(":", 1)[1], " 1"))
    (tmp_path / "incident.yml").write_text("\n".join(lines) + "\n")
    with pytest.raises(IncidentError) as err:
        load_incident(tmp_path / "incident.yml")
    msg = str(err.value)
    assert f"line {at + 2}" in msg and "twice" in msg and "\n" not in msg

