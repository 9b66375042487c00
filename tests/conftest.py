"""Shared fixtures: the sample incidents, a fixed pseudonym key, and small incident builders."""

from __future__ import annotations

import os
import tempfile
import textwrap
from datetime import UTC
from pathlib import Path

import pytest

os.environ.setdefault("RISKKIT_PSEUDONYM_KEY", "riskkit-test-key")
# Assessments made by the tests go to a throwaway register, never the user's own.
os.environ.setdefault("RISKKIT_REGISTER", str(Path(tempfile.mkdtemp(prefix="riskkit-test-register-")) / "register.sqlite"))

ROOT = Path(__file__).resolve().parents[1]
ASB = ROOT / "data" / "sample" / "asb_publication" / "incident.yml"
STAFF = ROOT / "data" / "sample" / "staff_transfer" / "incident.yml"
SHARED_GEO = ROOT.parent / "shared" / "geo"

BASE_INCIDENT = """\
id: test-incident
title: Test incident
controller: Test controller
regime: uk_gdpr
timestamps:
  occurred: 2026-10-01T09:00:00+01:00
  became_aware: 2026-10-02T09:00:00+01:00
exposure:
  channel: {channel}
  recipients: {recipients}
  duration_hours: {hours}
  evidence_of_access: {evidence}
containment:
  removed: true
  deletion_confirmed: {deleted}
data_context: {context}
files:
  - path: {file}
    columns:
{columns}
"""

DEFAULT_COLUMNS = {"case_ref": "Case", "role": "Role", "full_name": "Name", "date_of_birth": "DOB",
                   "address": "Address", "postcode": "Postcode", "district": "District"}


def write_incident(folder: Path, rows: list[dict] | str, columns: dict[str, str] | None = None,
                   file: str = "extract.csv", channel: str = "public_web", recipients: str = "public",
                   hours: float = 120, evidence: str = "none", deleted: bool = False,
                   context: list[str] | None = None, encoding: str = "utf-8") -> Path:
    """A minimal incident with one CSV extract; ``rows`` is a list of dicts or raw CSV text."""
    import csv
    import io

    columns = columns or DEFAULT_COLUMNS
    if isinstance(rows, str):
        (folder / file).write_bytes(rows.encode(encoding))
    else:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(columns.values()))
        writer.writeheader()
        writer.writerows(rows)
        (folder / file).write_bytes(buf.getvalue().encode(encoding))
    mapping = textwrap.indent("\n".join(f"{k}: {v!r}" for k, v in columns.items()), " " * 6)
    text = BASE_INCIDENT.format(channel=channel, recipients=recipients, hours=hours, evidence=evidence,
                                deleted=str(deleted).lower(), context=context or [], file=file, columns=mapping)
    path = folder / "incident.yml"
    path.write_text(text)
    return path


def row(case: str = "C1", role: str = "Victim", name: str = "Alice Example", dob: str = "01/02/1980",
        address: str = "1 High Street", postcode: str = "HP1 1AA", district: str = "Dacorum") -> dict:
    return {"Case": case, "Role": role, "Name": name, "DOB": dob, "Address": address, "Postcode": postcode,
            "District": district}


@pytest.fixture
def incident_factory(tmp_path: Path):
    def make(rows, **kw):
        return write_incident(tmp_path, rows, **kw)
    return make


@pytest.fixture(scope="session")
def asb_analysis():
    from datetime import datetime

    from riskkit.analysis import analyse

    return analyse(ASB, now=datetime(2026, 10, 10, 8, 0, tzinfo=UTC))


@pytest.fixture(scope="session")
def staff_analysis():
    from riskkit.analysis import analyse

    return analyse(STAFF)


@pytest.fixture(scope="session")
def asb_run(tmp_path_factory):
    """The ASB sample assessed once per test session (HTML and PDF, --json, its own register), for
    the tests that only read the outputs; see tests.shared_runs."""
    from tests.shared_runs import shared_assess

    run = shared_assess(tmp_path_factory, "asb", ASB, "--format", "html,pdf", "--json")
    assert run.returncode == 0, run.stderr
    return run


@pytest.fixture(scope="session")
def staff_run(tmp_path_factory):
    """The staff sample assessed once per test session, for the tests that only read the outputs."""
    from tests.shared_runs import shared_assess

    run = shared_assess(tmp_path_factory, "staff", STAFF)
    assert run.returncode == 0, run.stderr
    return run

