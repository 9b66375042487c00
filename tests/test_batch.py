"""Batch runs, per-district briefings, skipping unchanged inputs, Dask, and the partitioned path."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from riskkit import readers
from riskkit.analysis import analyse, summary
from riskkit.batch import run_batch
from riskkit.leakcheck import scan_folder
from riskkit.scale import write_scale_incident
from tests.conftest import ASB, STAFF

RISKKIT = str(Path(sys.executable).parent / "riskkit")
NOW = "2026-10-10T09:00:00+01:00"


def _manifest(folder: Path) -> Path:
    (folder / "broken").mkdir()
    (folder / "broken" / "incident.yml").write_text(ASB.read_text().replace("path: asb_case_list.csv", "path: gone.csv"))
    manifest = folder / "manifest.yml"
    manifest.write_text(f"""index: {folder}/index.html
runs:
  - incident: {ASB}
    out: asb-districts
    per_district: true
    now: {NOW}
  - incident: {STAFF}
    out: staff
    now: {NOW}
  - incident: {ASB}
    out: watford
    district: E07000103
    now: {NOW}
  - incident: broken/incident.yml
    out: broken-out
    now: {NOW}
""")
    return manifest


@pytest.fixture(scope="module")
def batch_run(tmp_path_factory):
    """One batch shared by every test that reads its outputs (the costly part of this file): an
    incident per district, a whole incident, one district of an incident, and a broken run."""
    folder = tmp_path_factory.mktemp("batch")
    manifest = _manifest(folder)
    proc = subprocess.run([RISKKIT, "batch", str(manifest), "--workers", "2", "--quiet", "--register",
                           str(folder / "register.sqlite")], capture_output=True, text=True, timeout=900)
    return folder, manifest, proc


def test_batch_runs_all_and_reports_the_failure(batch_run):
    folder, _, proc = batch_run
    assert proc.returncode == 1  # one run failed
    assert "13 briefings: 12 rendered, 0 unchanged, 1 failed" in proc.stdout
    failures = [line for line in proc.stderr.splitlines() if line.startswith("FAILED")]
    assert len(failures) == 1 and "gone.csv" in failures[0] and "extract file not found" in failures[0]
    # refused before its notebook started (the leak check reads the extract first): nothing half-made
    assert not (folder / "broken-out").exists() and not (folder / "broken-out.failed.ipynb").exists()


def test_per_district_briefings_show_only_their_district(batch_run):
    folder, _, _ = batch_run
    whole = summary(analyse(ASB))
    districts = sorted(p.name for p in (folder / "asb-districts").iterdir() if not p.name.startswith("."))
    watford = json.loads((folder / "watford" / "summary.json").read_text())  # one district, analysed by its notebook
    assert watford["scope"]["district"] == "Watford"
    assert watford["cases"] == json.loads((folder / "asb-districts" / "watford" / "summary.json").read_text())["cases"]
    assert len(districts) == 10 and "dacorum" in districts
    s = json.loads((folder / "asb-districts" / "dacorum" / "summary.json").read_text())
    assert s["scope"]["district"] == "Dacorum" and s["cases"] == 9
    assert sum(json.loads((folder / "asb-districts" / d / "summary.json").read_text())["cases"] for d in districts) \
        == whole["cases"] - whole["unassigned"]["cases"]
    html = (folder / "asb-districts" / "dacorum" / "briefing.html").read_text()
    assert "In Dacorum, 9 anti-social behaviour cases and 19 people who live there" in html
    contacts = folder / "asb-districts" / "dacorum" / "restricted" / "contact_list.xlsx"
    import openpyxl

    rows = list(openpyxl.load_workbook(contacts).active.iter_rows(min_row=2, values_only=True))
    assert rows and all(r[10] == "Dacorum" for r in rows)  # the district column
    assert scan_folder(folder / "asb-districts" / "dacorum", ASB) == []


def test_every_rendered_briefing_is_recorded_and_shows_a_head_of_the_register(batch_run):
    import re

    from riskkit.register import Register

    folder, _, _ = batch_run
    reg = Register(folder / "register.sqlite")
    events = reg.events()
    assert reg.verify() == (12, None) and {e.kind for e in events} == {"assessment"}
    scopes = sorted((e.payload["scope"] or {}).get("district", "") for e in events)
    assert scopes.count("") == 1 and "Dacorum" in scopes  # the staff incident, and ten districts
    assert scopes.count("Watford") == 2  # its per-district briefing and the run of Watford alone
    hashes = [e.hash for e in events]
    for briefing in folder.rglob("briefing.html"):
        shown = re.search(r"head \(SHA-256\)[^<]*<code>([0-9a-f]{64})</code>", briefing.read_text()).group(1)
        assert shown in hashes, briefing  # the state after its own event, never the genesis hash


def test_index_lists_every_briefing_most_urgent_first_without_personal_data(batch_run):
    import re

    from riskkit.leakcheck import identifiers, scan_text

    folder, _, _ = batch_run
    index = (folder / "index.html").read_text()
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", index, flags=re.S)[1:]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S) for row in rows]
    assert len(rows) == 13
    assert re.findall(r'<div class="rk-banner"[^>]*>(.*?)</div>', index) == ["OFFICIAL-SENSITIVE"] * 2
    asb = [c[1] for c in cells if c[0] == "ASB case list published on the force website"]
    assert len(asb) == 11 and asb == sorted(asb) and asb.count("Watford") == 2  # names, not ids or codes
    assert "asb-publication-sample/" not in index and "E07000103" not in index
    dacorum = rows[[i for i, c in enumerate(cells) if c[1] == "Dacorum"][0]]
    assert "Made now" in dacorum and "Mon 12 Oct 2026, 10:30 BST" in dacorum and "2 days 1 hour left" in dacorum
    assert 'href="asb-districts/dacorum/briefing.html">HTML</a>' in dacorum
    failed = [r for r in rows if "Failed:" in r]
    assert len(failed) == 1 and "extract file not found" in failed[0] and "href" not in failed[0]
    order = [s for s in (_hours_left(r) for r in rows) if s is not None]
    assert order == sorted(order) and len(order) == 13  # the broken run is ranked by its incident's deadline too
    assert "http" not in index.replace('http-equiv', '')
    for incident in (ASB, STAFF):
        assert scan_text(index, identifiers(incident)) == []


def _hours_left(row: str) -> int | None:
    """The row's time to its deadline as shown, in whole hours (negative when overdue)."""
    import re

    shown = re.search(r'<span class="rk-(?:overdue|left)">(.*?)</span>', row)
    if not shown:
        return None
    days = re.search(r"(\d+) days?", shown.group(1))
    hours = re.search(r"(\d+) hours?", shown.group(1))
    total = int(days.group(1) if days else 0) * 24 + int(hours.group(1) if hours else 0)
    return -total if shown.group(1).startswith("Overdue by") else total


def test_unchanged_rerun_skips_and_a_changed_incident_renders_on_a_dask_cluster(batch_run):
    """Unchanged briefings are settled without any worker; the changed incident's briefing is
    rendered on a Dask cluster (one worker process, as a remote worker would run it)."""
    from distributed import LocalCluster

    folder, manifest, _ = batch_run
    results, _ = run_batch(manifest, workers=2, progress=False, log=lambda m: None)
    assert {r.status for r in results if "broken" not in r.out} == {"unchanged"}
    incident_text = STAFF.read_text()
    changed = folder / "staff-incident.yml"
    changed.write_text(incident_text.replace("duration_hours: 363", "duration_hours: 364").replace(
        "path: ", f"path: {STAFF.parent}/"))
    manifest.write_text(manifest.read_text().replace(str(STAFF), str(changed)))
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        results, index = run_batch(manifest, scheduler=cluster.scheduler_address, progress=False, log=lambda m: None)
    status = {Path(r.out).name: r.status for r in results}
    assert status["staff"] == "ok" and status["dacorum"] == "unchanged" and status["watford"] == "unchanged"
    assert json.loads((folder / "staff" / "summary.json").read_text())["incident_id"] == "staff-transfer-sample"
    html = index.read_text()
    assert html.count("Made now") == 1 and html.count("Already up to date, not re-made") == 11


def test_unreachable_scheduler_is_one_clear_error(tmp_path):
    manifest = tmp_path / "m.yml"
    manifest.write_text(f"runs:\n  - incident: {ASB}\n    out: a\n    per_district: true\n")
    proc = subprocess.run([RISKKIT, "batch", str(manifest), "--scheduler", "tcp://127.0.0.1:9", "--scheduler-timeout",
                           "2", "--quiet"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9 within 2 s" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "a").exists()  # refused before analysing anything


def test_partitioned_and_in_memory_paths_agree(tmp_path, monkeypatch):
    incident = write_scale_incident(tmp_path, 8_000, seed=3)  # a 1.1 MB CSV
    now = datetime.fromisoformat(NOW)
    whole = analyse(incident, now=now, partition_bytes=None)
    monkeypatch.setattr(readers, "PARTITION_BLOCK_BYTES", 36_000)  # about 30 partitions
    parts = analyse(incident, now=now, partition_bytes=1)
    assert summary(whole) == summary(parts)
    cols = ["severity", "band", "district_code", "records"]
    assert whole.people[cols].sort_index().equals(parts.people[cols].sort_index())


def test_scale_sample_is_streamed_and_realistic(tmp_path):
    incident = write_scale_incident(tmp_path, 3_000, seed=1, chunk_size=700)
    s = summary(analyse(incident))
    assert s["subject_records"] == 3_000 and s["rows_quarantined"] == 0
    assert 1_150 < s["cases"] < 1_300 and s["people"] < 3_000  # about 2.4 per case, some repeated people
    counties = {d["lad_code"][:3] for d in s["districts"]}
    assert {"E06", "E07"} <= counties and len(s["districts"]) >= 15
