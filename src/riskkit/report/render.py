"""What ``riskkit render`` needs to turn any papermill output of the briefing notebook into the
same offline HTML as ``riskkit assess``: the notebook checked to be an executed, successful
briefing (never the explore notebook, whose outputs hold personal data), and the incident's
protective marking, title and risk model version, which the page carries outside the cells."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from riskkit.errors import ParameterError
from riskkit.paths import BRIEFING_NOTEBOOK


@dataclass(frozen=True)
class BriefingSource:
    marking: str
    title: str
    model_version: str


def _declared(notebook: Path) -> set[str]:
    """The names the notebook's parameters cell declares, read as papermill reads them."""
    import papermill as pm

    return set(pm.inspect_notebook(str(notebook)))


def briefing_source(notebook: Path, incident: Path | None = None) -> BriefingSource:
    """Check ``notebook`` and find its incident; one-line errors naming the file and what to do."""
    try:
        nb = json.loads(notebook.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParameterError(f"{notebook}: no such file; give a notebook papermill executed.") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ParameterError(f"{notebook}: not a Jupyter notebook (.ipynb JSON).") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ParameterError(f"{notebook}: not a Jupyter notebook (.ipynb JSON).")
    if not _declared(BRIEFING_NOTEBOOK) <= _declared(notebook):
        raise ParameterError(f"{notebook}: not riskkit's briefing notebook (its parameters differ); only the "
                             "briefing is rendered for leadership, never the explore notebook.")
    run = nb.get("metadata", {}).get("papermill", {})
    if not run or not any(c.get("outputs") for c in nb["cells"] if c.get("cell_type") == "code"):
        raise ParameterError(f"{notebook}: not executed; run it with papermill (or 'riskkit assess') first.")
    if run.get("exception"):
        raise ParameterError(f"{notebook}: its run failed; fix the error papermill reported and run it again.")
    params = run.get("parameters", {})
    if incident is None:
        given = str(params.get("incident", "")).strip()
        if not given:
            raise ParameterError(f"{notebook}: records no 'incident' parameter; give --incident INCIDENT.yml.")
        incident = Path(given)
        if not incident.is_file():
            raise ParameterError(f"{notebook}: its incident parameter {incident} is not a file from the current "
                                 "folder; run from the folder papermill ran in, or give --incident INCIDENT.yml.")
    from riskkit.incident import load_incident
    from riskkit.risk_model import load_model

    inc = load_incident(incident)
    model_text = str(params.get("model", "")).strip()
    model = load_model(Path(model_text) if model_text else (inc.resolve(inc.model) if inc.model else None))
    return BriefingSource(inc.protective_marking, inc.title, model.model_version)
