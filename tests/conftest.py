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


# ---- scheduling under pytest-xdist (`make test`: -n auto --dist loadgroup --no-loadscope-reorder) ----
#
# With --dist loadfile the longest file set the suite's tail. Now a test is a work unit of its own
# unless it needs a fixture that is costly to make twice: a module- or class-scoped fixture, or a
# session fixture defined in a test module (test_register's PostgreSQL cluster); such tests, and
# every item that is not a Python test function (nbval's notebook cells run in one kernel, in
# order), stay together by file. The costliest units go first so that the two workers end
# together; the rest keep their collection order.

HEAVY_FIRST = (  # node ids (or files, for whole-file groups), longest first as measured with --durations
    "tests/test_hardening.py::test_sigkill_at_several_moments_then_rerun",
    "tests/test_batch.py",
    "tests/test_risk.py::test_property_more_exposure_never_lowers_score",
    "tests/test_packaging.py",
    "tests/test_register.py::test_cli_assess_decide_list_show_export_and_ico_form",
    "tests/test_interrupt.py::test_a_stale_staging_and_kernel_folder_from_sigkill_are_removed_by_the_next_run",
    "tests/test_hardening.py::test_two_simultaneous_runs_never_corrupt_the_folder",
    "tests/test_leak_errors.py",
    "tests/test_end_to_end.py::test_incident_text_is_escaped",
    "tests/test_controllers.py",
    "tests/test_interrupt.py::test_a_signal_at_any_moment_stops_cleanly",
    "tests/test_interrupt.py::test_a_deep_temporary_folder_still_runs",
    "tests/test_register.py",
    "tests/test_end_to_end.py::test_a_contact_list_past_the_workbook_limit_keeps_everyone_in_the_csv",
    "tests/test_hardening.py",
    "tests/test_browser.py",
    "tests/test_end_to_end.py",
    "tests/test_cli.py",
    "tests/test_explore.py",
    "tests/test_export_pdf.py",
    "tests/test_ingest.py",
)


def _shared_fixture(item: pytest.Item) -> bool:
    """Whether the test needs a fixture that two workers should not each make."""
    info = getattr(item, "_fixtureinfo", None)
    for defs in (info.name2fixturedefs.values() if info else ()):
        for fixturedef in defs:
            if fixturedef.scope in ("module", "class", "package"):
                return True
            if fixturedef.scope == "session" and getattr(fixturedef.func, "__module__", "").split(".")[-1].startswith("test_"):
                return True
    return False


def _rank(nodeid: str) -> int:
    return next((i for i, key in enumerate(HEAVY_FIRST) if nodeid == key or nodeid.startswith(key + ("" if "::" in key
                                                                                                     else "::"))),
                len(HEAVY_FIRST))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Group the items that must share a worker and put the longest work first (see above)."""
    if not getattr(config.option, "loadgroup", False):  # set on xdist's workers by --dist loadgroup
        return
    for item in items:
        if not isinstance(item, pytest.Function) or _shared_fixture(item):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
    items.sort(key=lambda item: _rank(item.nodeid))
