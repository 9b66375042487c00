"""The ``riskkit`` command line. Every user error is one line on stderr and a non-zero exit;
no traceback reaches the user unless ``RISKKIT_DEBUG=1`` asks for it."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from riskkit.errors import RiskkitError
from riskkit.paths import REPORTS_SUBDIR, reports_dir, sample_dir_here

if TYPE_CHECKING:
    from riskkit.register import Event

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]},
                  help="Assess personal-data breaches: from a leaked extract to a leadership briefing.")
boundaries_app = typer.Typer(no_args_is_help=True, help="Official district boundary files.")
app.add_typer(boundaries_app, name="boundaries")


def _version(value: bool) -> None:
    if value:
        from riskkit import __version__

        typer.echo(f"riskkit {__version__}")
        raise typer.Exit(0)


@app.callback()
def _options(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                   help="Print riskkit's version and exit.")] = False) -> None:
    pass


def _usage_errors() -> tuple[type[BaseException], ...]:
    """The exception classes click shows to the user itself (usage errors, exit 2; aborts, exit 1).

    typer 0.2x raises them from the click it bundles (``typer._click``), not from the ``click``
    package, so a check against ``click.ClickException`` alone never matches: find the class
    through what typer exports, and keep ``click``'s for a typer that uses click itself."""
    found: list[type[BaseException]] = [c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"]
    found.append(typer.Abort)
    try:
        import click

        found += [click.ClickException, click.Abort]
    except ImportError:  # pragma: no cover - typer without click installed
        pass
    return tuple(dict.fromkeys(found))


def _show_usage_error(exc: BaseException) -> None:
    """What click's standalone mode prints: the usage, a hint, the message with its suggestion."""
    show = getattr(exc, "show", None)
    if show is None:  # an Abort (end of input at a prompt)
        typer.echo("Aborted!", err=True)
        sys.exit(1)
    show()
    sys.exit(getattr(exc, "exit_code", 2))


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"riskkit: error: {message}", err=True)
    raise typer.Exit(code)


def main() -> None:
    """Entry point that turns every failure into one line."""
    import signal

    from riskkit.errors import STOPPED_BY, Stopped, raise_stopped

    for sig in (signal.SIGINT, signal.SIGTERM):  # both unwind through every finally (staging removed)
        signal.signal(sig, raise_stopped)
    try:
        code = app(standalone_mode=False)  # click returns (not raises) the code of typer.Exit here
        if STOPPED_BY:  # typer turned the interruption into a silent exit code 130: say what happened
            _stopped(Stopped(STOPPED_BY[0]))
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Exit as exc:
        if STOPPED_BY:
            _stopped(Stopped(STOPPED_BY[0]))
        sys.exit(exc.exit_code)
    except RiskkitError as exc:
        typer.echo(f"riskkit: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt as exc:
        _stopped(exc)
    except _usage_errors() as exc:  # click's own: usage errors (did you mean ...?), bad parameters
        _show_usage_error(exc)
    except OSError as exc:
        from riskkit.errors import os_problem

        problem = os_problem(exc)
        if problem is None or os.environ.get("RISKKIT_DEBUG") == "1":
            _internal(exc)
        typer.echo(f"riskkit: error: {problem}", err=True)
        sys.exit(problem.exit_code)
    except Exception as exc:  # a bug: never print its text, it may quote data
        if STOPPED_BY:  # a failure while unwinding from Ctrl-C or SIGTERM is the interruption
            _stopped(Stopped(STOPPED_BY[0]))
        _internal(exc)


def _internal(exc: Exception) -> None:
    """A bug: never print its text, it may quote data."""
    if os.environ.get("RISKKIT_DEBUG") == "1":
        raise exc
    import click

    if isinstance(exc, click.ClickException):
        exc.show()
        sys.exit(exc.exit_code)
    typer.echo(f"riskkit: internal error ({type(exc).__name__}); re-run with RISKKIT_DEBUG=1 to see the "
               "traceback (it may contain personal data).", err=True)
    sys.exit(1)


def _stopped(exc: BaseException | None) -> None:
    """One line for Ctrl-C or SIGTERM (exit 130 or 143), whichever layer caught it."""
    import signal

    from riskkit import stop_message

    signum = int(getattr(exc, "signum", signal.SIGINT))
    typer.echo(stop_message(signum), err=True)
    sys.exit(128 + signum)


@app.command()
def assess(
    incident: Annotated[Path, typer.Argument(help="The incident.yml describing the breach and its extract.")],
    out: Annotated[Path | None, typer.Option(help=f"Output folder (default ./{REPORTS_SUBDIR}/<incident id>, "
                                                                 "under the current folder).")] = None,
    model: Annotated[Path | None, typer.Option(help="Risk model YAML (default: the incident's, else built in).")] = None,
    format: Annotated[str, typer.Option("--format", help="Comma-separated: html, pdf.")] = "html",  # noqa: A002
    now: Annotated[str | None, typer.Option(help="ISO time to count the deadline to (default: now).")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    analyst: Annotated[str | None, typer.Option(help="Who ran the assessment (default: the OS user).")] = None,
    register: Annotated[str | None, typer.Option(help="Breach register: SQLite path or database URL "
                                                      "(default: $RISKKIT_REGISTER, else ~/.local/share/riskkit).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the closing summary as JSON on stdout "
                                                          "(summary.json's counts, no personal data).")] = False,
    chromium: Annotated[str | None, typer.Option(help="Chromium program that prints the PDF (default: $RISKKIT_CHROMIUM, "
                                                      "else /usr/bin/chromium, else chromium on PATH).")] = None,
) -> None:
    """Assess one incident: briefing.html, summary.json and restricted/ outputs; record it in the register."""
    from riskkit.incident import load_incident
    from riskkit.parameters import check_formats

    when = None
    if now:
        try:
            when = datetime.fromisoformat(now)
        except ValueError:
            _fail("--now: not an ISO 8601 time; use e.g. 2026-10-10T09:00:00+01:00.")
        if when is not None and when.tzinfo is None:
            _fail("--now: needs a time zone, e.g. 2026-10-10T09:00:00+01:00 (checked before the notebook starts).")
    try:
        (out or Path(".")).resolve()
    except RuntimeError:  # Python's "Symlink loop"
        _fail(f"--out {out}: a symbolic link in the path loops back on itself; choose another folder.")
    # Mistakes in the arguments fail here, before the seconds it takes to import the notebook stack.
    inc = load_incident(incident)
    from riskkit.risk_model import check_incident, load_model

    check_incident(inc, load_model(model or (inc.resolve(inc.model) if inc.model else None)))
    out_dir = out or reports_dir() / inc.id
    formats = check_formats({f.strip().lower() for f in format.split(",") if f.strip()})
    if "pdf" in formats:  # Playwright and a browser, checked before anything is written
        from riskkit.report.export import pdf_browser

        chromium = str(pdf_browser(chromium))
    from riskkit.leakcheck import check_publishable

    check_publishable(incident, "assess", {"--out": str(Path(out_dir).resolve()), "--analyst": analyst})
    from riskkit.decisions import time_left_words
    from riskkit.outputs import XLSX_MAX_ROWS
    from riskkit.register import Register, assessment_payload, resolve_url
    from riskkit.run import make_briefing
    from riskkit.wording import when_iso

    reg = Register(resolve_url(register))  # opened (and migrated) before the run: a bad URL fails fast
    recorded: list = []

    def record(summary: dict) -> dict:
        """Append this run's event, then snapshot the register for the briefing."""
        recorded.append(reg.append(inc.id, "assessment", assessment_payload(summary, inc, model), analyst))
        return reg.snapshot(inc.id)

    s = make_briefing(incident, out_dir, model=model, formats=formats, now=when, progress=not quiet, record=record,
                      chromium=chromium)
    event = recorded[0]
    if json_out:
        _echo_json(_assess_json(s, out_dir, formats, event, time_left_words(s["regulator"]["hours_left"])))
        return
    reg = s["regulator"]
    typer.echo(f"Briefing: {out_dir / 'briefing.html'}")
    typer.echo(f"  {s['cases']:,} {inc.case_noun}, {s['subject_records']:,} subject records, {s['people']:,} "
               f"{inc.subject_noun}; "
               f"rows read {s['rows_read']:,}, quarantined {s['rows_quarantined']:,}")
    typer.echo("  risk bands: " + ", ".join(f"{k} {v:,}" for k, v in s["risk_bands"].items()))
    verdict = "notify" if reg["notify"] else "record only (notification not proposed)"
    typer.echo(f"  regulator ({reg['law']}): {verdict}; deadline {when_iso(reg['deadline'])} "
               f"({time_left_words(reg['hours_left'])})")
    told = s["communicate"]["required"] + s["communicate"]["recommended"]
    typer.echo(f"  people to tell: {s['communicate']['required']:,} required, {s['communicate']['recommended']:,} "
               f"recommended; restricted outputs in {out_dir / 'restricted'}")
    if told > XLSX_MAX_ROWS:
        typer.echo(f"  the workbook lists the first {XLSX_MAX_ROWS:,} of {told:,} by priority; "
                   "everyone is in contact_list.csv (RISKKIT_XLSX_MAX_ROWS sets the limit)")
    typer.echo(f"  breach register: event {event.seq} recorded; head {event.hash}")


def _echo_json(data: object) -> None:
    import json as _json

    typer.echo(_json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _assess_json(summary: dict, out_dir: Path, formats: set[str], event: Event, time_left: str) -> dict:
    """The terminal's closing summary for scripts: file paths, summary.json as written (counts,
    bands, decisions; no personal data) and the register event."""
    files = {"briefing_html": str(out_dir / "briefing.html"), "summary_json": str(out_dir / "summary.json"),
             "restricted": str(out_dir / "restricted")}
    if "pdf" in formats:
        files["briefing_pdf"] = str(out_dir / "briefing.pdf")
    return {"files": files, "summary": summary, "time_left": time_left,
            "register": {"event": event.seq, "head": event.hash}}


@app.command()
def sample(
    out: Annotated[Path | None, typer.Option(help="Folder to write the sample incidents to (default: data/sample, "
                                                  "only when run inside a riskkit checkout).")] = None,
    check: Annotated[bool, typer.Option(help="Only check that the files in --out match the generator.")] = False,
    scale: Annotated[int | None, typer.Option(help="Instead, write one synthetic incident of N records to --out.")] = None,
) -> None:
    """Regenerate the synthetic sample incidents deterministically (or a scale incident)."""
    if scale is not None:
        from riskkit.scale import write_scale_incident

        if scale < 1:
            _fail("--scale must be a positive number of records.")
        if out is None:
            _fail("--scale needs --out: a folder of its own (data/sample/ holds only the committed samples).")
        typer.echo(f"wrote {write_scale_incident(out, scale, progress=True)}")
        return
    out = out or sample_dir_here()
    if out is None:  # an installed riskkit, or a checkout's riskkit run from another folder
        _fail("give --out FOLDER for the sample incidents (data/sample is the default only inside a riskkit "
              "checkout).")
    from riskkit.sample import compare_samples, write_samples

    if check:
        different = compare_samples(out)
        if different:
            _fail(f"{len(different)} sample file(s) differ from the generator: {', '.join(different)}; "
                  "run 'riskkit sample' to regenerate.", 1)
        typer.echo("sample files match the generator")
        return
    for path in write_samples(out):
        typer.echo(f"wrote {path}")


@app.command()
def notebooks(
    out: Annotated[Path, typer.Option(help="Folder to copy the notebooks into (created if missing).")],
    force: Annotated[bool, typer.Option(help="Overwrite notebooks already in --out.")] = False,
) -> None:
    """Copy riskkit's notebooks (briefing, explore) out of the package for an analyst to open and run."""
    from riskkit.notebook_files import copy_notebooks

    for path in copy_notebooks(out, force):
        typer.echo(f"wrote {path}")


@app.command("check-output")
def check_output(
    folder: Annotated[Path, typer.Argument(help="An assessment output folder.")],
    incident: Annotated[Path, typer.Option(help="The incident whose extract the outputs came from.")],
) -> None:
    """Fail if any leadership-facing file holds a name, address, postcode, phone, email or DOB."""
    from riskkit.leakcheck import scan_folder

    leaks = scan_folder(folder, incident)
    if leaks:
        for leak in leaks:
            typer.echo(f"LEAK {leak}", err=True)
        _fail(f"{len(leaks)} leak(s) of personal data in leadership-facing files under {folder}.", 1)
    typer.echo(f"no personal data found in the leadership-facing files under {folder}")


@app.command()
def inspect(
    files: Annotated[list[Path], typer.Argument(help="Extract files: CSV, XLSX (every sheet) or Parquet.")],
    out: Annotated[Path | None, typer.Option(help="Write a draft incident.yml here (refuses to overwrite).")] = None,
) -> None:
    """What is in the leaked files, per column (counts and patterns, never values); drafts the incident."""
    from riskkit.inspect import draft_incident, inspect_paths, render

    if out is not None and out.exists():
        _fail(f"{out}: already exists; give a new name for the draft (inspect never overwrites an incident).")
    reports, skipped = inspect_paths(files)
    typer.echo(render(reports))
    for path, reason in skipped:
        typer.echo(f"skipped {path}: {reason}")
    if not any(r.kind == "extract" for r in reports):
        _fail("no table with a name column was found, so no incident can be drafted; check the files given.", 1)
    if out is not None:
        from riskkit.outputs import atomic_write_text

        atomic_write_text(out, draft_incident(reports, out, skipped))
        checks = sum(1 for r in reports if r.kind == "extract" for g in r.guesses if g.field and not g.sure)
        unmapped = sum(1 for r in reports if r.kind == "extract" for g in r.guesses if not g.field)
        typer.echo(f"wrote {out}: {checks} mapping(s) to check, {unmapped} column(s) unmapped with a reason; "
                   "fill every FILL_ME before 'riskkit assess'")


@boundaries_app.command("download")
def boundaries_download(
    codes: Annotated[list[str], typer.Argument(help="ONS LAD codes, e.g. E07000096.")],
    out: Annotated[Path, typer.Option(help="GeoJSON file to write.")] = Path("lad_boundaries.geojson"),
    url: Annotated[str | None, typer.Option(help="ArcGIS FeatureServer layer query URL.")] = None,
    code_field: Annotated[str, typer.Option(help="Code field in the service.")] = "LAD23CD",
) -> None:
    """Fetch official generalised LAD boundaries from the ONS Open Geography Portal."""
    from riskkit.download import ONS_LAD_URL, download_boundaries

    n = download_boundaries(codes, out, url or ONS_LAD_URL, code_field)
    typer.echo(f"wrote {n} district boundaries to {out}")


@app.command()
def batch(
    manifest: Annotated[Path, typer.Argument(help="Manifest YAML listing the runs.")],
    workers: Annotated[int | None, typer.Option(help="Parallel worker processes (default: number of cores).")] = None,
    force: Annotated[bool, typer.Option(help="Re-render even briefings whose inputs have not changed.")] = False,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, e.g. tcp://10.0.0.5:8786.")] = None,
    scheduler_timeout: Annotated[float, typer.Option(help="Seconds to wait for the scheduler.")] = 20.0,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    register: Annotated[str | None, typer.Option(help="Breach register for the briefings' assessment events "
                                                      "(default: $RISKKIT_REGISTER, else ~/.local/share/riskkit).")] = None,
    chromium: Annotated[str | None, typer.Option(help="Chromium program that prints the PDF (default: $RISKKIT_CHROMIUM, "
                                                      "else /usr/bin/chromium, else chromium on PATH).")] = None,
) -> None:
    """Render many briefings: one per incident, or one per district of an incident."""
    from riskkit.batch import run_batch

    results, index = run_batch(manifest, workers, force, scheduler, progress=not quiet,
                               log=lambda m: typer.echo(m, err=True), scheduler_timeout=scheduler_timeout,
                               register=register, chromium=chromium)
    failed = [r for r in results if r.status == "failed"]
    counts = {s: sum(r.status == s for r in results) for s in ("ok", "unchanged", "failed")}
    typer.echo(f"{len(results)} briefings: {counts['ok']} made now, {counts['unchanged']} already up to date (not "
               f"re-made), {counts['failed']} failed; index: {index}")
    for r in failed:
        typer.echo(f"FAILED {r.name}: {r.reason}", err=True)
    if failed:
        raise typer.Exit(1)


register_app = typer.Typer(no_args_is_help=True, help="The breach register: list, show, verify, export.")
app.add_typer(register_app, name="register")
RegisterOpt = Annotated[str | None, typer.Option("--register", help="SQLite path or database URL.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON on stdout instead of tab-separated lines.")]


def _parse_time(value: str | None, flag: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        _fail(f"{flag}: not an ISO 8601 time; use e.g. 2026-10-11T16:00:00+01:00.")
    return None


@app.command()
def decide(
    incident: Annotated[Path, typer.Argument(help="The incident.yml the decision is about.")],
    regulator: Annotated[str | None, typer.Option(help="notify or no-notify.")] = None,
    people: Annotated[str | None, typer.Option(help="tell or no-tell.")] = None,
    exemption: Annotated[str | None, typer.Option(help="unintelligible, later_measures or disproportionate_effort.")] = None,
    restriction: Annotated[bool, typer.Option(help="An s.68(7) restriction on what people are told.")] = False,
    reason: Annotated[str | None, typer.Option(help="Why (required for no-notify, no-tell, exemptions, restrictions).")] = None,
    filed_at: Annotated[str | None, typer.Option(help="When the report was filed with the regulator (ISO time).")] = None,
    reference: Annotated[str | None, typer.Option(help="The regulator's case reference.")] = None,
    advice: Annotated[str | None, typer.Option(help="Advice received (no personal data).")] = None,
    dpo_view: Annotated[str | None, typer.Option(help="The DPO's view (no personal data).")] = None,
    became_aware: Annotated[str | None, typer.Option(help="Corrected time of becoming aware (ISO time).")] = None,
    justification: Annotated[str | None, typer.Option(help="Why became_aware is corrected.")] = None,
    close: Annotated[bool, typer.Option(help="Close the incident (with --reason).")] = False,
    by: Annotated[str | None, typer.Option(help="Who decided (default: the OS user).")] = None,
    register: RegisterOpt = None,
    controller: Annotated[str | None, typer.Option(help="The controller this decision is for, when the incident "
                                                        "has several (default: the whole incident).")] = None,
) -> None:
    """Record people's decisions about an incident in the breach register."""
    from riskkit.errors import ExtractError
    from riskkit.incident import load_incident
    from riskkit.leakcheck import identifiers, refuse_identifiers
    from riskkit.register import Register, decision_payloads, record_decisions

    inc = load_incident(incident)
    events = decision_payloads(regulator, people, exemption, restriction, reason, _parse_time(filed_at, "--filed-at"),
                               reference, advice, dpo_view, _parse_time(became_aware, "--became-aware"), justification, close)
    if controller is not None:  # stored in every event's payload; state(..., controller) reads it back
        from riskkit.controllers import resolve_name

        name = resolve_name(inc, controller)
        events = [(kind, {**payload, "controller": name}) for kind, payload in events]
    try:
        found = identifiers(incident)
    except ExtractError:
        found = None  # the extract is gone (deleted under retention, say): nothing to compare with
    if found is not None:  # what the register keeps for ever, and what the briefing shows
        refuse_identifiers({"--reason": reason or "", "--by": by or "", "--advice": advice or "",
                            "--dpo-view": dpo_view or "", "--justification": justification or "",
                            "--reference": reference or ""}, found, "decide")
    for e in record_decisions(Register(register), inc.id, events, by):
        typer.echo(f"recorded event {e.seq}: {e.kind} for {inc.id} by {e.actor}")


@register_app.command("list")
def register_list(register: RegisterOpt = None, json_out: JsonOpt = False,
                  controller: Annotated[str | None, typer.Option(help="Only incidents involving this controller, "
                                                                      "with the status from its own decisions.")] = None
                  ) -> None:
    """Incidents with their deadline status: due in N days M hours, overdue, filed, closed."""
    from riskkit.register import Register, state

    reg = Register(register)
    events = reg.events()
    ids = sorted({e.incident_id for e in events})
    named: dict[str, str | None] = {i: None for i in ids}
    if controller is not None:  # each incident's own spelling of it; incidents not involving it are left out
        from riskkit.controllers import in_events

        named = {i: in_events([e for e in events if e.incident_id == i], controller) for i in ids}
        ids = [i for i in ids if named[i] is not None]
    if json_out:
        states = [(i, state([e for e in events if e.incident_id == i], named[i])) for i in ids]
        _echo_json([{"incident_id": i, "status": s.status(), "deadline": s.deadline.isoformat() if s.deadline else None,
                     "assessments": s.assessments, **({"controller": named[i]} if controller is not None else {})}
                    for i, s in states])
        return
    if not ids:
        typer.echo("the register is empty" if controller is None else
                   f"no incident in the register involves the controller '{controller.strip()}'")
    from riskkit.wording import when

    for incident_id in ids:
        s = state([e for e in events if e.incident_id == incident_id], named[incident_id])
        deadline = when(s.deadline) if s.deadline else "-"
        who = f"\t{named[incident_id]}" if controller is not None else ""
        typer.echo(f"{incident_id}{who}\t{s.status()}\tdeadline {deadline}\t{s.assessments} assessment(s)")


@register_app.command("show")
def register_show(incident_id: Annotated[str, typer.Argument(help="Incident id.")], register: RegisterOpt = None,
                  controller: Annotated[str | None, typer.Option(help="Only the assessments and the decisions "
                                                                      "for this controller or the whole incident.")] = None,
                  json_out: JsonOpt = False) -> None:
    """An incident's history, oldest first."""
    import json as _json

    from riskkit.register import Register

    events = Register(register).events(incident_id)
    if controller is not None:
        events = [e for e in events if e.kind == "assessment" or e.payload.get("controller") in (None, controller)]
    if not events:
        _fail(f"no events for incident '{incident_id}'; see 'riskkit register list'.")
    if json_out:  # the same fields as the lines below, plus each event's hash
        _echo_json([{"seq": e.seq, "recorded_at": e.recorded_at, "kind": e.kind, "actor": e.actor,
                     "payload": e.payload, "hash": e.hash} for e in events])
        return
    from riskkit.wording import when_iso

    for e in events:  # UK local time for people; --json keeps the stored ISO time
        typer.echo(f"{e.seq}\t{when_iso(e.recorded_at)}\t{e.kind}\t{e.actor}\t{_json.dumps(e.payload, ensure_ascii=False)}")


ExpectHeadOpt = Annotated[str | None, typer.Option(help="A head hash you kept elsewhere (a briefing's, an earlier "
                                                         "verify's): it must still be an event of the chain.")]


@register_app.command("verify")
def register_verify(register: RegisterOpt = None, expect_head: ExpectHeadOpt = None) -> None:
    """Check the hash chain and the head log; name the first broken link."""
    from riskkit.register import Register

    reg = Register(register)
    n, broken = reg.verify()
    if broken:
        _fail(f"the register's chain is broken: {broken} (of {n} events).", 1)
    if expect_head and expect_head.strip().lower() not in {e.hash for e in reg.events()}:
        _fail("the head hash you kept is not an event of this register: events were rewritten or removed since.", 1)
    typer.echo(f"chain intact: {n} events; head {reg.head()}; head log {reg.head_log}")


@register_app.command("export")
def register_export(out: Annotated[Path, typer.Option(help="Folder for breach_log.csv and .xlsx.")] = Path("."),
                    register: RegisterOpt = None) -> None:
    """The breach log as CSV and XLSX (cells protected from formula injection)."""
    import json as _json

    import pandas as pd

    from riskkit.outputs import write_restricted_csv, write_restricted_xlsx
    from riskkit.register import Register

    events = Register(register).events()
    frame = pd.DataFrame([{"seq": e.seq, "incident_id": e.incident_id, "kind": e.kind, "recorded_at": e.recorded_at,
                           "actor": e.actor, "details": _json.dumps(e.payload, ensure_ascii=False), "hash": e.hash}
                          for e in events], columns=["seq", "incident_id", "kind", "recorded_at", "actor", "details", "hash"])
    out.mkdir(parents=True, exist_ok=True)
    write_restricted_csv(out / "breach_log.csv", frame)
    write_restricted_xlsx(out / "breach_log.xlsx", {"Breach log": frame})
    typer.echo(f"wrote {len(frame)} events to {out / 'breach_log.csv'} and {out / 'breach_log.xlsx'}")


@app.command("ico-form")
def ico_form(
    incident: Annotated[Path, typer.Argument(help="The incident.yml.")],
    out: Annotated[Path, typer.Option(help="Folder for ico_form.md and ico_form.json (ico_form_<controller>.md "
                                           "and .json for each controller when there are several).")] = Path("."),
    model: Annotated[Path | None, typer.Option(help="Risk model YAML.")] = None,
    register: RegisterOpt = None,
) -> None:
    """The ICO breach report's fields, pre-filled from the assessment (no personal data)."""
    from riskkit.analysis import analyse
    from riskkit.incident import load_incident
    from riskkit.leakcheck import check_publishable
    from riskkit.register import Register, state
    from riskkit.report import ico

    inc = load_incident(incident)
    check_publishable(incident, "ico-form", {"--out": str(out.resolve())})
    a = analyse(inc, model=model)
    from riskkit.controllers import info, slug, views

    events = Register(register).events(inc.id)
    parts = views(a)
    if len(parts) == 1:
        md, js = ico.write(a, out, state(events))
        typer.echo(f"wrote {md} and {js}")
        return
    for part in parts:  # one report per controller, each with its own decisions from the register
        name = part.incident.controller
        md, js = ico.write(part, out, state(events, name), stem=f"ico_form_{slug(name)}",
                           contact=info(inc, name).contact)
        typer.echo(f"wrote {md} and {js}")


@app.command()
def render(
    notebook: Annotated[Path, typer.Argument(help="A briefing notebook executed by papermill (or riskkit).")],
    out: Annotated[Path, typer.Option(help="The HTML file to write.")] = Path("briefing.html"),
    incident: Annotated[Path | None, typer.Option(help="The incident.yml, for the protective marking and title "
                                                       "(default: the notebook's 'incident' parameter).")] = None,
) -> None:
    """The offline leadership briefing HTML (no CDN scripts) from an executed briefing notebook."""
    from riskkit.report.render import briefing_source

    source = briefing_source(notebook, incident)
    from riskkit.report.export import render_html

    render_html(notebook, out, source.marking, source.title, source.model_version)
    typer.echo(f"wrote {out}")
