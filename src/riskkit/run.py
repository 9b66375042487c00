"""``riskkit assess``: run the briefing notebook through papermill and publish its outputs.

The run happens in a staging folder beside the output folder; only a complete run is moved
into place, so an interrupted or failed run never leaves files that look finished. A lock
stops two runs writing the same output folder at once.

Data flows one way: the runner analyses (or loads a saved analysis), hands the summary to
``record`` (the CLI and the batch append the assessment event to the breach register there),
writes what ``record`` returns to a snapshot file, and only then renders the notebook from the
saved analysis and the snapshot. The kernel never opens the register, so the briefing shows the
register as it is after this run's event.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from riskkit import outfolder
from riskkit.errors import (
    GeographyError,
    NotebookError,
    OutputError,
    ParameterError,
    RiskkitError,
    Stopped,
    os_problem,
    raise_stopped,
)
from riskkit.incident import load_incident
from riskkit.parameters import check_formats, check_names
from riskkit.paths import BRIEFING_NOTEBOOK, INPUTS_FILE, NOTEBOOKS_DIR
from riskkit.report.export import pdf_browser, render_html, render_pdf
from riskkit.risk_model import check_incident, load_model


@contextmanager
def output_lock(out_dir: Path) -> Iterator[None]:
    """An exclusive lock per output folder; a second run is refused, not queued."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    lock_path = out_dir.parent / f".{out_dir.name}.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputError(f"{out_dir}: another riskkit run is writing this folder; wait for it to "
                              "finish or choose another --out.") from None
        yield
    finally:
        os.close(fd)


def check_output_dir(out_dir: Path) -> None:
    """Refuse to replace a folder riskkit did not make, or one holding files it did not write:
    publishing swaps the whole folder, and ``--out ~`` must never cost anyone their home directory."""
    outfolder.check(out_dir)


def _publish(staging: Path, out_dir: Path) -> None:
    """Swap the finished staging folder into place (two renames; the old folder goes last)."""
    old = None
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
        os.replace(out_dir, old / "previous")
    os.replace(staging, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# A Unix socket address holds 107 bytes; the kernel's sockets are named "k-1" to "k-5" in its folder.
SOCKET_PATH_MAX = 107


def _kernel_folders_parents() -> list[Path]:
    """Where kernel folders are made: the temporary folder, and /tmp when that one's path is too
    long for a socket address (a deep TMPDIR made every run fail with ZeroMQ's "File name too long")."""
    return list(dict.fromkeys([Path(tempfile.gettempdir()), Path("/tmp")]))  # noqa: S108 - fallback only


def _kernel_folder() -> Path:
    """An owner-only folder for the kernel's sockets and log, short enough for socket addresses."""
    prefix = f"{KERNEL_PREFIX}{os.getpid()}-"
    for parent in _kernel_folders_parents():
        # mkdtemp adds 8 characters; the longest socket name is "/k-99"
        if len(str(parent / f"{prefix}xxxxxxxx" / "k-99").encode()) <= SOCKET_PATH_MAX and parent.is_dir():
            return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    raise OutputError(f"the temporary folder's path is too long for the notebook kernel's sockets "
                      f"(at most {SOCKET_PATH_MAX - 40} characters): set TMPDIR to a shorter folder.")


def _clean_stale(out_dir: Path) -> list[str]:
    """Remove staging folders left by runs that were killed (we hold the lock, so none is live),
    and kernel folders whose process has ended (SIGKILL leaves both); returns the staging and
    swap folders removed."""
    removed = []
    for pattern in (f".{out_dir.name}.staging-*", f".{out_dir.name}.old-*"):
        for stale in out_dir.parent.glob(pattern):
            shutil.rmtree(stale, ignore_errors=True)
            removed.append(stale.name)
    for stale in (s for parent in _kernel_folders_parents() for s in parent.glob(f"{KERNEL_PREFIX}*")):
        pid = stale.name.removeprefix(KERNEL_PREFIX).split("-")[0]
        try:
            ours = stale.stat().st_uid == os.getuid()
        except OSError:  # removed meanwhile by its own run
            continue
        if ours and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


KERNEL_PREFIX = "riskkit-kernel-"
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@contextmanager
def _stop_handlers() -> Iterator[None]:
    """SIGINT and SIGTERM raise ``Stopped`` so that every ``finally`` runs (SIGTERM's default is to
    die on the spot, leaving staging behind). Only the main thread can set handlers."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    _install()
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _install() -> None:
    import threading

    if threading.current_thread() is threading.main_thread():
        for sig in STOP_SIGNALS:
            signal.signal(sig, raise_stopped)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while the kernel is stopped and staging removed, or while a finished
    run is swapped into place; they take effect right after."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextmanager
def _private_umask() -> Iterator[None]:
    """Every file and folder the run (and its kernel) creates is owner-only from its first byte;
    publishing opens up the leadership files explicitly."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def make_briefing(incident: str | Path, out_dir: str | Path, model: str | Path | None = None,
           formats: set[str] | None = None, now: datetime | None = None, progress: bool = True,
           notebook: Path = BRIEFING_NOTEBOOK, analysis_dir: Path | None = None, district: str = "",
           inputs_hash: str | None = None, record: Callable[[dict], dict] | None = None,
           chromium: str | Path | None = None) -> dict:
    """Assess one incident into ``out_dir``; returns the summary. Raises RiskkitError on failure.

    ``record`` receives the analysis summary before the briefing is rendered and returns the
    register snapshot the briefing shows (head, counts, decisions); None renders no register
    section. A run that fails after ``record`` keeps its event: the analysis was done.
    ``chromium`` is the browser for a PDF (default: $RISKKIT_CHROMIUM, else found on the machine)."""
    import papermill as pm
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    formats = check_formats(formats or {"html"})
    if now is not None and now.tzinfo is None:
        raise ParameterError("--now: needs a time zone, e.g. 2026-10-10T09:00:00+01:00.")
    inc = load_incident(incident)  # fail fast, before starting a kernel
    _check_boundaries(inc)
    check_incident(inc, load_model(model or (inc.resolve(inc.model) if inc.model else None)))
    if "pdf" in formats:  # a missing browser or Playwright fails here, before a kernel starts
        chromium = pdf_browser(chromium)
    try:
        out_dir = Path(out_dir).resolve()
    except RuntimeError:  # Python's "Symlink loop"
        raise OutputError(f"{out_dir}: a symbolic link in the path loops back on itself; choose another folder.") from None
    check_output_dir(out_dir)
    params = {"incident": str(Path(incident).resolve()), "output_dir": "", "model": str(Path(model).resolve()) if model else "",
              "now": now.isoformat() if now else "", "analysis_dir": str(Path(analysis_dir).resolve()) if analysis_dir else "",
              "district": district, "register": ""}
    declared = set(pm.inspect_notebook(str(notebook)))
    check_names(params, declared)

    with _stop_handlers(), output_lock(out_dir), _private_umask():
        check_output_dir(out_dir)  # again under the lock: another run may have just published
        _clean_stale(out_dir)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-", dir=out_dir.parent))
        # IPC socket paths must be short and plain (a Unix socket address holds 107 bytes), so the
        # kernel's sockets and log live in their own owner-only temporary folder, named with this
        # process's id so that the next run can tell a dead run's folder from a live one.
        kernel_dir = _kernel_folder()
        km = None
        try:
            params["output_dir"] = str(staging)
            if record is not None:
                params.update(_record_first(record, params, staging / ".riskkit-analysis"))
            executed = staging / "briefing.ipynb"
            # IPC sockets in the owner-only staging folder rather than TCP on localhost: the
            # kernel's traffic is the analysis of personal data.
            km = _kernel_manager(kernel_dir)
            try:
                # The staging notebook is written once, at the end or on a failing cell, not at
                # every cell's start and end (32 saves of a notebook carrying its charts): nobody
                # reads it before the run ends.
                pm.execute_notebook(str(notebook), str(executed), parameters=params, cwd=str(NOTEBOOKS_DIR),
                                    progress_bar=progress, log_output=False, kernel_name="python3", km=km,
                                    request_save_on_cell_execute=False)
            except PapermillExecutionError as exc:
                _after_notebook(km)
                raise _notebook_failure(exc, executed, out_dir) from None
            except DeadKernelError:
                _after_notebook(km)
                raise NotebookError("the notebook's kernel died mid-run, most often because it ran out of memory "
                                    "(the analysis needs about 1 GB per million records); nothing was published. "
                                    "Free memory or run on a larger machine, then re-run.") from None
            except Exception:
                # a signal while the kernel starts: nbclient shuts the kernel down and the start
                # fails with whatever the half-open sockets raise (ZMQError, RuntimeError...)
                if getattr(km, "stopped_by_signal", False):
                    _after_notebook(km)
                raise
            _after_notebook(km)
            _stop_kernel(km)
            render_html(executed, staging / "briefing.html", inc.protective_marking, inc.title,
                        json.loads((staging / "summary.json").read_text())["model_version"])
            if "pdf" in formats:
                render_pdf(staging / "briefing.html", staging / "briefing.pdf", chromium)
            summary = json.loads((staging / "summary.json").read_text())
            for private in (staging / ".riskkit-analysis", staging / ".riskkit-register.json"):
                shutil.rmtree(private, ignore_errors=True) if private.is_dir() else private.unlink(missing_ok=True)
            if inputs_hash:
                (staging / INPUTS_FILE).write_text(inputs_hash + "\n")
            _open_leadership_files(staging)
            outfolder.write_marker(staging)
            with _signals_held():
                _publish(staging, out_dir)
            return summary
        finally:
            with _signals_held():  # the kernel first (it may still be writing), then its files
                _stop_kernel(km)
                shutil.rmtree(kernel_dir, ignore_errors=True)
                if staging.exists():
                    shutil.rmtree(staging, ignore_errors=True)


TABLE_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xls", ".parquet"}


def _check_boundaries(inc: object) -> None:
    """A table given as boundaries (GDAL reads a CSV as geometry-less rows) fails here, in words."""
    b = getattr(inc, "boundaries", None)
    if b is not None and Path(b.path).suffix.lower() in TABLE_SUFFIXES:
        raise GeographyError(f"boundaries.path: {b.path} is a table, not a boundary file; give GeoJSON, GeoPackage "
                             "or a Shapefile (riskkit boundaries download fetches the ONS ones).")


def _after_notebook(km: object) -> None:
    """nbclient replaces SIGINT/SIGTERM handlers while it runs the notebook, and on either signal
    shuts the kernel down instead of raising: put riskkit's handlers back, and turn a kernel that
    was shut down by a signal into the interruption it was."""
    _install()
    if getattr(km, "stopped_by_signal", False):
        raise Stopped(signal.SIGINT)


def _stop_kernel(km: object | None) -> None:
    """Kill the notebook's kernel and wait for it: papermill leaves a kernel it was handed running."""
    process = getattr(getattr(km, "provisioner", None), "process", None) if km is not None else None
    if process is not None and process.poll() is None:
        process.kill()
        process.wait()
    connection = getattr(km, "connection_file", "") if km is not None else ""
    if connection:  # the kernel's keys and socket names, in the temporary folder
        Path(connection).unlink(missing_ok=True)


def _open_leadership_files(staging: Path) -> None:
    """The leadership files readable by others (0644, folder 0755); restricted/ stays 0700/0600."""
    os.chmod(staging, 0o755)  # noqa: S103 - the folder of the leadership files
    for path in staging.iterdir():
        if path.is_file():
            os.chmod(path, 0o644)


def _record_first(record: Callable[[dict], dict], params: dict, saved: Path) -> dict:
    """Analyse in this process (or load the saved analysis), let ``record`` append the event, and
    write its snapshot beside the staged outputs; returns the notebook parameters that point at
    both. The saved analysis holds personal data: owner-only, removed before publishing."""
    from riskkit.analysis import for_briefing, save, summary
    from riskkit.outputs import write_json
    from riskkit.parameters import validate

    given = validate(params["incident"], "", params["model"], params["now"], params["analysis_dir"], params["district"])
    try:
        analysis = for_briefing(given)
    except (RiskkitError, OSError):
        raise
    except Exception as exc:  # what the notebook would have reported as its failing cell
        if os.environ.get("RISKKIT_DEBUG") == "1":
            raise
        raise NotebookError(f"the analysis failed with {type(exc).__name__} before the briefing was rendered; nothing "
                            "was published. Re-run with RISKKIT_DEBUG=1 to see the traceback (it may contain "
                            "personal data).") from None
    updates = {}
    if not given.analysis_dir:
        save(analysis.whole if analysis.whole is not None else analysis, saved)
        updates["analysis_dir"] = str(saved)
    snapshot = record(summary(analysis))
    del analysis
    updates["register"] = str(write_json(saved.parent / ".riskkit-register.json", snapshot, mode=0o600))
    return updates


def _kernel_manager(folder: Path):  # noqa: ANN202 - jupyter_client type
    """A kernel on IPC sockets whose own log goes to a file, not the user's terminal: the
    terminal shows riskkit's progress bar and one-line errors, nothing else."""
    from jupyter_client.manager import AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: object) -> None:
            kw["stderr"] = open(folder / "kernel.log", "ab")  # noqa: SIM115 - lives as long as the kernel
            await super()._async_launch_kernel(kernel_cmd, **kw)

        _launch_kernel = _async_launch_kernel
        stopped_by_signal = False

        async def _async_shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
            # riskkit hands papermill this manager, so nbclient only shuts it down on SIGINT/SIGTERM
            self.stopped_by_signal = True
            await super()._async_shutdown_kernel(now=True, restart=restart)

        shutdown_kernel = _async_shutdown_kernel

    return QuietKernelManager(kernel_name="python3", transport="ipc", ip=str(folder / "k"))


def _notebook_failure(exc: Exception, executed: Path, out_dir: Path) -> RiskkitError:
    """Keep the annotated notebook (owner-only: a traceback may quote data) and point at it."""
    kept = out_dir.parent / f"{out_dir.name}.failed.ipynb"
    if executed.exists():
        shutil.copyfile(executed, kept)
        os.chmod(kept, 0o600)
    ename = getattr(exc, "ename", "Error")
    cell = getattr(exc, "exec_count", None)
    errno = re.match(r"\[Errno (\d+)\]", str(getattr(exc, "evalue", "")))
    problem = os_problem(OSError(int(errno.group(1)), "")) if errno else None
    if problem is not None:  # disk full and the like, inside the kernel: the same words as outside
        return OutputError(f"{problem} (in cell {cell}; annotated notebook: {kept})")
    if ename.endswith("Error") and ename in _RISKKIT_ERRORS:
        message = str(getattr(exc, "evalue", "")).strip()
        return RiskkitError(f"{message} (annotated notebook: {kept})")
    return NotebookError(f"the briefing notebook failed in cell {cell} with {ename}; the annotated notebook "
                         f"is kept at {kept}.")


_RISKKIT_ERRORS = {cls.__name__ for cls in [RiskkitError, *RiskkitError.__subclasses__()]}
