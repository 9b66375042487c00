"""Every path riskkit uses, derived in one place from the package's own location.

Nothing depends on the working directory, so the CLI, the notebooks (which papermill runs
with their own folder as working directory) and the tests all agree on where things are.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parents[1]
PACKAGE_DATA = PACKAGE_DIR / "data"
CONFIG_DIR = PACKAGE_DIR / "config"
TEMPLATES_DIR = PACKAGE_DIR / "templates"

NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
BRIEFING_NOTEBOOK = NOTEBOOKS_DIR / "briefing.ipynb"
EXPLORE_NOTEBOOK = NOTEBOOKS_DIR / "explore.ipynb"

SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
REPORTS_DIR = PROJECT_ROOT / "reports"

DEFAULT_MODEL = CONFIG_DIR / "risk_model.yml"
DISTRICTS_CSV = PACKAGE_DATA / "districts.csv"
TOWNS_CSV = PACKAGE_DATA / "towns.csv"

RESTRICTED_SUBDIR = "restricted"
OUTPUT_MARKER = ".riskkit-output"  # marks a folder riskkit made and may replace whole
INPUTS_FILE = ".riskkit-inputs"  # content hash of a briefing's inputs, for skipping re-runs
