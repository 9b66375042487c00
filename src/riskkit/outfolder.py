"""Which output folders riskkit may replace, and only what it wrote in them.

Publishing swaps a whole folder into place, so riskkit must never swap away a file it did not
write: a note a user saved beside the briefing, an output someone nested inside ``restricted/``,
their documents in a folder given as ``--out``. The marker file in every output folder lists
every file riskkit wrote there (and, for a batch's per-district folder, the district output
folders under it); anything else found in the folder stops the run with a message.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from riskkit.errors import OutputError
from riskkit.paths import OUTPUT_MARKER

HEADER = "riskkit output folder: the next run replaces the files listed below, and stops if it finds any other"
# What older riskkit versions wrote, for folders whose marker lists nothing.
LEGACY_NAMES = {"briefing.html", "briefing.pdf", "briefing.ipynb", "summary.json", "restricted", OUTPUT_MARKER,
                ".riskkit-inputs"}
# riskkit's own transient files beside an output folder: its lock, staging and swap folders, and
# the annotated notebook of a failed run.
TRANSIENT = re.compile(r"^\..+\.(lock|staging-.+|old-.+)$|.+\.failed\.ipynb$")


def listed(folder: Path) -> tuple[set[str], set[str]] | None:
    """(files, output sub-folders) the marker lists; None when there is no marker."""
    marker = folder / OUTPUT_MARKER
    if not marker.is_file():
        return None
    lines = marker.read_text(encoding="utf-8", errors="replace").splitlines()
    if not lines or lines[0] != HEADER:
        return set(), set()  # an older marker: LEGACY_NAMES apply
    entries = set(lines[1:])
    return {e for e in entries if not e.endswith("/")}, {e.rstrip("/") for e in entries if e.endswith("/")}


def write_marker(folder: Path, subfolders: list[str] | tuple[str, ...] = ()) -> Path:
    """List every file now under ``folder`` (output sub-folders excepted) in its marker."""
    from riskkit.outputs import atomic_write_text

    files = []
    for root, dirs, names in os.walk(folder):
        rel = Path(root).relative_to(folder)
        dirs[:] = [d for d in dirs if (rel / d).as_posix() not in subfolders]
        files += [(rel / n).as_posix() for n in names if (rel / n).as_posix() != OUTPUT_MARKER]
    text = "\n".join([HEADER, *sorted(files), *(f"{s}/" for s in sorted(subfolders))]) + "\n"
    return atomic_write_text(folder / OUTPUT_MARKER, text)


def foreign(folder: Path) -> int:
    """How many files or folders under ``folder`` riskkit did not write there."""
    marks = listed(folder)
    if marks is None:
        return sum(1 for _ in folder.iterdir())
    files, subfolders = marks
    legacy = not files and not subfolders
    count = 0
    for root, dirs, names in os.walk(folder):
        rel = Path(root).relative_to(folder)
        keep = []
        for d in dirs:
            path = (rel / d).as_posix()
            if path in subfolders or TRANSIENT.match(d):
                continue  # a district's own output folder is checked by its own run
            if legacy and rel == Path(".") and d not in LEGACY_NAMES:
                count += 1
                continue
            keep.append(d)
        dirs[:] = keep
        for n in names:
            path = (rel / n).as_posix()
            if path == OUTPUT_MARKER or TRANSIENT.match(n) or (legacy and path.split("/")[0] in LEGACY_NAMES):
                continue
            if not legacy and path in files:
                continue
            count += 1
    return count


def inside_another_output(out_dir: Path) -> Path | None:
    """The riskkit output folder ``out_dir`` would be nested in (not as one of its listed
    sub-folders), or None: re-running that one would replace this one whole."""
    for parent in out_dir.parents:
        marks = listed(parent)
        if marks is not None:
            return None if out_dir.relative_to(parent).as_posix() in marks[1] else parent
    return None


def check(out_dir: Path, option: str = "--out") -> None:
    """Refuse a folder riskkit may not replace; one line naming the folder and what to do."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir}: exists and is a file; choose a folder for {option}.")
    if out_dir == Path(out_dir.anchor) or out_dir == Path.home():
        raise OutputError(f"{out_dir}: choose a dedicated folder for {option}, not / or your home folder.")
    if out_dir.is_dir() and os.path.ismount(out_dir):
        raise OutputError(f"{out_dir}: is a mount point, which riskkit cannot swap for a finished run; choose a "
                          f"folder inside it for {option}.")
    nested = inside_another_output(out_dir)
    if nested is not None:
        raise OutputError(f"{out_dir}: is inside the riskkit output folder {nested}, whose next run would replace it; "
                          f"choose a folder outside it for {option}.")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if listed(out_dir) is None:
            raise OutputError(f"{out_dir}: exists, is not empty and is not a riskkit output folder; choose a new "
                              f"or empty folder for {option}.")
        extra = foreign(out_dir)
        if extra:
            raise OutputError(f"{out_dir}: holds {extra} file(s) or folder(s) riskkit did not write (its "
                              f"{OUTPUT_MARKER} lists what it wrote); move them elsewhere, or choose another {option}.")


def make_private_dirs(folder: Path) -> Path:
    """Create ``folder`` and any missing parents owner-only (0700) from the start: pathlib's
    ``mkdir(parents=True, mode=...)`` gives the parents default permissions."""
    target = Path(folder)
    missing, path = [], target
    while not path.exists():
        missing.append(path)
        path = path.parent
    for each in reversed(missing):
        try:
            each.mkdir(mode=0o700)
        except FileExistsError:
            continue
    return target
