"""Batch runs, per-district briefings, the index, skipping unchanged inputs, Dask, and the partitioned path."""

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


SMALL_DISTRICTS = ("dacorum", "watford")  # the cases kept in the smaller ASB incident


def _small_asb(folder: Path) -> Path:
    """The ASB sample cut to its Dacorum and Watford cases (and the record with no case
    reference): its per-district batch renders four briefings rather than ten, with the same
    mix of problems (people living outside the case's district, a quarantined row, unassigned)."""
    import csv

    source = ASB.parent / "asb_case_list.csv"
    with source.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        rows = [r for r in reader if r["Case Location District"].lower().startswith(SMALL_DISTRICTS) or not r["Case Ref"]]
        fields = reader.fieldnames
    small = folder / "small-asb"
    small.mkdir()
    with (small / "asb_case_list.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    incident = small / "incident.yml"
    incident.write_text(ASB.read_text().replace("path: ../boundaries/", f"path: {ASB.parent.parent}/boundaries/"))
    return incident


def _manifest(folder: Path, small: Path) -> Path:
    (folder / "broken").mkdir()
    (folder / "broken" / "incident.yml").write_text(ASB.read_text().replace("path: asb_case_list.csv", "path: gone.csv"))
    manifest = folder / "manifest.yml"
    manifest.write_text(f"""index: {folder}/index.html
runs:
  - incident: {small}
    out: asb-districts
    per_district: true
    now: {NOW}
  - incident: {STAFF}
    out: staff
    now: {NOW}
  - incident: {small}
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
    small = _small_asb(folder)
    manifest = _manifest(folder, small)
    proc = subprocess.run([RISKKIT, "batch", str(manifest), "--workers", "2", "--quiet", "--register",
                           str(folder / "register.sqlite")], capture_output=True, text=True, timeout=900)
    return folder, manifest, proc, small


@pytest.fixture(scope="module")
def small_analysis(batch_run):
    """The smaller incident analysed here, in this process: what each district briefing must show."""
    return analyse(batch_run[3], now=datetime.fromisoformat(NOW))


def _district_names(a) -> list[str]:  # noqa: ANN001 - an Analysis
    from riskkit.districts import UNASSIGNED

    codes = (set(a.people["district_code"]) | set(a.case_district)) - {UNASSIGNED}
    return sorted(a.districts.set_index("lad_code").loc[sorted(codes), "district"])


def test_batch_runs_all_and_reports_the_failure(batch_run, small_analysis):
    folder, _, proc, _ = batch_run
    assert proc.returncode == 1  # one run failed
    n = len(_district_names(small_analysis)) + 2  # each district, the staff incident, Watford alone
    assert f"{n + 1} briefings: {n} made now, 0 already up to date (not re-made), 1 failed" in proc.stdout
    failures = [line for line in proc.stderr.splitlines() if line.startswith("FAILED")]
    assert len(failures) == 1 and "gone.csv" in failures[0] and "extract file not found" in failures[0]
    # refused before its notebook started (the leak check reads the extract first): nothing half-made
    assert not (folder / "broken-out").exists() and not (folder / "broken-out.failed.ipynb").exists()


def test_per_district_briefings_show_only_their_district(batch_run, small_analysis):
    from riskkit.analysis import scope

    folder, _, _, _ = batch_run
    whole = summary(small_analysis)
    names = _district_names(small_analysis)
    districts = sorted(p.name for p in (folder / "asb-districts").iterdir() if not p.name.startswith("."))
    assert districts == sorted(n.lower().replace(" ", "-") for n in names)
    assert len(districts) >= 3 and "dacorum" in districts  # people live outside their cases' districts too
    watford = json.loads((folder / "watford" / "summary.json").read_text())  # one district, analysed by its notebook
    assert watford["scope"]["district"] == "Watford"
    assert watford["cases"] == json.loads((folder / "asb-districts" / "watford" / "summary.json").read_text())["cases"]
    s = json.loads((folder / "asb-districts" / "dacorum" / "summary.json").read_text())
    assert s["scope"]["district"] == "Dacorum" and s["cases"] == 9  # every Dacorum case of the sample was kept
    expected = summary(scope(small_analysis, "Dacorum"))
    assert (s["cases"], s["people"]) == (expected["cases"], expected["people"])
    assert sum(json.loads((folder / "asb-districts" / d / "summary.json").read_text())["cases"] for d in districts) \
        == whole["cases"] - whole["unassigned"]["cases"]
    html = (folder / "asb-districts" / "dacorum" / "briefing.html").read_text()
    whole_small = summary(small_analysis)
    assert (f"In Dacorum: 9 of the {whole_small['cases']} anti-social behaviour cases and {expected['people']} of the "
            f"{whole_small['people']} people (counted where they live)") in html
    assert "The whole breach:" in html  # the incident-wide figures are labelled as such
    contacts = folder / "asb-districts" / "dacorum" / "restricted" / "contact_list.xlsx"
    import openpyxl

    rows = list(openpyxl.load_workbook(contacts).active.iter_rows(min_row=2, values_only=True))
    assert rows and all(r[10] == "Dacorum" for r in rows)  # the district column
    assert scan_folder(folder / "asb-districts" / "dacorum", ASB) == []


def test_every_rendered_briefing_is_recorded_and_shows_a_head_of_the_register(batch_run, small_analysis):
    import re

    from riskkit.register import Register

    folder, _, _, _ = batch_run
    reg = Register(folder / "register.sqlite")
    events = reg.events()
    names = _district_names(small_analysis)
    assert reg.verify() == (len(names) + 2, None) and {e.kind for e in events} == {"assessment"}
    scopes = sorted((e.payload["scope"] or {}).get("district", "") for e in events)
    assert scopes == sorted(["", "Watford", *names])  # the staff incident, Watford alone, each district
    assert scopes.count("Watford") == 2  # its per-district briefing and the run of Watford alone
    hashes = [e.hash for e in events]
    for briefing in folder.rglob("briefing.html"):
        shown = re.search(r"head \(SHA-256\)[^<]*<code>([0-9a-f]{64})</code>", briefing.read_text()).group(1)
        assert shown in hashes, briefing  # the state after its own event, never the genesis hash


def test_index_lists_every_briefing_most_urgent_first_without_personal_data(batch_run, small_analysis):
    import re

    from riskkit.leakcheck import identifiers, scan_text

    folder, _, _, _ = batch_run
    n = len(_district_names(small_analysis)) + 3  # and the staff incident, Watford alone, the broken run
    index = (folder / "index.html").read_text()
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", index, flags=re.S)[1:]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S) for row in rows]
    assert len(rows) == n
    assert re.findall(r'<div class="rk-banner"[^>]*>(.*?)</div>', index) == ["OFFICIAL-SENSITIVE"] * 2
    asb = [c[1] for c in cells if c[0] == "ASB case list published on the force website"]
    assert len(asb) == n - 2 and asb == sorted(asb) and asb.count("Watford") == 2  # names, not ids or codes
    assert "asb-publication-sample/" not in index and "E07000103" not in index
    dacorum = rows[[i for i, c in enumerate(cells) if c[1] == "Dacorum"][0]]
    assert "Made now" in dacorum and "Mon 12 Oct 2026 10:30 BST" in dacorum and "2 days 1 hour left" in dacorum
    assert 'href="asb-districts/dacorum/briefing.html">HTML</a>' in dacorum
    failed = [r for r in rows if "Failed:" in r]
    assert len(failed) == 1 and "extract file not found" in failed[0] and "href" not in failed[0]
    order = [s for s in (_hours_left(r) for r in rows) if s is not None]
    assert order == sorted(order) and len(order) == n  # the broken run is ranked by its incident's deadline too
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


def test_unchanged_rerun_skips_and_a_changed_incident_renders_on_a_dask_cluster(batch_run, small_analysis):
    """Unchanged briefings are settled without any worker; the changed incident's briefing is
    rendered on a Dask cluster (one worker process, as a remote worker would run it)."""
    from distributed import LocalCluster

    folder, manifest, _, _ = batch_run
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
    unchanged = len(_district_names(small_analysis)) + 1
    assert html.count("Made now") == 1 and html.count("Already up to date, not re-made") == unchanged


def test_unreachable_scheduler_is_one_clear_error(tmp_path):
    manifest = tmp_path / "m.yml"
    manifest.write_text(f"runs:\n  - incident: {ASB}\n    out: a\n    per_district: true\n")
    proc = subprocess.run([RISKKIT, "batch", str(manifest), "--scheduler", "tcp://127.0.0.1:9", "--scheduler-timeout",
                           "2", "--quiet"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9 within 2 s" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "a").exists()  # refused before analysing anything


def test_partitioned_and_in_memory_paths_agree(tmp_path, monkeypatch):
    incident = write_scale_incident(tmp_path, 20_000, seed=3)
    now = datetime.fromisoformat(NOW)
    whole = analyse(incident, now=now, partition_bytes=None)
    monkeypatch.setattr(readers, "PARTITION_BLOCK_BYTES", 100_000)  # about 30 partitions
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
