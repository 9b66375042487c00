"""``summary.json``: the run's counts, bands, decisions and unknowns for machines (the batch
index, the register, dashboards). It holds no personal data, so it sits beside the briefing,
not under restricted/."""

from __future__ import annotations

from pathlib import Path

from riskkit.analysis import Analysis, summary
from riskkit.outputs import write_json


def write_summary(a: Analysis, out_dir: str | Path) -> Path:
    """Write ``summary.json`` into ``out_dir`` atomically; returns its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return write_json(out / "summary.json", summary(a))
