"""Every path riskkit uses, derived in one place.

What riskkit ships (the notebooks, the HTML template, the default risk and linkage models, the
district tables) is found with ``importlib.resources`` inside the installed package, so a wheel
installed with ``pip install riskkit`` works wherever it lands. Only a checkout of the repository
has a ``data/sample`` folder and keeps the notebooks at its top (``notebooks/``, where analysts
open them; the wheel carries a copy built from them, see setup.py): those are found from the
package's own location, and only when that location is a checkout's ``src/riskkit``.

Defaults for what riskkit writes are relative to the current folder (``./reports/<incident
id>``), never to where riskkit is installed. Nothing here reads the working directory at import
time, so the notebooks (which papermill runs with their own folder as working directory) and the
CLI agree on every shipped file.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _shipped(*parts: str) -> Path:
    """A file or folder shipped inside the package. riskkit is installed as plain files (pip
    unpacks wheels; it is never imported from a zip), so the resource is a real path that
    papermill, Jinja and pandas can open."""
    return Path(str(resources.files("riskkit").joinpath(*parts)))


def _checkout_root() -> Path | None:
    """The repository this package is imported from (an editable install or PYTHONPATH=src),
    or None for an installed wheel."""
    root = PACKAGE_DIR.parents[1]
    if PACKAGE_DIR == root / "src" / "riskkit" and (root / "pyproject.toml").is_file():
        return root
    return None


CHECKOUT_ROOT = _checkout_root()
PACKAGE_DATA = _shipped("data")
CONFIG_DIR = _shipped("config")
TEMPLATES_DIR = _shipped("templates")


def _notebooks_dir() -> Path:
    """The wheel's copy (riskkit/notebooks) when installed; the checkout's notebooks/ otherwise,
    so that an analyst's edit there is what the CLI runs."""
    shipped = _shipped("notebooks")
    if (shipped / "briefing.ipynb").is_file() or CHECKOUT_ROOT is None:
        return shipped
    return CHECKOUT_ROOT / "notebooks"


NOTEBOOKS_DIR = _notebooks_dir()
BRIEFING_NOTEBOOK = NOTEBOOKS_DIR / "briefing.ipynb"
EXPLORE_NOTEBOOK = NOTEBOOKS_DIR / "explore.ipynb"

# The committed sample incidents: only in a checkout (a wheel does not carry them).
SAMPLE_DIR: Path | None = CHECKOUT_ROOT / "data" / "sample" if CHECKOUT_ROOT else None

DEFAULT_MODEL = CONFIG_DIR / "risk_model.yml"
DISTRICTS_CSV = PACKAGE_DATA / "districts.csv"
TOWNS_CSV = PACKAGE_DATA / "towns.csv"

REPORTS_SUBDIR = "reports"
RESTRICTED_SUBDIR = "restricted"
OUTPUT_MARKER = ".riskkit-output"  # marks a folder riskkit made and may replace whole
INPUTS_FILE = ".riskkit-inputs"  # content hash of a briefing's inputs, for skipping re-runs


def reports_dir() -> Path:
    """Where outputs go when no ``--out`` is given: ``reports/`` under the current folder, as an
    absolute path (a batch hands it to worker processes that may run elsewhere)."""
    return Path.cwd() / REPORTS_SUBDIR


def sample_dir_here() -> Path | None:
    """The checkout's ``data/sample`` when riskkit runs from that checkout and the current folder
    is inside it (what ``make sample`` does); None otherwise, so that ``riskkit sample`` never
    writes into a repository the user is not working in."""
    if SAMPLE_DIR is None or CHECKOUT_ROOT is None:
        return None
    try:
        Path.cwd().resolve().relative_to(CHECKOUT_ROOT)
    except (ValueError, OSError):
        return None
    return SAMPLE_DIR
