"""Validating notebook parameters, because papermill does not.

Papermill injects whatever it is given (unknown names only warn) and writes every value into
the output notebook, so riskkit checks names, types and paths itself, and parameters are only
ever paths and options, never personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from riskkit.errors import ParameterError

FORMATS = {"html", "pdf"}


def check_formats(formats: set[str]) -> set[str]:
    """The output formats asked for, or a one-line error naming the unknown ones."""
    if not formats <= FORMATS:
        raise ParameterError(f"unknown format(s) {', '.join(sorted(formats - FORMATS))}; use html and/or pdf.")
    return formats


@dataclass(frozen=True)
class BriefingParameters:
    incident: Path
    output_dir: Path | None
    model: Path | None
    now: datetime | None
    analysis_dir: Path | None = None
    district: str = ""
    register: str = ""


def _text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise ParameterError(f"parameter '{name}' must be a string, got {type(value).__name__}; quote it.")
    return value.strip()


def validate(incident: object, output_dir: object = "", model: object = "", now: object = "",
             analysis_dir: object = "", district: object = "", register: object = "") -> BriefingParameters:
    """Check every briefing parameter; one clear error for the first problem."""
    inc = Path(_text("incident", incident))
    if not inc.is_file():
        raise ParameterError(f"parameter 'incident': {inc} is not a file; give the path to an incident.yml.")
    out_text, model_text, now_text = _text("output_dir", output_dir), _text("model", model), _text("now", now)
    mdl = Path(model_text) if model_text else None
    if mdl is not None and not mdl.is_file():
        raise ParameterError(f"parameter 'model': {mdl} is not a file; give a risk model YAML or leave it empty.")
    when = None
    if now_text:
        try:
            when = datetime.fromisoformat(now_text)
        except ValueError:
            raise ParameterError("parameter 'now': not an ISO 8601 time; use e.g. 2026-10-10T09:00:00+01:00.") from None
        if when.tzinfo is None:
            raise ParameterError("parameter 'now': needs a time zone, e.g. 2026-10-10T09:00:00+01:00.")
    saved = Path(_text("analysis_dir", analysis_dir)) if _text("analysis_dir", analysis_dir) else None
    if saved is not None and not (saved / "analysis.json").is_file():
        raise ParameterError(f"parameter 'analysis_dir': {saved} holds no saved analysis (analysis.json); "
                             "leave it empty to analyse the incident.")
    reg = _text("register", register)
    if "://" in reg and "@" in reg.split("://", 1)[1].split("/", 1)[0] and ":" in reg.split("://", 1)[1].split("@", 1)[0]:
        raise ParameterError("parameter 'register': the URL holds a password, and papermill writes parameters into "
                             "the output notebook; use PGPASSWORD or ~/.pgpass instead.")
    return BriefingParameters(inc, Path(out_text) if out_text else None, mdl, when, saved,
                              _text("district", district), reg)


def check_names(given: dict, declared: set[str]) -> None:
    """Refuse parameters the notebook does not declare (papermill would only warn)."""
    unknown = sorted(set(given) - declared)
    if unknown:
        raise ParameterError(f"unknown notebook parameter(s) {', '.join(unknown)}; the notebook declares "
                             f"{', '.join(sorted(declared))}.")
