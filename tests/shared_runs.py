"""One real ``riskkit assess`` of each sample per test session, shared by the tests that only read it.

Executing the briefing notebook costs a kernel start and some 10-20 s of CPU. Several test files
(end to end, the browser, the CLI's --json, the SIGKILL test's reference run) used to assess the
same sample with the same arguments each on their own; they now read one run. Tests that change
the run (interrupts, mutated incidents, environment variables) still make their own.

Under pytest-xdist each worker is a process with its own session, so the run is built once for the
whole test session behind a file lock in the folder the workers share (the parent of each worker's
``basetemp``); without xdist it lives in the session's own ``basetemp``. Never a fixed path under
/tmp: two sessions (or two engineers) running at once must not read each other's outputs.

The outputs are read-only by convention: a test that needs to change an output copies it first.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from filelock import FileLock

RISKKIT = str(Path(sys.executable).parent / "riskkit")
NOW = "2026-10-10T09:00:00+01:00"


@dataclass(frozen=True)
class SharedRun:
    """A finished ``riskkit assess``: its output folder, its register and what it printed."""

    out: Path
    register: Path
    returncode: int
    stdout: str
    stderr: str


def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder every worker of this test session sees (and no other session does)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def shared_assess(tmp_path_factory: pytest.TempPathFactory, name: str, incident: Path, *extra: str) -> SharedRun:
    """``riskkit assess incident --out <shared>/<name>/out --now NOW --quiet --register ... *extra``,
    run by whichever worker asks first; the others wait for it and read what it left."""
    folder = shared_root(tmp_path_factory) / "riskkit-shared-runs" / name
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / incident.parent.name  # named as the sample's folder, as a reader of the HTML may show
    done = folder / "process.json"
    with FileLock(str(folder / ".lock")):
        if not done.exists():
            proc = subprocess.run([RISKKIT, "assess", str(incident), "--out", str(out), "--now", NOW, "--quiet",
                                   "--register", str(folder / "register.sqlite"), *extra],
                                  capture_output=True, text=True, timeout=600)
            record = {"returncode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}
            tmp = done.with_suffix(".tmp")
            tmp.write_text(json.dumps(record))
            tmp.replace(done)
    record = json.loads(done.read_text())
    return SharedRun(out, folder / "register.sqlite", record["returncode"], record["stdout"], record["stderr"])
