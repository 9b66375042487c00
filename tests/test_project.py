"""Project hygiene users rely on: conda and pip agree, the code is ruff clean, samples match."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from riskkit.sample import compare_samples
from tests.conftest import ROOT


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pins(requirements: list[str]) -> dict[str, str]:
    """Package name -> its version constraint, extras dropped (pip's psycopg[binary] is conda's psycopg)."""
    return {_name(r): re.sub(r"\[.*?\]", "", r.strip())[len(_name(r)):].strip() for r in requirements}


def _conda(file: str) -> tuple[dict, dict[str, str]]:
    env = yaml.safe_load((ROOT / file).read_text())
    pins = _pins([d for d in env["dependencies"] if isinstance(d, str) and _name(d) not in ("python", "pip")])
    return env, pins


@pytest.mark.parametrize(("file", "extras"), [("environment.yml", ["pdf"]), ("environment-dev.yml", ["pdf", "dev"])])
def test_environment_files_match_pyproject(file, extras):
    """Users' environment.yml is the runtime (with PDF output); environment-dev.yml adds the dev
    tools; both carry pyproject's packages with the same minimum versions, nothing more."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _pins(project["dependencies"] + [r for e in extras for r in project["optional-dependencies"][e]])
    env, conda = _conda(file)
    assert conda == wanted
    assert "python=3.11" in env["dependencies"] and env["channels"] == ["conda-forge"]
    assert any(isinstance(d, dict) and "-e ." in d.get("pip", []) for d in env["dependencies"])


def test_user_environment_has_no_test_tools_and_pdf_is_an_extra():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    dev_only = {_name(r) for r in project["optional-dependencies"]["dev"]} - {"playwright"}
    assert not dev_only & set(_conda("environment.yml")[1])
    assert "playwright" not in {_name(r) for r in project["dependencies"]}
    assert "playwright" in {_name(r) for r in project["optional-dependencies"]["pdf"]}
    assert "playwright" in {_name(r) for r in project["optional-dependencies"]["dev"]}  # the browser test


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
