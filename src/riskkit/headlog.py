"""The register's head log: an append-only text file, outside the database, of every event's hash.

A hash chain alone proves nothing against someone who can write the database: they can edit an
event and recompute every later hash. The head log is a second witness kept beside the register
(or wherever ``$RISKKIT_HEAD_LOG`` says, e.g. a folder only the DPO can write, or a WORM share):
``verify`` checks that every hash it lists is still the database's event at that position, so a
rewritten, removed or truncated event shows even when the chain itself has been recomputed.
Someone who can rewrite both files can still hide a change; SECURITY.md says so.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

HEAD_LOG_ENV = "RISKKIT_HEAD_LOG"
HEADS_DIR = Path.home() / ".local" / "share" / "riskkit" / "heads"


@dataclass(frozen=True)
class Entry:
    seq: int
    hash: str


def head_log_path(url: str) -> Path:
    """``$RISKKIT_HEAD_LOG``, else ``<register>.heads`` beside an SQLite file, else a file named
    after the database URL (without its password) in riskkit's own data folder."""
    if os.environ.get(HEAD_LOG_ENV):
        return Path(os.environ[HEAD_LOG_ENV]).expanduser()
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///") + ".heads")
    key = hashlib.sha256(make_url(url).render_as_string(hide_password=True).encode()).hexdigest()[:16]
    return HEADS_DIR / f"{key}.heads"


def append(path: Path, seq: int, digest: str, recorded_at: str) -> None:
    """One line per event, written with O_APPEND so that concurrent writers never interleave."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{seq}\t{digest}\t{recorded_at}\n".encode())
    finally:
        os.close(fd)


def read(path: Path) -> tuple[list[Entry], str | None]:
    """The entries, and a description of the first unreadable line (or None)."""
    if not path.exists():
        return [], None
    entries = []
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except (UnicodeDecodeError, OSError):
        return [], f"the head log {path} is not readable text"
    for number, line in enumerate(lines, start=1):
        parts = line.split("\t")
        if len(parts) != 3 or not parts[0].isdigit() or len(parts[1]) != 64:
            return entries, f"line {number} of the head log {path} is damaged"
        entries.append(Entry(int(parts[0]), parts[1]))
    return entries, None


def compare(entries: list[Entry], hashes: dict[int, str], path: Path) -> str | None:
    """The first disagreement between the head log and the database's events, or None."""
    for entry in entries:
        recorded = hashes.get(entry.seq)
        if recorded is None:
            return (f"the head log {path} records event {entry.seq}, but the register holds {len(hashes)} event(s): "
                    "events were removed or the register was truncated or replaced")
        if recorded != entry.hash:
            return (f"event {entry.seq} is not the event the head log {path} recorded: it was rewritten "
                    "after it was recorded")
    return None
