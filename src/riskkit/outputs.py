"""Writing outputs so that none is ever half-written, and restricted ones stay restricted.

Every file is written to a temporary name in the same folder and renamed into place, so a
crash leaves either the old file or the new one. Restricted outputs (anything with personal
data) are created owner-only, and every text cell bound for a spreadsheet is defused against
formula injection.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from riskkit.paths import RESTRICTED_SUBDIR

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644) -> Path:
    """Write ``data`` to ``path`` via a temporary file and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: Path, text: str, mode: int = 0o644) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"), mode)


def write_json(path: Path, data: dict, mode: int = 0o644) -> Path:
    return atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", mode)


def restricted_dir(out_dir: Path) -> Path:
    """The owner-only folder for outputs with personal data."""
    folder = Path(out_dir) / RESTRICTED_SUBDIR
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    return folder


def defuse(value: object) -> object:
    """Make a text cell inert in spreadsheet software: a leading formula character gets a
    leading apostrophe-style quote (OWASP CSV injection guidance)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def defuse_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(defuse, na_action="ignore")
    return out


def write_restricted_csv(path: Path, frame: pd.DataFrame) -> Path:
    return atomic_write_text(path, defuse_frame(frame).to_csv(index=False), mode=0o600)


def write_restricted_xlsx(path: Path, sheets: dict[str, pd.DataFrame]) -> Path:
    """An owner-only workbook; every cell is written as a value, never as a formula."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, frame in sheets.items():
        ws = wb.create_sheet(title[:31])
        safe = defuse_frame(frame)
        ws.append([str(c) for c in safe.columns])
        for row in safe.itertuples(index=False):
            ws.append([None if pd.isna(v) else (v if isinstance(v, int | float) else str(v)) for v in row])
        for cells in ws.iter_rows(min_row=2):
            for cell in cells:
                if cell.data_type == "f":  # openpyxl treats any "=..." string as a formula
                    cell.data_type = "s"
        for i, col in enumerate(safe.columns, start=1):
            ws.column_dimensions[get_column_letter(i)].width = min(40, max(10, len(str(col)) + 2))
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return atomic_write_bytes(path, buf.getvalue(), mode=0o600)
