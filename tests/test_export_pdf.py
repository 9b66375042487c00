"""PDF output's runtime path: which browser prints it, and one clear line when Playwright or the
browser is missing, before anything is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from riskkit.errors import OutputError
from riskkit.report import export
from tests.conftest import ASB

RISKKIT = str(Path(sys.executable).parent / "riskkit")
NOW = "2026-10-10T09:00:00+01:00"


def _fake_browser(folder: Path, name: str = "chromium") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def no_browser(tmp_path, monkeypatch):
    """A machine with no Chromium: nothing at the default path, nothing on PATH, no variable."""
    monkeypatch.setattr(export, "CHROMIUM", str(tmp_path / "absent" / "chromium"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.delenv(export.CHROMIUM_ENV, raising=False)
    return tmp_path


def test_the_option_wins_over_the_variable(tmp_path, monkeypatch):
    given = _fake_browser(tmp_path / "a")
    monkeypatch.setenv(export.CHROMIUM_ENV, str(_fake_browser(tmp_path / "b")))
    assert export.find_chromium(str(given)) == given
    assert export.find_chromium() == tmp_path / "b" / "chromium"


def test_without_option_or_variable_chromium_on_path_is_used(no_browser, monkeypatch):
    found = _fake_browser(no_browser / "bin", "chromium-browser")
    monkeypatch.setenv("PATH", str(found.parent))
    assert export.find_chromium() == found


def test_the_default_debian_path_comes_before_path(no_browser, monkeypatch):
    default = _fake_browser(no_browser / "usr-bin")
    monkeypatch.setattr(export, "CHROMIUM", str(default))
    monkeypatch.setenv("PATH", str(_fake_browser(no_browser / "bin").parent))
    assert export.find_chromium() == default


@pytest.mark.parametrize("how", ["option", "variable"])
def test_a_browser_path_that_does_not_work_is_named(no_browser, monkeypatch, how):
    bad = no_browser / "not-here" / "chromium"
    _fake_browser(no_browser / "bin")  # a browser on PATH must not be used in its place
    monkeypatch.setenv("PATH", str(no_browser / "bin"))
    if how == "variable":
        monkeypatch.setenv(export.CHROMIUM_ENV, str(bad))
    with pytest.raises(OutputError) as err:
        export.find_chromium(str(bad) if how == "option" else None)
    message = str(err.value)
    assert ("--chromium" if how == "option" else "RISKKIT_CHROMIUM") in message and str(bad) in message
    assert "\n" not in message


def test_a_file_that_is_not_executable_is_not_a_browser(tmp_path):
    plain = tmp_path / "chromium"
    plain.write_text("not a program")
    with pytest.raises(OutputError, match="no runnable Chromium"):
        export.find_chromium(str(plain))


def test_no_browser_anywhere_says_what_to_install_or_set(no_browser):
    with pytest.raises(OutputError) as err:
        export.pdf_browser()
    message = str(err.value)
    assert "apt install chromium" in message and "--chromium" in message and "RISKKIT_CHROMIUM" in message


def test_missing_playwright_says_to_install_the_pdf_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "playwright", None)  # import playwright now raises ImportError
    with pytest.raises(OutputError, match=r"pip install 'riskkit\[pdf\]'"):
        export.pdf_browser(str(_fake_browser(tmp_path)))


def test_assess_refuses_a_pdf_it_cannot_print_before_the_notebook_starts(no_browser):
    from riskkit.run import make_briefing

    out = no_browser / "out"
    with pytest.raises(OutputError, match="PDF output needs Chromium"):
        make_briefing(ASB, out, formats={"html", "pdf"}, progress=False)
    assert not out.exists() and not any(p.name.startswith(".out.staging") for p in no_browser.iterdir())


def _cli(args: list[str], tmp_path: Path, env: dict | None = None, prelude: str = "") -> subprocess.CompletedProcess:
    code = f"{prelude}import sys; from riskkit.cli import main; sys.argv = ['riskkit'] + {args!r}; main()"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env={**os.environ, **(env or {})})


def test_cli_bad_chromium_is_one_line_and_writes_nothing(tmp_path):
    out, reg = tmp_path / "out", tmp_path / "r.sqlite"
    proc = _cli(["assess", str(ASB), "--format", "html,pdf", "--chromium", str(tmp_path / "nope"), "--out", str(out),
                 "--now", NOW, "--quiet", "--register", str(reg)], tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [proc.stderr.strip()] and proc.stderr.startswith("riskkit: error: --chromium ")
    assert not out.exists() and not reg.exists()  # refused before the register or the output folder


def test_cli_without_playwright_is_one_line_and_writes_nothing(tmp_path):
    out, reg = tmp_path / "out", tmp_path / "r.sqlite"
    proc = _cli(["assess", str(ASB), "--format", "pdf", "--out", str(out), "--now", NOW, "--quiet", "--register", str(reg)],
                tmp_path, prelude="import sys; sys.modules['playwright'] = None; ")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == ("riskkit: error: PDF output needs Playwright, which is not installed: pip install "
                                   "'riskkit[pdf]' (or leave pdf out of --format / formats).")
    assert not out.exists() and not reg.exists()


def test_batch_asking_for_pdfs_without_a_browser_stops_before_any_run(tmp_path):
    manifest = tmp_path / "m.yml"
    manifest.write_text(f"index: {tmp_path}/index.html\nruns:\n  - incident: {ASB}\n    out: a\n    formats: [html, pdf]\n"
                        f"    now: '{NOW}'\n")
    proc = subprocess.run([RISKKIT, "batch", str(manifest), "--quiet", "--register", str(tmp_path / "r.sqlite")],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "RISKKIT_CHROMIUM": "/nonexistent"})
    assert proc.returncode == 2 and proc.stderr.startswith("riskkit: error: RISKKIT_CHROMIUM /nonexistent: no runnable")
    assert not (tmp_path / "a").exists() and not (tmp_path / "index.html").exists()
