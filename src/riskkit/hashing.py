"""Content hashes of an assessment's inputs: one place for the batch runner's skip check and
the register's record of exactly what was assessed."""

from __future__ import annotations

import hashlib
from pathlib import Path

from riskkit import __version__
from riskkit.incident import Incident
from riskkit.paths import BRIEFING_NOTEBOOK, DEFAULT_MODEL, PACKAGE_DIR


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def code_version() -> str:
    """riskkit's version plus a digest of its source, config and the briefing notebook, so a
    code change counts as a change even without a version bump."""
    h = hashlib.sha256(__version__.encode())
    for path in sorted([*PACKAGE_DIR.rglob("*.py"), *PACKAGE_DIR.rglob("*.yml"), *PACKAGE_DIR.rglob("*.j2"),
                        *PACKAGE_DIR.rglob("*.csv"), BRIEFING_NOTEBOOK]):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def input_files(incident: Incident, model: Path | None = None) -> dict[str, Path]:
    """Every file an assessment reads, by role: incident, extract files, model, geography."""
    files = {"incident": incident.source} if incident.source else {}
    for i, spec in enumerate(incident.files):
        files[f"extract[{i}] {spec.path.as_posix()}"] = incident.resolve(spec.path)
    files["model"] = model or (incident.resolve(incident.model) if incident.model else DEFAULT_MODEL)
    if incident.boundaries:
        files["boundaries"] = incident.resolve(incident.boundaries.path)
    if incident.postcode_lookup:
        files["postcode_lookup"] = incident.resolve(incident.postcode_lookup.path)
    return files


def input_hashes(incident: Incident, model: Path | None = None) -> dict[str, str]:
    return {role: file_sha256(path) for role, path in input_files(incident, model).items() if Path(path).is_file()}
