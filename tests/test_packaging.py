"""riskkit as a user installs it: the wheel, not an editable checkout, in a fresh virtualenv, run
from a folder that is not the checkout. Also the ``python -m riskkit`` start guard, the
``notebooks`` command and the defaults that used to point into the checkout.

Installing riskkit's dependencies from PyPI into the fresh venv would take minutes, so the venv
gets them from the running environment through a .pth file. A .pth line only adds a folder to
``sys.path``; the .pth files inside that folder (the editable install's own) are not processed,
so the checkout's riskkit is not importable through it: the test checks that, and that the
riskkit that runs is the one the wheel put in the fresh venv.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from importlib.machinery import PathFinder
from pathlib import Path

import papermill as pm
import pytest

from riskkit import _module_run
from riskkit.paths import NOTEBOOKS_DIR
from tests.conftest import ASB, ROOT

NOW = "2026-10-10T09:00:00+01:00"
BUILD_FROM = ["pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "src", "notebooks"]


def _env() -> dict[str, str]:
    """This environment without PYTHONPATH: the tests run with the checkout's src first on it,
    which would hide whether the wheel's riskkit is the one imported."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def _ok(cmd: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{cmd[:4]}: {proc.stderr[-3000:]}"
    return proc


def _copy_sources(dest: Path) -> Path:
    """What the sdist is built from, copied so that building leaves nothing in the checkout."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", ".ipynb_checkpoints")
    dest.mkdir(parents=True)
    for name in BUILD_FROM:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        else:
            shutil.copy2(src, dest / name)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """sdist, then a wheel from the sdist (as ``python -m build`` does), with the environment's
    setuptools and wheel (no build isolation: no download)."""
    root = tmp_path_factory.mktemp("build")
    sources = _copy_sources(root / "riskkit-src")
    _ok([sys.executable, "-c", "import sys; from setuptools import build_meta; build_meta.build_sdist(sys.argv[1])",
         root / "sdist"], cwd=sources)
    (sdist,) = (root / "sdist").glob("riskkit-*.tar.gz")
    _ok([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "-q", "-w", root / "wheels", sdist], cwd=root)
    (built,) = (root / "wheels").glob("riskkit-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed (not editable) and the dependencies lent by a .pth."""
    root = tmp_path_factory.mktemp("venv")
    env_dir = root / "venv"
    _ok([sys.executable, "-m", "venv", "--without-pip", env_dir], cwd=root)
    python = env_dir / "bin" / "python"
    # Installed before the .pth exists, so pip cannot mistake the checkout's riskkit for this one.
    _ok([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
         "--disable-pip-version-check", "-q", wheel], cwd=root)
    site = Path(_ok([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=root).stdout.strip())
    lent = sysconfig.get_paths()["purelib"]
    (site / "riskkit-test-dependencies.pth").write_text(lent + "\n")
    # nbconvert's HTML templates are data files pip puts in the venv's share/jupyter, not in
    # site-packages: lend them too, as a pip install of nbconvert would have placed them.
    templates = Path(sys.prefix) / "share" / "jupyter" / "nbconvert"
    (env_dir / "share" / "jupyter").mkdir(parents=True)
    (env_dir / "share" / "jupyter" / "nbconvert").symlink_to(templates, target_is_directory=True)
    return env_dir


@pytest.mark.slow
def test_the_wheel_carries_every_module_notebook_template_and_model(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    package = ROOT / "src" / "riskkit"
    expected = {"riskkit/" + p.relative_to(package).as_posix() for p in package.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert expected - names == set(), "files under src/riskkit missing from the wheel (package data globs?)"
    shipped = {n for n in names if n.startswith("riskkit/notebooks/")}
    assert shipped == {f"riskkit/notebooks/{p.name}" for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert {"riskkit/notebooks/briefing.ipynb", "riskkit/notebooks/explore.ipynb"} <= shipped
    assert {"riskkit/templates/briefing.html.j2", "riskkit/config/risk_model.yml"} <= names
    assert not any(n.startswith(("notebooks/", "data/", "tests/")) for n in names)


@pytest.mark.slow
def test_the_lent_dependencies_do_not_include_the_checkouts_riskkit(venv):
    lent = (next((venv / "lib").glob("python*/site-packages")) / "riskkit-test-dependencies.pth").read_text().split()
    assert PathFinder.find_spec("riskkit", lent) is None
    assert PathFinder.find_spec("pandas", lent) is not None


@pytest.mark.slow
def test_the_installed_wheel_assesses_the_sample_from_another_folder(venv, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    python, riskkit = venv / "bin" / "python", venv / "bin" / "riskkit"
    where = json.loads(_ok([python, "-c", "import json, riskkit, riskkit.paths as p; print(json.dumps("
                                          "[riskkit.__file__, str(p.NOTEBOOKS_DIR), str(p.TEMPLATES_DIR), "
                                          "str(p.DEFAULT_MODEL), p.CHECKOUT_ROOT, p.SAMPLE_DIR]))"], cwd=elsewhere).stdout)
    for path in where[:4]:
        assert Path(path).resolve().is_relative_to(venv.resolve()) and Path(path).exists(), path
    assert where[4:] == [None, None]  # an installed wheel is not a checkout and has no sample folder

    proc = _ok([riskkit, "assess", ASB, "--out", tmp_path / "out", "--now", NOW, "--quiet",
                "--register", tmp_path / "register.sqlite"], cwd=elsewhere)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["incident_id"] == "asb-publication-sample" and summary["people"] == 130
    assert summary["cases"] == 62 and summary["subject_records"] == 142
    assert next(d for d in summary["districts"] if d["district"] == "Dacorum")["cases"] == 9
    html = (tmp_path / "out" / "briefing.html").read_text()
    assert "Dacorum" in html and "OFFICIAL-SENSITIVE" in html and "<script" not in html.lower()
    assert "130" in html and "62" in html
    assert (tmp_path / "out" / "restricted" / "contact_list.csv").is_file()
    assert "130 people" in proc.stdout
    assert list(elsewhere.iterdir()) == []  # --out given: nothing written in the current folder

    by_module = _ok([python, "-m", "riskkit", "--version"], cwd=elsewhere)
    assert by_module.stdout.startswith("riskkit ")


@pytest.mark.slow
def test_the_installed_wheel_copies_its_notebooks_and_asks_where_to_write_the_sample(venv, tmp_path):
    riskkit = venv / "bin" / "riskkit"
    _ok([riskkit, "notebooks", "--out", tmp_path / "mine"], cwd=tmp_path)
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        assert (tmp_path / "mine" / notebook.name).read_bytes() == notebook.read_bytes()
    for notebook in ("briefing.ipynb", "explore.ipynb"):  # papermill users read the installed copy's help
        installed = next((venv / "lib").glob("python*/site-packages")) / "riskkit" / "notebooks" / notebook
        helped = _ok([venv / "bin" / "python", "-m", "papermill", "--help-notebook", installed], cwd=tmp_path).stdout
        for name, param in pm.inspect_notebook(str(ROOT / "notebooks" / notebook)).items():
            documented = rf"^\s+{name}: str \(default[^)]*\)\s+{re.escape(param['help'][:30])}"
            assert re.search(documented, helped, re.M), (notebook, name)
    proc = subprocess.run([riskkit, "sample"], cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "--out" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


@pytest.mark.parametrize("argv0,orig,guarded", [
    ("-m", ["python", "-m", "riskkit", "assess"], True),
    ("-m", ["python", "-X", "dev", "-Im", "riskkit"], True),
    ("/venv/bin/riskkit", ["/venv/bin/python", "/venv/bin/riskkit", "assess"], True),
    ("-m", ["python", "-m", "ipykernel_launcher", "-f", "k.json"], False),
    ("-m", ["python", "-m", "riskkit.people.training"], False),
    ("-c", ["python", "-c", "import riskkit"], False),
    ("/x/pytest", ["python", "/x/pytest"], False),
])
def test_the_start_guard_covers_python_dash_m(argv0, orig, guarded, tmp_path):
    """Import riskkit in a fresh interpreter whose command line looks like ``orig``: only the
    riskkit command (script or ``-m``) swaps Ctrl-C and SIGTERM for the one-line stop."""
    script = ("import signal, sys; sys.argv[0] = sys.argv[1]; sys.orig_argv[:] = sys.argv[2:]; import riskkit; "
              "print(signal.getsignal(signal.SIGINT) is riskkit._stop_while_starting, "
              "signal.getsignal(signal.SIGTERM) is riskkit._stop_while_starting)")
    proc = subprocess.run([sys.executable, "-c", script, argv0, *orig], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(guarded)] * 2


def test_module_run_reads_interpreter_options():
    assert _module_run(["-u", "-W", "ignore", "-mriskkit"]) == "riskkit"
    assert _module_run(["script.py", "-m", "riskkit"]) is None
    assert _module_run(["-c", "x", "-m", "riskkit"]) is None


def test_checkout_notebooks_are_the_ones_run_in_a_checkout():
    assert NOTEBOOKS_DIR == ROOT / "notebooks"
