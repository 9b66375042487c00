"""Project hygiene users rely on: conda and pip agree, the code is ruff clean, samples match."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from riskkit.sample import compare_samples
from tests.conftest import ROOT


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_names = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    assert conda == pip_names
    assert "python=3.11" in env["dependencies"] and env["channels"] == ["conda-forge"]
    assert any(isinstance(d, dict) and "-e ." in d.get("pip", []) for d in env["dependencies"])


def test_ruff_clean():
    proc = subprocess.run([str(Path(sys.executable).parent / "ruff"), "check", "src", "tests", "benchmarks"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_committed_samples_match_the_generator():
    assert compare_samples(ROOT / "data" / "sample") == []


def test_layers_import_one_way():
    """The analysis never imports the presentation layer, and the ICO form's sentences come
    without the plotting stack (it imported the briefing, and with it matplotlib, before)."""
    code = ("import sys, riskkit.analysis; bad = [m for m in sys.modules if m.startswith('riskkit.report')];"
            "import riskkit.report.ico; print(bad, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[] False"
