"""The terminal view of an inspection: a table per file, with counts and pattern names only.

No cell value is ever printed: what the terminal shows may end up in a ticket or a screen
share, so evidence is "postcode: 97% of 340 values match", never an example.
"""

from __future__ import annotations

from riskkit.inspect.inventory import SheetReport
from riskkit.inspect.tables import MAX_SAMPLE_VALUES

KINDS = {"extract": "extract", "postcode_lookup": "postcode lookup", "no_names": "not listed", "empty": "empty"}


def render(reports: list[SheetReport]) -> str:
    """Plain-text tables, one per file and sheet."""
    out: list[str] = []
    for r in reports:
        s = r.sheet
        what = [f"{s.rows:,} rows", f"header row {s.header_row}"]
        if s.rows > MAX_SAMPLE_VALUES:
            what.append(f"patterns from the first {MAX_SAMPLE_VALUES:,} rows")
        if s.name is not None:
            what.insert(0, f"sheet '{s.name}' ({s.visibility}, {s.sheets_in_file} in the workbook)")
        if s.encoding:
            what.append(f"encoding {s.encoding}")
        if s.delimiter:
            what.append({",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(s.delimiter, s.delimiter))
        out.append(f"{s.path.name}: {', '.join(what)}: {KINDS[r.kind]}" + (f" ({r.note})" if r.note else ""))
        if not r.guesses:
            out.append("")
            continue
        width = max(10, min(32, max(len(g.header) for g in r.guesses) + 2))
        out.append(f"  {'column':<{width}}{'proposal':<22}{'conf':>5}  evidence")
        for g in r.guesses:
            proposal = g.field or f"({g.category})"
            flag = "" if g.sure else (" check" if g.field else " unmapped")
            evidence = "; ".join(e for e in g.evidence if not e.startswith("header '")) or "header only"
            header = g.header if len(g.header) < width - 1 else g.header[: width - 4] + "..."
            out.append(f"  {header:<{width}}{proposal + flag:<22}{g.confidence:>5.2f}  {evidence}")
            if not g.sure and g.reason:
                out.append(f"  {'':<{width}}{'':<22}{'':>5}  -> {g.reason}")
        out.append("")
    return "\n".join(out)
