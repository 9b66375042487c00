"""Ctrl-C, SIGTERM and SIGKILL at several moments of a run: one line, exit 130/143, the kernel
stopped, and nothing with personal data left outside a complete, owner-only output."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import ASB

RISKKIT = str(Path(sys.executable).parent / "riskkit")
NOW = "2026-10-10T09:00:00+01:00"


@pytest.fixture
def short_tmp():
    """The run's TMPDIR, short enough for the kernel's socket addresses (pytest's own folders can
    be too deep under xdist: then riskkit makes its kernel folder in /tmp, out of this test's sight)."""
    folder = Path(tempfile.mkdtemp(prefix="rk-", dir="/tmp"))  # noqa: S108
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_deep_temporary_folder_still_runs(tmp_path):
    """A TMPDIR too deep for a socket address (ZeroMQ: "File name too long") used to end every run
    in an internal error: the kernel folder goes to /tmp instead, and is removed after."""
    deep = tmp_path / ("d" * 60) / "tmp"
    deep.mkdir(parents=True)
    proc = subprocess.Popen([RISKKIT, "assess", str(ASB), "--out", str(tmp_path / "out"), "--now", NOW, "--quiet",
                             "--register", str(tmp_path / "r.sqlite")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "TMPDIR": str(deep)})
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert (tmp_path / "out" / "briefing.html").exists()
    # this run's kernel folder (named with its process id) is gone; other tests' runs may be live
    assert not list(Path("/tmp").glob(f"riskkit-kernel-{proc.pid}-*")) and list(deep.iterdir()) == []


def _kernels_of(folder: Path) -> list[int]:
    """Processes whose command line names ``folder`` (the kernels started for this test)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if str(folder) in cmdline and "ipykernel" in cmdline:
                found.append(int(proc.name))
    return found


def _moment_reached(moment: str, work: Path, tmp: Path) -> bool:
    staging = list(work.glob(".out.staging-*"))
    if moment == "starting":
        return True
    if moment == "analysing":
        return bool(staging)
    if moment == "kernel":
        return any(tmp.glob("riskkit-kernel-*/kernel.log"))
    return any((s / "summary.json").exists() for s in staging)  # "restricted files written"


def _private_modes(work: Path) -> set[int]:
    modes = set()
    for staging in work.glob(".out.staging-*"):
        try:
            for folder in [staging, *(p for p in staging.rglob("*") if p.is_dir())]:
                modes.add(stat.S_IMODE(folder.stat().st_mode))
        except OSError:  # removed while we looked
            continue
    return modes


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("moment", ["starting", "analysing", "kernel", "restricted files written"])
def test_a_signal_at_any_moment_stops_cleanly(tmp_path, short_tmp, sig, moment):
    work, tmp = tmp_path / "work", short_tmp
    work.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    proc = subprocess.Popen([RISKKIT, "assess", str(ASB), "--out", str(work / "out"), "--now", NOW, "--quiet",
                             "--register", str(tmp_path / "r.sqlite")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    modes: set[int] = set()
    deadline = time.monotonic() + 240
    while proc.poll() is None and not _moment_reached(moment, work, tmp) and time.monotonic() < deadline:
        modes |= _private_modes(work)
        time.sleep(0.05)
    time.sleep(0.5 if moment == "starting" else 0.2)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:  # it finished first: then the output must be complete
        assert (work / "out" / "briefing.html").exists()
    elif proc.returncode == -sig:
        # Ctrl-C before riskkit's first import guards it (interpreter start-up, on a loaded
        # machine): Python's own exit, with at most its KeyboardInterrupt traceback, and nothing written
        assert moment == "starting" and not (work / "out").exists()
        assert not err.strip() or err.strip().splitlines()[-1] == "KeyboardInterrupt", err
    else:
        assert proc.returncode == 128 + sig, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("riskkit: "), err
        assert ("interrupted" if sig == signal.SIGINT else "stopped by SIGTERM") in lines[0]
        assert not (work / "out").exists()
    assert not list(work.glob(".out.staging-*")) and not list(work.glob(".out.old-*"))
    assert [p.name for p in tmp.iterdir()] == []  # no riskkit-kernel-* folder, no connection file
    assert _kernels_of(tmp) == []
    assert modes <= {0o700}, f"staging folders seen with modes {sorted(oct(m) for m in modes)}"
    if (work / "out").exists():
        assert stat.S_IMODE((work / "out" / "restricted").stat().st_mode) == 0o700


def test_a_stale_staging_and_kernel_folder_from_sigkill_are_removed_by_the_next_run(tmp_path, short_tmp):
    work, tmp = tmp_path / "work", short_tmp
    work.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    args = [RISKKIT, "assess", str(ASB), "--out", str(work / "out"), "--now", NOW, "--quiet",
            "--register", str(tmp_path / "r.sqlite")]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 240
    while proc.poll() is None and not _moment_reached("restricted files written", work, tmp) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.kill()
    proc.communicate()
    for pid in _kernels_of(tmp):  # SIGKILL cannot stop the kernel: its orphan is ended here
        os.kill(pid, signal.SIGKILL)
    assert list(work.glob(".out.staging-*")) and list(tmp.glob("riskkit-kernel-*"))
    staged = next(work.glob(".out.staging-*"))
    assert stat.S_IMODE(staged.stat().st_mode) == 0o700
    # every folder owner-only, so no file inside is reachable by others; restricted files 0600 too
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o700 for p in staged.rglob("*") if p.is_dir())
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in staged.glob("restricted/*"))
    rerun = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert not list(work.glob(".out.staging-*")) and not list(tmp.glob("riskkit-kernel-*"))
