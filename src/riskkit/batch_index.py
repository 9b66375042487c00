"""The batch index: one self-contained HTML page listing every briefing a batch made, most urgent first.

It is read by the same people as the briefings, so it speaks as the briefings do: the protective
marking at top and bottom, district names rather than internal run ids, local times (BST/GMT),
time to the regulator deadline in days and hours, and plain words for what the batch did. It
holds counts only: titles come from runs whose texts were checked for personal data, and a run
that failed before that check shows its place in the manifest instead.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from riskkit import wording
from riskkit.outputs import atomic_write_text

if TYPE_CHECKING:
    from riskkit.batch import Result

DEFAULT_MARKING = "OFFICIAL-SENSITIVE"
# The Government Security Classifications, least to most restrictive: a page gathering several
# incidents carries the most restrictive of their markings.
MARKING_ORDER = ["OFFICIAL", "OFFICIAL-SENSITIVE", "SECRET", "TOP SECRET"]
STATUS_WORDS = {"ok": "Made now", "unchanged": "Already up to date, not re-made"}
COLUMNS = ["Incident", "District", "This batch", "Regulator deadline", "Time left", "Regulator", "Cases", "People",
           "Very high", "High", "Briefing"]


def status_words(status: str, reason: str = "") -> str:
    """What the batch did, in words: 'Made now', 'Already up to date, not re-made' or 'Failed: <reason>'.
    The reason is a RiskkitError's one line (never a cell's value), kept to one line here too."""
    if status in STATUS_WORDS:
        return STATUS_WORDS[status]
    return "Failed: " + (" ".join(reason.split()) or "no reason given")


def time_left_cell(hours: float) -> str:
    """'Overdue by 3 days 4 hours' or '1 day 2 hours left': the briefing's words
    (``wording.time_left``), capitalised to open a table cell."""
    text = wording.time_left(hours)
    return text[:1].upper() + text[1:]


def page_marking(markings: list[str]) -> str:
    """The marking for a page listing several incidents: the most restrictive known one; markings
    outside the standard list are all shown, so none is lost."""
    distinct = list(dict.fromkeys(m.strip() for m in markings if m and m.strip())) or [DEFAULT_MARKING]
    if len(distinct) == 1:
        return distinct[0]
    if all(m.upper() in MARKING_ORDER for m in distinct):
        return max(distinct, key=lambda m: MARKING_ORDER.index(m.upper()))
    return " / ".join(distinct)


def _deadline(result: Result) -> datetime | None:
    try:
        return datetime.fromisoformat(result.deadline) if result.deadline else None
    except ValueError:
        return None


def hours_left(result: Result, now: datetime) -> float | None:
    """Hours from the run's counting time (the manifest's ``now``, else ``now``) to its deadline."""
    deadline = _deadline(result)
    if deadline is None:
        return None
    ref = datetime.fromisoformat(result.now) if result.now else now
    return (deadline - ref).total_seconds() / 3600


def urgency_order(results: list[Result], now: datetime) -> list[Result]:
    """Most urgent first: overdue (longest overdue first), then the nearest deadline, then by
    incident and district name; runs whose deadline is unknown last."""
    def key(r: Result) -> tuple:
        left = hours_left(r, now)
        return (left is None, left if left is not None else 0.0, r.title.lower(), r.district_name.lower(), r.name)

    return sorted(results, key=key)


def _links(result: Result, folder: Path) -> str:
    links = []
    if result.status != "failed":
        for label, file in (("HTML", "briefing.html"), ("PDF", "briefing.pdf")):
            path = Path(result.out) / file
            if (file == "briefing.html" or "pdf" in result.formats) and path.exists():
                rel = Path(os.path.relpath(path, folder)).as_posix()
                links.append(f'<a href="{escape(rel)}">{label}</a>')
    return " · ".join(links) or "none"


def _number(summary: dict, *keys: str) -> str:
    value: object = summary
    for k in keys:
        value = value.get(k) if isinstance(value, dict) else None
    return f"{value:,}" if isinstance(value, int) else ""


def _row(result: Result, folder: Path, now: datetime) -> str:
    s = result.summary or {}
    reg = s.get("regulator") or {}
    deadline = _deadline(result)
    left = hours_left(result, now)
    due = ""
    if left is not None:
        due = f'<span class="{"rk-overdue" if left < 0 else "rk-left"}">{escape(time_left_cell(left))}</span>'
    regulator = ("Notify" if reg.get("notify") else "Record only") if reg else ""
    cells = [
        ("", escape(result.title or "(title not shown: the run failed before its texts were checked)")),
        ("", escape(result.district_name or "Whole incident")),
        ("", escape(status_words(result.status, result.reason))),
        ("", escape(wording.when(deadline)) if deadline else ""),
        ("", due),
        ("", escape(regulator)),
        ("rk-num", _number(s, "cases")), ("rk-num", _number(s, "people")),
        ("rk-num", _number(s, "risk_bands", "Very high")), ("rk-num", _number(s, "risk_bands", "High")),
        ("", _links(result, folder)),
    ]
    flag = ' class="rk-row-overdue"' if left is not None and left < 0 else ""
    # data-label: on a phone each row is a card, and every value is labelled with its column
    return f"<tr{flag}>" + "".join(f'<td class="{c}" data-label="{h}">{v}</td>' if c else f'<td data-label="{h}">{v}</td>'
                                   for h, (c, v) in zip(COLUMNS, cells, strict=True)) + "</tr>"


STYLE = """body{font-family:"Helvetica Neue",Arial,sans-serif;color:#1b1b1b;margin:0 auto;padding:0 1rem;max-width:80rem}
.rk-banner{background:#1d3557;color:#fff;text-align:center;font-weight:bold;letter-spacing:.1em;padding:.35rem;margin:.5rem 0;
-webkit-print-color-adjust:exact;print-color-adjust:exact}
.rk-scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.9rem}
td,th{border:1px solid #bbb;padding:.2rem .5rem;text-align:left;vertical-align:top}th{background:#eef2f7}
.rk-num{text-align:right;font-variant-numeric:tabular-nums}.rk-overdue{color:#a51d2d;font-weight:bold}
.rk-note{color:#444;font-size:.9rem}
@media print{thead{display:table-header-group}tr{break-inside:avoid}}
@media screen and (max-width:40rem){thead{display:none}table,tbody,tr,td{display:block}tr{border:1px solid #bbb;margin:.5rem 0}
td{border:0;border-bottom:1px solid #eee}td:empty{display:none}td.rk-num{text-align:left}
td::before{content:attr(data-label) ": ";font-weight:bold}}"""


def write_index(results: list[Result], index: Path, now: datetime | None = None) -> Path:
    """Write the index page; ``now`` (default: the current time) is when deadlines are counted
    to for runs whose manifest entry gives no ``now``."""
    now = now or datetime.now(UTC)
    ordered = urgency_order(results, now)
    marking = escape(page_marking([r.marking for r in results]))
    made = sum(r.status != "failed" for r in results)
    overdue = sum(1 for r in results if (h := hours_left(r, now)) is not None and h < 0)
    rows = "".join(_row(r, index.parent, now) for r in ordered)
    page = f"""<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{marking}: riskkit briefings</title><style>{STYLE}</style></head><body>
<div class="rk-banner" role="banner">{marking}</div>
<h1>Briefings</h1>
<p>{made} of {len(results)} briefings available; {overdue} past the regulator deadline. Most urgent first:
overdue, then the nearest deadline. Times are UK local time. Written {escape(wording.when(now))}.</p>
<div class="rk-scroll"><table><thead><tr>{"".join(f"<th>{h}</th>" for h in COLUMNS)}</tr></thead>
<tbody>{rows}</tbody></table></div>
<p class="rk-note">Counts only: no personal data. Made by riskkit.</p>
<div class="rk-banner">{marking}</div>
</body></html>
"""
    return atomic_write_text(index, page)
