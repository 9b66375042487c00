"""``riskkit batch``: many briefings at once, in parallel, skipping what has not changed.

A manifest lists runs; a run can expand into one briefing per district. The expensive part
(reading, placing, resolving and scoring the extract) happens once per incident and is saved
as Parquet; each district's briefing is then only a notebook render. Runs go to local worker
processes or, with ``--scheduler``, to a Dask distributed cluster.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from riskkit import outfolder
from riskkit.batch_index import write_index
from riskkit.errors import RiskkitError
from riskkit.hashing import code_version, input_hashes
from riskkit.incident import load_incident
from riskkit.paths import INPUTS_FILE, OUTPUT_MARKER, reports_dir
from riskkit.yamlio import load_validated

if TYPE_CHECKING:
    from distributed import Client

ANALYSIS_SUBDIR = ".analysis"
SCHEDULER_TIMEOUT = 20.0  # seconds to reach a Dask scheduler (it may still be starting)


class RunSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    incident: Path
    out: Path | None = None
    name: str | None = None
    model: Path | None = None
    district: str | None = None
    per_district: bool = False
    formats: list[str] = Field(default_factory=lambda: ["html"])
    now: datetime | None = None


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    runs: list[RunSpec] = Field(min_length=1)
    index: Path | None = None


@dataclass
class Job:
    name: str
    incident: str
    out: str
    model: str | None = None
    district: str = ""
    analysis_dir: str | None = None
    formats: list[str] = field(default_factory=lambda: ["html"])
    now: str | None = None
    inputs_hash: str = ""
    register: str = ""  # the breach register each rendered briefing's assessment event goes to
    chromium: str | None = None  # the browser for PDFs, as the user gave it (each worker resolves it)
    title: str = ""  # the incident's title (checked publishable) and marking, for the index
    marking: str = ""
    district_name: str = ""  # "Dacorum", not the internal "asb-publication-sample/Dacorum"


@dataclass
class Result:
    name: str
    out: str
    status: str  # ok, unchanged, failed
    reason: str = ""
    summary: dict | None = None
    seconds: float = 0.0
    title: str = ""  # empty when the run failed before its texts were checked for personal data
    marking: str = ""
    district_name: str = ""
    deadline: str = ""  # ISO; from the summary, or from the incident when the run failed
    now: str | None = None  # the time the manifest counts the deadline to (default: when the index is written)
    formats: list[str] = field(default_factory=list)


def _result(job: Job, status: str, reason: str = "", summary: dict | None = None, seconds: float = 0.0) -> Result:
    deadline = (summary or {}).get("regulator", {}).get("deadline", "") or _deadline(job.incident, job.model)
    return Result(job.name, job.out, status, reason, summary, seconds, title=job.title, marking=job.marking,
                  district_name=job.district_name, deadline=deadline, now=job.now, formats=list(job.formats))


def _deadline(incident: str | Path, model: str | Path | None) -> str:
    """The regulator deadline of an incident whose run failed, so the index can still rank it; '' if unknown."""
    try:
        from riskkit.decisions import deadline
        from riskkit.risk_model import load_model

        inc = load_incident(incident)
        return deadline(inc, load_model(model or (inc.resolve(inc.model) if inc.model else None))).isoformat()
    except RiskkitError:
        return ""


def load_manifest(path: str | Path) -> tuple[Manifest, Path]:
    """The manifest, with relative paths resolved from its own folder."""
    path = Path(path)
    manifest = load_validated(path, Manifest, RiskkitError, "the manifest")
    base = path.resolve().parent
    for spec in manifest.runs:
        spec.incident = spec.incident if spec.incident.is_absolute() else base / spec.incident
        if spec.out is not None and not spec.out.is_absolute():
            spec.out = base / spec.out
        if spec.model is not None and not spec.model.is_absolute():
            spec.model = base / spec.model
    if manifest.index is not None and not manifest.index.is_absolute():
        manifest.index = base / manifest.index
    return manifest, base


def inputs_hash(spec: RunSpec, code: str) -> str:
    """Content hash of everything a briefing depends on: extract files, incident file, model
    file, boundaries and postcode lookup, and the code version."""
    hashes = input_hashes(load_incident(spec.incident), spec.model)
    payload = [code, sorted(hashes.items()), spec.formats, spec.now.isoformat() if spec.now else None]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "district"


def _unchanged(out: Path, digest: str) -> bool:
    marker = out / INPUTS_FILE
    return (out / OUTPUT_MARKER).exists() and (out / "summary.json").exists() and (out / "briefing.html").exists() \
        and marker.exists() and marker.read_text().strip() == digest


def expand(manifest: Manifest, force: bool = False, log: Callable[[str], None] = print,
           before_analysis: Callable[[], None] = lambda: None) -> tuple[list[Job], list[Result]]:
    """Turn the manifest into render jobs; per-district runs analyse once here (unless their
    saved analysis is current). Runs that cannot even start become failed results.
    ``before_analysis`` is called before the first analysis (the batch starts its workers then)."""
    code = code_version()
    jobs: list[Job] = []
    failed: list[Result] = []
    for i, spec in enumerate(manifest.runs, start=1):
        name = spec.name or f"run {i}"
        marking, checked = "", False
        try:
            inc = load_incident(spec.incident)
            marking = inc.protective_marking
            name = spec.name or inc.id + (f"/{spec.district}" if spec.district else "")
            out = spec.out or reports_dir() / inc.id
            from riskkit.leakcheck import check_publishable

            # Named by its place in the manifest: its name is one of the texts being checked.
            check_publishable(spec.incident, f"batch run {i}", {"out": str(Path(out).resolve()),
                                                                "name": spec.name, "district": spec.district})
            checked = True
            digest = inputs_hash(spec, code)
            common = {"incident": str(spec.incident), "model": str(spec.model) if spec.model else None,
                      "formats": spec.formats, "now": spec.now.isoformat() if spec.now else None,
                      "title": inc.title, "marking": inc.protective_marking}
            if not spec.per_district:
                jobs.append(Job(name=name, out=str(out), district=spec.district or "",
                                inputs_hash=digest + (spec.district or ""),
                                district_name=_district_name(spec.district) if spec.district else "", **common))
                continue
            artefact = out / ANALYSIS_SUBDIR
            stamp = artefact / "inputs.sha256"
            # The per-district folder holds every record (.analysis/) and the districts' outputs:
            # the same --out rule as a single briefing, so a folder of someone's documents is refused.
            outfolder.check(Path(out).resolve(), f"runs[{i - 1}].out")
            if force or not stamp.exists() or stamp.read_text().strip() != digest:
                from riskkit.analysis import analyse, save

                before_analysis()
                log(f"analysing {name} once for its per-district briefings")
                out.mkdir(parents=True, exist_ok=True)
                save(analyse(spec.incident, model=spec.model, now=spec.now), artefact)
                stamp.write_text(digest + "\n")
            import pandas as pd

            codes = pd.read_parquet(artefact / "people.parquet", columns=["district_code"])["district_code"]
            cases = pd.read_parquet(artefact / "cases.parquet", columns=["lad_code"])["lad_code"]
            from riskkit.districts import UNASSIGNED, name_of

            wanted = sorted((set(codes) | set(cases)) - {UNASSIGNED})
            labels = {code: name_of(pd.Series([code])).iloc[0] for code in wanted}
            outfolder.write_marker(out, [_slug(label) for label in labels.values()])
            for district_code in wanted:
                label = name_of(pd.Series([district_code])).iloc[0]
                jobs.append(Job(name=f"{inc.id}/{label}", out=str(out / _slug(label)), district=district_code,
                                analysis_dir=str(artefact), inputs_hash=digest + district_code,
                                district_name=str(label), **common))
        except RiskkitError as exc:
            # No title here: the run may have failed because its texts name someone from the extract.
            failed.append(Result(name if checked else f"run {i}", str(spec.out or ""), "failed", str(exc), marking=marking,
                                 district_name=f"run {i} of the manifest",
                                 deadline=_deadline(spec.incident, spec.model),
                                 now=spec.now.isoformat() if spec.now else None, formats=list(spec.formats)))
    return jobs, failed


def _district_name(district: str) -> str:
    """The district's name as riskkit spells it, whether the manifest gave a code or a name
    (a district riskkit does not know is kept as given)."""
    import pandas as pd

    from riskkit.districts import code_for, name_of

    return str(name_of(pd.Series([code_for(district) or district])).iloc[0])


def _warm() -> None:
    """Import what a render needs and compile the HTML templates, in a worker, ahead of its first job."""
    from riskkit.report.export import _exporter, _page
    from riskkit.run import make_briefing  # noqa: F401 - imported for its import cost

    _exporter()
    _page()


class Workers:
    """The local worker processes, started on first use. ``warm`` starts them early, so that
    while the parent analyses an extract, each worker imports papermill, nbconvert and the
    analysis stack (about 3 s) instead of doing so at its first briefing."""

    def __init__(self, count: int) -> None:
        self.count = max(1, count)
        self._pool: ProcessPoolExecutor | None = None

    @property
    def pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            self._pool = ProcessPoolExecutor(max_workers=self.count, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def warm(self) -> None:
        if self._pool is None:
            for _ in range(self.count):
                self.pool.submit(_warm)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()


def _recorder(job: Job) -> Callable[[dict], dict] | None:
    """Appends the job's assessment event to the register and returns the briefing's snapshot."""
    if not job.register:
        return None

    def record(summary: dict) -> dict:
        from riskkit.register import Register, assessment_payload

        inc = load_incident(job.incident)
        reg = Register(job.register)
        reg.append(inc.id, "assessment", assessment_payload(summary, inc, Path(job.model) if job.model else None))
        return reg.snapshot(inc.id)

    return record


def run_job(job: Job, force: bool = False) -> Result:
    """One briefing; never raises, so one failure cannot stop the batch."""
    from riskkit.run import make_briefing

    start = time.perf_counter()
    out = Path(job.out)
    if not force and _unchanged(out, job.inputs_hash):
        return _result(job, "unchanged", summary=json.loads((out / "summary.json").read_text()),
                       seconds=time.perf_counter() - start)
    try:
        summary = make_briefing(job.incident, out, model=job.model, formats=set(job.formats),
                         now=datetime.fromisoformat(job.now) if job.now else None, progress=False,
                         analysis_dir=Path(job.analysis_dir) if job.analysis_dir else None, district=job.district,
                         inputs_hash=job.inputs_hash, record=_recorder(job), chromium=job.chromium)
        return _result(job, "ok", summary=summary, seconds=time.perf_counter() - start)
    except RiskkitError as exc:
        return _result(job, "failed", str(exc), seconds=time.perf_counter() - start)
    except Exception as exc:  # a bug in one run must not stop the others; never echo its text
        return _result(job, "failed", f"internal error ({type(exc).__name__})", seconds=time.perf_counter() - start)


def execute(jobs: list[Job], workers: Workers, force: bool = False, client: Client | None = None,
            progress: bool = True) -> list[Result]:
    """Run jobs on local worker processes or a Dask cluster, with one overall progress bar."""
    from tqdm.auto import tqdm

    results: list[Result] = []
    if not force:  # unchanged briefings are settled here, without starting a worker
        todo = []
        for job in jobs:
            if _unchanged(Path(job.out), job.inputs_hash):
                summary = json.loads((Path(job.out) / "summary.json").read_text())
                results.append(_result(job, "unchanged", summary=summary))
            else:
                todo.append(job)
    else:
        todo = jobs
    bar = tqdm(total=len(jobs), initial=len(results), desc="briefings", unit="run", disable=not progress)
    try:
        for result in _dispatch(todo, workers, force, client):
            results.append(result)
            bar.update(1)
    finally:
        bar.close()
    order = {j.name: i for i, j in enumerate(jobs)}
    return sorted(results, key=lambda r: order.get(r.name, 0))


def _dispatch(jobs: list[Job], workers: Workers, force: bool, client: Client | None) -> Iterable[Result]:
    if not jobs:
        return
    if client is not None:
        from distributed import as_completed as dask_completed

        futures = [client.submit(run_job, job, force, pure=False) for job in jobs]
        for future in dask_completed(futures):
            yield future.result()
        return
    futures = [workers.pool.submit(run_job, job, force) for job in jobs]
    for future in as_completed(futures):
        yield future.result()


def connect(scheduler: str, timeout: float = SCHEDULER_TIMEOUT) -> Client:
    """A client of the Dask scheduler, or a one-line error. The batch connects before it
    analyses anything, so a wrong address fails in seconds rather than after the analysis."""
    try:
        from distributed import Client
    except ImportError:
        raise RiskkitError("--scheduler needs dask.distributed: pip install 'dask[distributed]'.") from None
    try:
        return Client(scheduler, timeout=f"{timeout}s")
    except OSError as exc:
        raise RiskkitError(f"cannot reach the Dask scheduler at {scheduler} within {timeout:g} s "
                           f"({type(exc).__name__}); check the address or run without --scheduler.") from None


def run_batch(manifest_path: str | Path, workers: int | None = None, force: bool = False,
              scheduler: str | None = None, progress: bool = True,
              log: Callable[[str], None] = print, scheduler_timeout: float = SCHEDULER_TIMEOUT,
              register: str | None = None, chromium: str | None = None) -> tuple[list[Result], Path]:
    """Expand, execute and index a batch; returns the results and the index path. Every
    briefing rendered (not the unchanged ones) records its assessment in the register."""
    from riskkit.register import Register

    manifest, _ = load_manifest(manifest_path)
    if scheduler is None and any("pdf" in spec.formats for spec in manifest.runs):
        from riskkit.report.export import pdf_browser

        pdf_browser(chromium)  # no Playwright or browser: one line now, not a failure in every run
    url = Register(register).url  # opened and migrated once, here: a bad register fails before any work
    client = connect(scheduler, scheduler_timeout) if scheduler else None
    local = Workers(workers or os.cpu_count() or 1)
    try:
        jobs, failed = expand(manifest, force, log, before_analysis=local.warm if client is None else lambda: None)
        for job in jobs:
            job.register = url
            job.chromium = chromium
        results = failed + execute(jobs, local, force, client, progress)
    finally:
        local.close()
        if client is not None:
            client.close()
    index = manifest.index or reports_dir() / "index.html"
    write_index(results, index)
    return results, index
