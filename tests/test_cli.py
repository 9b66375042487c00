"""The ``riskkit`` command's conventions: click's usage errors (exit 2, message, suggestion), -h,
--version, ``python -m riskkit``, --json outputs, notebook parameter checks, ``riskkit render``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import papermill as pm
import pytest
from papermill.exceptions import PapermillExecutionError

import riskkit
from riskkit.errors import ParameterError
from riskkit.incident import load_incident
from riskkit.leakcheck import identifiers, scan_text
from riskkit.parameters import check_injected, injected_names
from riskkit.paths import BRIEFING_NOTEBOOK, EXPLORE_NOTEBOOK, NOTEBOOKS_DIR
from tests.conftest import ASB, ROOT

RISKKIT = [str(Path(sys.executable).parent / "riskkit")]
NOW = "2026-10-10T09:00:00+01:00"


def _run(*args: str, cmd: list[str] = RISKKIT, **kwargs: object) -> subprocess.CompletedProcess:
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=300, cwd=ROOT, **kwargs)


def _main(args: list[str], capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    """``riskkit ARGS`` in this process (a second per command saved): cli.main, exit code and output."""
    import signal

    from riskkit import cli

    monkeypatch.setattr(sys, "argv", ["riskkit", *args])
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with pytest.raises(SystemExit) as exited:
            cli.main()
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    out, err = capsys.readouterr()
    return exited.value.code, out, err


@pytest.mark.parametrize("args,message", [
    (["asses"], "No such command 'asses'. Did you mean 'assess'?"),
    (["register", "lst"], "No such command 'lst'. Did you mean 'list'?"),
    (["assess", "--bogus"], "No such option: --bogus"),
    (["assess", str(ASB), "--qiet"], "No such option: --qiet (Possible options: --no-quiet, --quiet)"),
    (["assess"], "Missing argument 'incident'."),
    (["register", "show"], "Missing argument 'incident_id'."),
    (["batch", "m.yml", "--workers", "two"], "Invalid value for '--workers'"),
])
def test_usage_errors_exit_2_with_clicks_message(args, message, capsys, monkeypatch):
    code, out, err = _main(args, capsys, monkeypatch)
    assert code == 2, err
    assert message in err and "internal error" not in err and "Traceback" not in err
    assert err.startswith("Usage: ") and "-h' for help" in err
    assert out == ""


@pytest.mark.parametrize("args", [[], ["register"], ["boundaries"]])
def test_no_arguments_shows_help_and_exits_2_as_click_does(args, capsys, monkeypatch):
    code, out, err = _main(args, capsys, monkeypatch)
    assert code == 2 and "internal error" not in err
    assert "Usage: " in out + err and "Commands" in out + err


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_flags(flag, capsys, monkeypatch):
    top, sub = _main([flag], capsys, monkeypatch), _main(["assess", flag], capsys, monkeypatch)
    assert top[0] == 0 and sub[0] == 0, top[2] + sub[2]
    assert "assess" in top[1] and "register" in top[1] and "--version" in top[1]
    assert "--json" in sub[1] and "--out" in sub[1]


def test_version_and_python_dash_m():
    by_script = _run("--version")
    by_module = _run("--version", cmd=[sys.executable, "-m", "riskkit"])
    for proc in (by_script, by_module):
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == f"riskkit {riskkit.__version__}"
    usage = _run("asses", cmd=[sys.executable, "-m", "riskkit"])
    assert usage.returncode == 2 and "Did you mean 'assess'?" in usage.stderr


def test_riskkit_errors_keep_their_one_line(capsys, monkeypatch):
    code, _, err = _main(["assess", "missing.yml"], capsys, monkeypatch)
    assert code == 2 and err.startswith("riskkit: error:") and "Usage:" not in err and err.count("\n") == 1


@pytest.fixture
def assessed(asb_run):
    """One real assessment of the ASB sample with --json, into its own register: the session's
    shared run (tests.shared_runs), read and never changed here."""
    return asb_run.out, asb_run.register, asb_run


def test_assess_json_is_the_closing_summary(assessed):
    out, _, proc = assessed
    data = json.loads(proc.stdout)  # nothing but JSON on stdout
    written = json.loads((out / "summary.json").read_text())
    assert data["summary"] == written
    assert data["summary"]["people"] == 130 and data["summary"]["incident_id"] == load_incident(ASB).id
    assert Path(data["files"]["briefing_html"]).is_file() and Path(data["files"]["restricted"]).is_dir()
    assert data["register"]["event"] == 1 and re.fullmatch(r"[0-9a-f]{64}", data["register"]["head"])
    assert "overdue" in data["time_left"] or "left" in data["time_left"]
    assert scan_text(proc.stdout, identifiers(ASB)) == []


def test_register_list_and_show_json(assessed):
    _, register, _ = assessed
    listed = _run("register", "list", "--json", "--register", str(register))
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    incident_id = load_incident(ASB).id
    assert [r["incident_id"] for r in rows] == [incident_id] and rows[0]["assessments"] == 1
    assert rows[0]["deadline"] and rows[0]["status"]
    shown = _run("register", "show", incident_id, "--json", "--register", str(register))
    assert shown.returncode == 0, shown.stderr
    events = json.loads(shown.stdout)
    assert [(e["seq"], e["kind"]) for e in events] == [(1, "assessment")]
    assert events[0]["payload"]["counts"]["people"] == 130
    found = identifiers(ASB)
    assert scan_text(listed.stdout, found) == [] and scan_text(shown.stdout, found) == []
    human = _run("register", "list", "--register", str(register))
    assert human.stdout.startswith(f"{incident_id}\t")  # human-readable stays the default


def test_render_rebuilds_the_offline_briefing_from_the_executed_notebook(assessed, tmp_path):
    made, _, _ = assessed
    out = tmp_path / "again.html"
    proc = _run("render", str(made / "briefing.ipynb"), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    drop_time = re.compile(r"\d{2} \w{3} \d{4} \d{2}:\d{2} (UTC|GMT|BST)")  # UK local time since the rendering
    assert drop_time.sub("", out.read_text()) == drop_time.sub("", (made / "briefing.html").read_text())


def test_render_any_papermill_output(tmp_path):
    executed = tmp_path / "run.ipynb"
    pm.execute_notebook(str(BRIEFING_NOTEBOOK), str(executed), parameters={"incident": str(ASB), "now": NOW},
                        cwd=str(NOTEBOOKS_DIR), progress_bar=False, kernel_name="python3")
    out = tmp_path / "briefing.html"
    proc = _run("render", str(executed), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    html = out.read_text()
    text = re.sub(r"<[^>]+>", " ", html)
    assert text.count("OFFICIAL-SENSITIVE") >= 2 and "Key figures" in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html) and "<script" not in html.lower()
    assert "import riskkit" not in html and "check_injected" not in html


@pytest.mark.parametrize("notebook,message", [
    (EXPLORE_NOTEBOOK, "not riskkit's briefing notebook"),
    (BRIEFING_NOTEBOOK, "not executed"),
    (ASB, "not a Jupyter notebook"),
    (Path("missing.ipynb"), "no such file"),
])
def test_render_refuses(notebook, message, tmp_path):
    proc = _run("render", str(notebook), "--out", str(tmp_path / "x.html"))
    assert proc.returncode == 2 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.html").exists()


@pytest.mark.parametrize("notebook", [BRIEFING_NOTEBOOK, EXPLORE_NOTEBOOK], ids=lambda p: p.name)
def test_misspelt_papermill_parameter_is_an_error(notebook, tmp_path, monkeypatch):
    monkeypatch.delenv("RISKKIT_INCIDENT", raising=False)
    with pytest.raises(PapermillExecutionError) as failed:
        pm.execute_notebook(str(notebook), str(tmp_path / "out.ipynb"), parameters={"incidnet": str(ASB)},
                            cwd=str(NOTEBOOKS_DIR), progress_bar=False, kernel_name="python3")
    assert failed.value.ename == "ParameterError"
    assert "unknown notebook parameter(s) incidnet (did you mean 'incident'?)" in failed.value.evalue
    assert "check_injected(" in failed.value.source  # the first cell after the parameters: nothing analysed


def test_no_default_incident(tmp_path, monkeypatch):
    monkeypatch.delenv("RISKKIT_INCIDENT", raising=False)
    with pytest.raises(PapermillExecutionError) as failed:
        pm.execute_notebook(str(BRIEFING_NOTEBOOK), str(tmp_path / "out.ipynb"), parameters={"now": NOW},
                            cwd=str(NOTEBOOKS_DIR), progress_bar=False, kernel_name="python3")
    assert failed.value.ename == "ParameterError" and "parameter 'incident' is empty" in failed.value.evalue


def test_help_notebook_documents_every_parameter():
    proc = subprocess.run([str(Path(sys.executable).parent / "papermill"), "--help-notebook", str(BRIEFING_NOTEBOOK)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for name in ("incident", "output_dir", "model", "now", "analysis_dir", "district", "register"):
        assert re.search(rf"^\s+{name}: str", proc.stdout, re.M), name
    assert "required" in proc.stdout


def test_injected_names_reads_only_papermills_cell():
    declared = {"incident": str, "model": str}
    assert injected_names(["", '# Parameters\nincidnet = "x"\nmodel = ""\n', ""]) == {"incidnet", "model"}
    assert injected_names(["", 'n = 5\n', ""]) == set()  # JupyterLab: the previous cell is the user's
    check_injected(["", '# Parameters\nincident = "x"\n', ""], declared)
    with pytest.raises(ParameterError, match=r"mdoel \(did you mean 'model'\?\)"):
        check_injected(["", '# Parameters\nmdoel = "x"\n', ""], declared)


def test_notebooks_copies_them_and_never_overwrites_without_force(tmp_path, capsys, monkeypatch):
    out = tmp_path / "analyst"
    code, stdout, err = _main(["notebooks", "--out", str(out)], capsys, monkeypatch)
    assert code == 0, err
    shipped = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
    assert {p.name for p in shipped} >= {"briefing.ipynb", "explore.ipynb"}
    for nb in shipped:
        assert (out / nb.name).read_bytes() == nb.read_bytes() and str(out / nb.name) in stdout
    (out / "explore.ipynb").write_text("the analyst's own work")
    code, _, err = _main(["notebooks", "--out", str(out)], capsys, monkeypatch)
    assert code == 2 and err.count("\n") == 1 and "already exists" in err and "--force" in err
    assert (out / "explore.ipynb").read_text() == "the analyst's own work"
    code, _, err = _main(["notebooks", "--out", str(out), "--force"], capsys, monkeypatch)
    assert code == 0 and (out / "explore.ipynb").read_bytes() == EXPLORE_NOTEBOOK.read_bytes()
    (tmp_path / "a-file").write_text("")
    code, _, err = _main(["notebooks", "--out", str(tmp_path / "a-file")], capsys, monkeypatch)
    assert code == 2 and "is a file, not a folder" in err


def test_assess_writes_under_the_current_folder_by_default(tmp_path, capsys, monkeypatch):
    """No --out: ./reports/<incident id> under the current folder, not the checkout's reports/."""
    import riskkit.run
    from riskkit.errors import OutputError

    given: list[Path] = []

    def stop_before_running(incident: Path, out_dir: Path, **_: object) -> None:
        given.append(Path(out_dir))
        raise OutputError("stopped by the test before the notebook")

    monkeypatch.setattr(riskkit.run, "make_briefing", stop_before_running)
    monkeypatch.chdir(tmp_path)
    code, _, err = _main(["assess", str(ASB), "--now", NOW, "--quiet"], capsys, monkeypatch)
    assert code == 2 and "stopped by the test" in err
    assert given == [tmp_path / "reports" / load_incident(ASB).id]


def test_sample_needs_out_outside_the_checkout(tmp_path, capsys, monkeypatch):
    from riskkit.paths import sample_dir_here

    monkeypatch.chdir(ROOT / "docs")
    assert sample_dir_here() == ROOT / "data" / "sample"  # make sample: the checkout's own samples
    monkeypatch.chdir(tmp_path)
    assert sample_dir_here() is None
    for args in (["sample"], ["sample", "--check"], ["sample", "--scale", "10"]):
        code, _, err = _main(args, capsys, monkeypatch)
        assert code == 2 and err.count("\n") == 1 and "--out" in err, args
    assert list(tmp_path.iterdir()) == []
