"""Validating notebook parameters, because papermill does not.

Papermill injects whatever it is given (unknown names only warn) and writes every value into
the output notebook, so riskkit checks names, types and paths itself, and parameters are only
ever paths and options, never personal data.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from datetime import datetime
from difflib import get_close_matches
from pathlib import Path

from riskkit.errors import ParameterError

FORMATS = {"html", "pdf"}
INCIDENT_ENV = "RISKKIT_INCIDENT"  # the incident of a run without parameters (the notebook tests set it)
INJECTED_MARKER = "# Parameters"  # how papermill's injected-parameters cell starts


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
    if not _text("incident", incident):
        raise ParameterError("parameter 'incident' is empty; give the incident file: papermill ... -p incident "
                             "path/to/incident.yml, or fill it in the parameters cell.")
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


def check_names(given: dict | set[str], declared: set[str]) -> None:
    """Refuse parameters the notebook does not declare (papermill would only warn, then run the
    defaults: a misspelt ``-p incidnet`` would assess the wrong incident)."""
    unknown = sorted(set(given) - declared)
    if unknown:
        close = [m for name in unknown for m in get_close_matches(name, sorted(declared), n=1)]
        hint = f" (did you mean {', '.join(repr(m) for m in close)}?)" if close else ""
        raise ParameterError(f"unknown notebook parameter(s) {', '.join(unknown)}{hint}; the notebook declares "
                             f"{', '.join(sorted(declared))}.")


def injected_names(history: list[str]) -> set[str]:
    """The names papermill injected, read from the kernel's input history (IPython's ``In``):
    the cell just before the one calling this, when it is papermill's ``# Parameters`` cell.
    Empty for a run without papermill (JupyterLab), so re-running cells there never trips it."""
    if len(history) < 2 or not history[-2].lstrip().startswith(INJECTED_MARKER):
        return set()
    try:
        tree = ast.parse(history[-2])
    except SyntaxError:
        return set()
    return {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}


def check_injected(history: list[str], declared: dict | set[str]) -> None:
    """The notebook's first check, right after its parameters: every injected name is declared.
    ``declared`` is the parameters cell's ``__annotations__`` (every parameter is annotated)."""
    check_names(injected_names(history), set(declared))


def incident_parameter(incident: object) -> object:
    """The ``incident`` parameter, or ``$RISKKIT_INCIDENT`` when it is empty (the notebook tests run
    the notebooks without parameters); still empty, ``validate`` refuses it. There is no default
    incident: a run that forgot ``-p incident`` must not assess the sample instead."""
    if isinstance(incident, str) and not incident.strip():
        return os.environ.get(INCIDENT_ENV, "")
    return incident
