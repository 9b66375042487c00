"""The batch index page: marking, urgency order, plain words, local times, links; no personal data."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from riskkit.batch import Result
from riskkit.batch_index import page_marking, status_words, time_left_cell, write_index

NOW = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)


def _result(tmp_path: Path, name: str, title: str, district: str, deadline: str, status: str = "ok",
            formats: tuple[str, ...] = ("html",), reason: str = "", marking: str = "OFFICIAL-SENSITIVE",
            now: str | None = None) -> Result:
    out = tmp_path / "out" / name
    summary = None
    if status != "failed":
        out.mkdir(parents=True)
        (out / "briefing.html").write_text("<p>briefing</p>")
        if "pdf" in formats:
            (out / "briefing.pdf").write_bytes(b"%PDF-")
        summary = {"cases": 1234, "people": 56, "risk_bands": {"Very high": 0, "High": 7},
                   "regulator": {"notify": True, "deadline": deadline}}
    return Result(name, str(out), status, reason, summary, title=title, marking=marking, district_name=district,
                  deadline=deadline, now=now, formats=list(formats))


def _rows(html: str) -> list[str]:
    return re.findall(r"<tr[^>]*>(.*?)</tr>", html, flags=re.S)[1:]  # without the header row


def test_words():
    # The briefing's words (riskkit.wording), opening a table cell with a capital.
    assert time_left_cell(-72.5) == "Overdue by 3 days" and time_left_cell(49) == "2 days 1 hour left"
    assert time_left_cell(0.2) == "12 minutes left" and time_left_cell(-1.5) == "Overdue by 1 hour 30 minutes"
    assert status_words("ok") == "Made now" and status_words("unchanged") == "Already up to date, not re-made"
    assert status_words("failed", "x.csv: extract file not found;\n check 'files'.") == \
        "Failed: x.csv: extract file not found; check 'files'."


def test_local_times_name_bst_and_gmt(tmp_path):
    """The index writes times as the briefings do (riskkit.wording.when), with BST or GMT."""
    summer = _result(tmp_path, "s", "Summer incident", "", "2026-10-12T08:30:00+00:00")
    winter = _result(tmp_path, "w", "Winter incident", "", "2026-11-02T08:30:00+00:00")
    html = write_index([summer, winter], tmp_path / "index.html", now=NOW).read_text()
    assert "Mon 12 Oct 2026 09:30 BST" in html and "Mon 2 Nov 2026 08:30 GMT" in html


def test_marking_is_the_most_restrictive_and_never_lost():
    assert page_marking(["OFFICIAL", "OFFICIAL-SENSITIVE", "OFFICIAL"]) == "OFFICIAL-SENSITIVE"
    assert page_marking(["", ""]) == "OFFICIAL-SENSITIVE"  # the incident file's default
    assert page_marking(["OFFICIAL", "OFFICIAL-SENSITIVE PERSONAL"]) == "OFFICIAL / OFFICIAL-SENSITIVE PERSONAL"


def test_index_is_ordered_by_urgency_and_worded_plainly(tmp_path):
    results = [
        _result(tmp_path, "a-later", "Alpha incident", "Watford", "2026-10-25T12:00:00+00:00"),
        _result(tmp_path, "b-overdue-little", "Beta incident", "", "2026-10-19T12:00:00+00:00", status="unchanged"),
        _result(tmp_path, "c-failed", "", "run 3 of the manifest", "", status="failed",
                reason="gone.csv: extract file not found; check 'files' in the incident file."),
        _result(tmp_path, "d-overdue-most", "Alpha incident", "Dacorum", "2026-10-17T09:00:00+01:00",
                formats=("html", "pdf")),
        _result(tmp_path, "e-soon", "Alpha incident", "Broxbourne", "2026-10-21T12:00:00+00:00",
                marking="OFFICIAL"),
        # a manifest's own now counts its deadline (not the time the index is written)
        _result(tmp_path, "f-own-now", "Gamma incident", "", "2026-10-25T12:00:00+00:00",
                now="2026-10-25T13:00:00+00:00"),
    ]
    index = write_index(results, tmp_path / "index.html", now=NOW)
    html = index.read_text()
    rows = _rows(html)
    order = [tuple(re.findall(r"<td[^>]*>(.*?)</td>", r)[:2]) for r in rows]
    assert order == [("Alpha incident", "Dacorum"), ("Beta incident", "Whole incident"),
                     ("Gamma incident", "Whole incident"), ("Alpha incident", "Broxbourne"),
                     ("Alpha incident", "Watford"),
                     ("(title not shown: the run failed before its texts were checked)", "run 3 of the manifest")]
    assert "Overdue by 3 days 4 hours" in rows[0] and "Overdue by 1 day" in rows[1] and "Overdue by 1 hour" in rows[2]
    assert "1 day left" in rows[3] and "5 days left" in rows[4]
    assert "Sat 17 Oct 2026 09:00 BST" in rows[0] and "Made now" in rows[0]
    assert "Already up to date, not re-made" in rows[1]
    assert "Failed: gone.csv: extract file not found" in rows[5]
    assert '<td class="rk-num" data-label="Cases">1,234</td>' in rows[0]
    assert 'href="out/d-overdue-most/briefing.pdf">PDF</a>' in rows[0] and "briefing.pdf" not in rows[4]
    assert 'href="out/a-later/briefing.html">HTML</a>' in rows[4] and "href" not in rows[5]
    assert "a-later" not in rows[4].replace('href="out/a-later/', "")  # internal run names are not shown
    banners = re.findall(r'<div class="rk-banner"[^>]*>(.*?)</div>', html)
    assert banners == ["OFFICIAL-SENSITIVE", "OFFICIAL-SENSITIVE"]
    assert html.index(banners[0]) < html.index("<table") < html.rindex("OFFICIAL-SENSITIVE")
    assert "3 past the regulator deadline" in html


def test_an_index_of_failures_only_still_has_its_marking(tmp_path):
    failed = _result(tmp_path, "x", "", "run 1 of the manifest", "", status="failed", reason="bad", marking="OFFICIAL")
    html = write_index([failed], tmp_path / "index.html", now=NOW).read_text()
    assert html.count('<div class="rk-banner"') == 2 and ">OFFICIAL<" in html and "0 of 1 briefings" in html


@pytest.mark.parametrize("deadline", ["", "not a time"])
def test_a_run_without_a_known_deadline_goes_last(tmp_path, deadline):
    results = [_result(tmp_path, "u", "Unknown", "", deadline),
               _result(tmp_path, "k", "Known", "", "2030-01-01T00:00:00+00:00")]
    rows = _rows(write_index(results, tmp_path / "index.html", now=NOW).read_text())
    assert "Known" in rows[0] and "Unknown" in rows[1]


def test_a_run_named_after_someone_in_the_extract_is_refused_without_repeating_the_name(tmp_path):
    from riskkit.batch import run_batch
    from tests.conftest import row, write_incident

    incident = write_incident(tmp_path, [row(case="C1", name="Quentin Zabriskie"), row(case="C2")])
    manifest = tmp_path / "m.yml"
    manifest.write_text(f"index: {tmp_path}/index.html\nruns:\n  - incident: {incident}\n    out: {tmp_path / 'o'}\n"
                        "    name: Quentin Zabriskie case\n")
    results, index = run_batch(manifest, workers=1, progress=False, log=lambda m: None,
                               register=str(tmp_path / "r.sqlite"))
    assert [(r.name, r.status) for r in results] == [("run 1", "failed")]
    assert "batch run 1" in results[0].reason and "in name" in results[0].reason
    html = index.read_text()
    assert "Failed: batch run 1" in html and "Test incident" not in html  # no title from a refused run
    assert "zabriskie" not in (results[0].reason + html).lower() and not (tmp_path / "o").exists()
