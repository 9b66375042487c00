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
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from riskkit.errors import NotebookError, OutputError, RiskkitError
from riskkit.export import render_html, render_pdf
from riskkit.incident import load_incident
from riskkit.parameters import check_formats, check_names
from riskkit.paths import BRIEFING_NOTEBOOK, INPUTS_FILE, NOTEBOOKS_DIR, OUTPUT_MARKER
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
    """Refuse to replace a folder riskkit did not make: publishing swaps the whole folder, and
    ``--out ~`` must never cost anyone their home directory."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir}: exists and is a file; choose a folder for --out.")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / OUTPUT_MARKER).exists():
        raise OutputError(f"{out_dir}: exists, is not empty and is not a riskkit output folder; choose a new "
                          "or empty folder for --out.")
    if out_dir == Path(out_dir.anchor) or out_dir == Path.home():
        raise OutputError(f"{out_dir}: choose a dedicated folder for --out, not / or your home folder.")


def _publish(staging: Path, out_dir: Path) -> None:
    """Swap the finished staging folder into place (two renames; the old folder goes last)."""
    old = None
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
        os.replace(out_dir, old / "previous")
    os.replace(staging, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _clean_stale(out_dir: Path) -> None:
    """Remove staging folders left by runs that were killed (we hold the lock, so none is live)."""
    for stale in out_dir.parent.glob(f".{out_dir.name}.staging-*"):
        shutil.rmtree(stale, ignore_errors=True)
    for stale in out_dir.parent.glob(f".{out_dir.name}.old-*"):
        shutil.rmtree(stale, ignore_errors=True)


def assess(incident: str | Path, out_dir: str | Path, model: str | Path | None = None,
           formats: set[str] | None = None, now: datetime | None = None, progress: bool = True,
           notebook: Path = BRIEFING_NOTEBOOK, analysis_dir: Path | None = None, district: str = "",
           inputs_hash: str | None = None, record: Callable[[dict], dict] | None = None) -> dict:
    """Assess one incident into ``out_dir``; returns the summary. Raises RiskkitError on failure.

    ``record`` receives the analysis summary before the briefing is rendered and returns the
    register snapshot the briefing shows (head, counts, decisions); None renders no register
    section. A run that fails after ``record`` keeps its event: the analysis was done."""
    import papermill as pm
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    formats = check_formats(formats or {"html"})
    inc = load_incident(incident)  # fail fast, before starting a kernel
    check_incident(inc, load_model(model or (inc.resolve(inc.model) if inc.model else None)))
    out_dir = Path(out_dir).resolve()
    check_output_dir(out_dir)
    params = {"incident": str(Path(incident).resolve()), "output_dir": "", "model": str(Path(model).resolve()) if model else "",
              "now": now.isoformat() if now else "", "analysis_dir": str(Path(analysis_dir).resolve()) if analysis_dir else "",
              "district": district, "register": ""}
    declared = set(pm.inspect_notebook(str(notebook)))
    check_names(params, declared)

    with output_lock(out_dir):
        check_output_dir(out_dir)  # again under the lock: another run may have just published
        _clean_stale(out_dir)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-", dir=out_dir.parent))
        # IPC socket paths must be short and plain (ZeroMQ limits them to about 100 bytes), so the
        # kernel's sockets and log live in their own owner-only temporary folder.
        kernel_dir = Path(tempfile.mkdtemp(prefix="riskkit-kernel-"))
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
                raise _notebook_failure(exc, executed, out_dir) from None
            except DeadKernelError:
                raise NotebookError("the notebook's kernel died mid-run, most often because it ran out of memory "
                                    "(the analysis needs about 1 GB per million records); nothing was published. "
                                    "Free memory or run on a larger machine, then re-run.") from None
            render_html(executed, staging / "briefing.html", inc.protective_marking, inc.title,
                        json.loads((staging / "summary.json").read_text())["model_version"])
            if "pdf" in formats:
                render_pdf(staging / "briefing.html", staging / "briefing.pdf")
            summary = json.loads((staging / "summary.json").read_text())
            for private in (staging / ".riskkit-analysis", staging / ".riskkit-register.json"):
                shutil.rmtree(private, ignore_errors=True) if private.is_dir() else private.unlink(missing_ok=True)
            (staging / OUTPUT_MARKER).write_text("riskkit output folder: replaced whole by the next run\n")
            if inputs_hash:
                (staging / INPUTS_FILE).write_text(inputs_hash + "\n")
            os.chmod(staging, 0o755)  # noqa: S103 - leadership files readable; restricted/ stays 0700
            _publish(staging, out_dir)
            return summary
        finally:
            shutil.rmtree(kernel_dir, ignore_errors=True)
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)


def _record_first(record: Callable[[dict], dict], params: dict, saved: Path) -> dict:
    """Analyse in this process (or load the saved analysis), let ``record`` append the event, and
    write its snapshot beside the staged outputs; returns the notebook parameters that point at
    both. The saved analysis holds personal data: owner-only, removed before publishing."""
    from riskkit.analysis import for_briefing, save, summary
    from riskkit.outputs import write_json
    from riskkit.parameters import validate

    given = validate(params["incident"], "", params["model"], params["now"], params["analysis_dir"], params["district"])
    analysis = for_briefing(given)
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

    return QuietKernelManager(kernel_name="python3", transport="ipc", ip=str(folder / "k"))


def _notebook_failure(exc: Exception, executed: Path, out_dir: Path) -> RiskkitError:
    """Keep the annotated notebook (owner-only: a traceback may quote data) and point at it."""
    kept = out_dir.parent / f"{out_dir.name}.failed.ipynb"
    if executed.exists():
        shutil.copyfile(executed, kept)
        os.chmod(kept, 0o600)
    ename = getattr(exc, "ename", "Error")
    cell = getattr(exc, "exec_count", None)
    if ename.endswith("Error") and ename in _RISKKIT_ERRORS:
        message = str(getattr(exc, "evalue", "")).strip()
        return RiskkitError(f"{message} (annotated notebook: {kept})")
    return NotebookError(f"the briefing notebook failed in cell {cell} with {ename}; the annotated notebook "
                         f"is kept at {kept}.")


_RISKKIT_ERRORS = {cls.__name__ for cls in [RiskkitError, *RiskkitError.__subclasses__()]}
