"""The breach register: an append-only, hash-chained log of assessments and people's decisions.

The law asks that every breach is documented with its facts, effects and remedial action, and
the regulator expects to see who decided what, when, on what advice, and why (UK GDPR
Art. 33(5), DPA 2018 s.67(6)). riskkit's model proposes; people decide; the register keeps
both. SQLite by default, PostgreSQL through a database URL; Alembic migrations on open; no
event is ever updated or deleted (the database refuses), and each event carries the SHA-256 of
its predecessor so that ``verify`` finds the first broken link. Every event's hash is also
appended to a head log outside the database (``headlog.py``), so a chain recomputed after an edit,
or a register truncated or replaced, still fails ``verify``.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError

from riskkit import headlog
from riskkit.errors import RiskkitError
from riskkit.incident import Incident
from riskkit.paths import PACKAGE_DIR

REGISTER_ENV = "RISKKIT_REGISTER"
DEFAULT_REGISTER = Path.home() / ".local" / "share" / "riskkit" / "register.sqlite"
GENESIS = "0" * 64
EVENTS = sa.table("events", sa.column("seq"), sa.column("incident_id"), sa.column("kind"), sa.column("recorded_at"),
                  sa.column("actor"), sa.column("payload"), sa.column("prev_hash"), sa.column("hash"))


class RegisterError(RiskkitError):
    """The register cannot be opened, or a decision is incomplete."""


@dataclass(frozen=True)
class Event:
    seq: int
    incident_id: str
    kind: str
    recorded_at: str
    actor: str
    payload: dict
    prev_hash: str
    hash: str


def event_hash(seq: int, incident_id: str, kind: str, recorded_at: str, actor: str, payload: str, prev_hash: str) -> str:
    body = json.dumps([seq, incident_id, kind, recorded_at, actor, payload, prev_hash], ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def resolve_url(target: str | Path | None = None) -> str:
    """A database URL from a URL, a file path, ``$RISKKIT_REGISTER`` or the default file."""
    target = target or os.environ.get(REGISTER_ENV) or DEFAULT_REGISTER
    text = str(target)
    if "://" in text:
        return text
    path = Path(text).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return f"sqlite:///{path}"


def safe_url(url: str) -> str:
    """The URL with any password hidden, for messages and the briefing."""
    return make_url(url).render_as_string(hide_password=True)


class Register:
    def __init__(self, target: str | Path | None = None) -> None:
        self.url = resolve_url(target)
        self.head_log = headlog.head_log_path(self.url)
        where = safe_url(self.url)
        try:
            kwargs = {"connect_args": {"timeout": 30}} if self.url.startswith("sqlite") else {}
            self.engine: Engine = sa.create_engine(self.url, future=True, **kwargs)
            self.migrate()
        except (DatabaseError, sa.exc.ArgumentError, ImportError) as exc:
            if "not a database" in str(getattr(exc, "orig", "")) or "malformed" in str(getattr(exc, "orig", "")):
                raise RegisterError(f"the breach register at {where} is not a readable database (corrupt, or another "
                                    "kind of file); restore it from a backup, or give another --register.") from None
            raise RegisterError(f"cannot open the breach register at {where} ({type(exc).__name__}); "
                                f"check --register or ${REGISTER_ENV}.") from None
        except Exception as exc:
            from alembic.util import CommandError

            if not isinstance(exc, CommandError):
                raise
            raise RegisterError(f"the breach register at {where} has a schema revision this riskkit does not know "
                                "(made by a newer riskkit or another program); upgrade riskkit, or give another "
                                "--register.") from None
        if self.url.startswith("sqlite:///"):
            db = Path(self.url.removeprefix("sqlite:///"))
            if db.exists():
                db.chmod(0o600)

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` (Alembic), so a register survives upgrades."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(PACKAGE_DIR / "migrations"))
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # one migrator at a time
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(74657)"))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)

    def append(self, incident_id: str, kind: str, payload: dict, actor: str | None = None) -> Event:
        """Add an event at the end of the chain and to the head log; concurrent writers retry,
        none is lost. A register that disagrees with its head log is not written to."""
        actor = actor or default_actor()
        body = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
        for attempt in range(200):
            try:
                with self.engine.begin() as conn:
                    if conn.dialect.name == "postgresql":
                        conn.execute(sa.text("SELECT pg_advisory_xact_lock(74658)"))
                    last = conn.execute(sa.select(EVENTS.c.seq, EVENTS.c.hash).order_by(EVENTS.c.seq.desc()).limit(1)).first()
                    self._check_against_head_log(last)
                    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
                    recorded = datetime.now(UTC).isoformat(timespec="microseconds")
                    digest = event_hash(seq, incident_id, kind, recorded, actor, body, prev)
                    conn.execute(sa.insert(EVENTS).values(seq=seq, incident_id=incident_id, kind=kind, recorded_at=recorded,
                                                          actor=actor, payload=body, prev_hash=prev, hash=digest))
                headlog.append(self.head_log, seq, digest, recorded)
                return Event(seq, incident_id, kind, recorded, actor, payload, prev, digest)
            except (IntegrityError, OperationalError):
                time.sleep(0.01 * (1 + attempt % 10))
        raise RegisterError(f"could not append to the register at {safe_url(self.url)} after 200 attempts; "
                            "another process holds it, try again.")

    def _check_against_head_log(self, last: sa.Row | None) -> None:
        """Refuse to extend a register whose last event is not the head log's last entry (a
        lagging log, from a writer killed between the two writes, is allowed)."""
        entries, damaged = headlog.read(self.head_log)
        if damaged:
            raise RegisterError(f"{damaged}; run 'riskkit register verify' and restore the register before adding events.")
        if not entries:
            return
        newest = entries[-1]
        if last is None or last.seq < newest.seq:
            raise RegisterError(f"the breach register at {safe_url(self.url)} holds fewer events than its head log "
                                f"{self.head_log} records; run 'riskkit register verify' and restore it before adding events.")
        if last.seq == newest.seq and last.hash != newest.hash:
            raise RegisterError(f"the breach register's last event differs from its head log {self.head_log}; run "
                                "'riskkit register verify' and restore it before adding events.")

    def events(self, incident_id: str | None = None) -> list[Event]:
        query = sa.select(EVENTS).order_by(EVENTS.c.seq)
        if incident_id:
            query = query.where(EVENTS.c.incident_id == incident_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        events = []
        for r in rows:
            try:
                payload = json.loads(r.payload)
            except (TypeError, ValueError):
                raise RegisterError(f"event {r.seq} in the breach register at {safe_url(self.url)} has an unreadable "
                                    "payload (the file was edited or damaged); run 'riskkit register verify'.") from None
            events.append(Event(r.seq, r.incident_id, r.kind, r.recorded_at, r.actor, payload, r.prev_hash, r.hash))
        return events

    def head(self) -> str:
        with self.engine.connect() as conn:
            last = conn.execute(sa.select(EVENTS.c.hash).order_by(EVENTS.c.seq.desc()).limit(1)).first()
        return last.hash if last else GENESIS

    def verify(self) -> tuple[int, str | None]:
        """(events checked, description of the first broken link or None). The chain must be
        intact and agree with every entry of the head log kept outside the database."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(EVENTS).order_by(EVENTS.c.seq)).all()
        prev, expected_seq = GENESIS, 1
        for r in rows:
            if r.seq != expected_seq:
                return len(rows), f"event {expected_seq} is missing (next is {r.seq})"
            if r.prev_hash != prev:
                return len(rows), f"event {r.seq} does not link to event {r.seq - 1}"
            if event_hash(r.seq, r.incident_id, r.kind, r.recorded_at, r.actor, r.payload, r.prev_hash) != r.hash:
                return len(rows), f"event {r.seq} was altered after it was recorded"
            prev, expected_seq = r.hash, expected_seq + 1
        entries, damaged = headlog.read(self.head_log)
        if damaged:
            return len(rows), damaged
        return len(rows), headlog.compare(entries, {r.seq: r.hash for r in rows}, self.head_log)

    def snapshot(self, incident_id: str) -> dict:
        """What the briefing shows of the register: head, counts and decisions, no database URL."""
        events = self.events()
        s = state([e for e in events if e.incident_id == incident_id])

        def brief(e: Event | None) -> dict | None:
            return None if e is None else {"payload": e.payload, "actor": e.actor, "recorded_at": e.recorded_at,
                                           "seq": e.seq}

        return {"head": events[-1].hash if events else GENESIS, "events": len(events), "assessments": s.assessments,
                "regulator": brief(s.regulator), "people": brief(s.people), "first_filing": brief(s.first_filing)}


def default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


# --- decisions -------------------------------------------------------------------------------

EXEMPTIONS = {"unintelligible": "data unintelligible (e.g. encrypted, key safe)",
              "later_measures": "later measures make the high risk no longer likely",
              "disproportionate_effort": "disproportionate effort (a public communication instead)"}


def _need(value: str | None, what: str) -> None:
    if not value or len(value.strip()) < 10:
        raise RegisterError(f"{what} needs a reason of at least 10 characters (--reason); the law requires the "
                            "reasons to be recorded.")


def decision_payloads(regulator: str | None = None, people: str | None = None, exemption: str | None = None,
                      restriction: bool = False, reason: str | None = None, filed_at: datetime | None = None,
                      reference: str | None = None, advice: str | None = None, dpo_view: str | None = None,
                      became_aware: datetime | None = None, justification: str | None = None,
                      close: bool = False) -> list[tuple[str, dict]]:
    """The events one ``riskkit decide`` call records, refusing incomplete decisions."""
    events: list[tuple[str, dict]] = []
    if regulator:
        if regulator not in ("notify", "no-notify"):
            raise RegisterError("--regulator must be 'notify' or 'no-notify'.")
        if regulator == "no-notify":
            _need(reason, "a decision not to notify the regulator")
        events.append(("regulator_decision", {"decision": regulator, "reason": reason or ""}))
    if people:
        if people not in ("tell", "no-tell"):
            raise RegisterError("--people must be 'tell' or 'no-tell'.")
        if people == "no-tell":
            _need(reason, "a decision not to tell the people")
        if exemption and exemption not in EXEMPTIONS:
            raise RegisterError(f"--exemption must be one of {', '.join(EXEMPTIONS)}.")
        if exemption:
            _need(reason, f"the exemption '{exemption}'")
        if restriction:
            _need(reason, "an s.68(7) restriction")
        events.append(("people_decision", {"decision": people, "exemption": exemption or "", "restriction": restriction,
                                           "reason": reason or ""}))
    if became_aware:
        if became_aware.tzinfo is None:
            raise RegisterError("--became-aware needs a time zone, e.g. 2026-10-09T10:30:00+01:00.")
        _need(justification, "a correction of became_aware (--justification)")
        events.append(("became_aware_correction", {"became_aware": became_aware.isoformat(), "justification": justification}))
    if filed_at:
        if filed_at.tzinfo is None:
            raise RegisterError("--filed-at needs a time zone, e.g. 2026-10-11T16:00:00+01:00.")
        if not reference:
            raise RegisterError("a filing needs the regulator's case reference (--reference).")
        events.append(("filing", {"filed_at": filed_at.isoformat(), "reference": reference}))
    if advice:
        events.append(("advice", {"advice": advice}))
    if dpo_view:
        events.append(("dpo_view", {"view": dpo_view}))
    if close:
        _need(reason, "closing an incident")
        events.append(("closed", {"reason": reason}))
    if not events:
        raise RegisterError("nothing to record: give --regulator, --people, --filed-at, --advice, --dpo-view, "
                            "--became-aware or --close.")
    return events


@dataclass
class IncidentState:
    """An incident's current position, derived from its events (never stored separately)."""

    incident_id: str
    became_aware: datetime | None = None
    deadline: datetime | None = None
    proposed_notify: bool | None = None
    regulator: Event | None = None
    people: Event | None = None
    first_filing: Event | None = None
    closed: Event | None = None
    assessments: int = 0
    deadline_hours: float = 72.0

    def status(self, now: datetime | None = None) -> str:
        now = now or datetime.now(UTC)
        if self.closed:
            return "closed"
        if self.first_filing:
            late = self.first_filing.payload.get("late")
            return "filed" + (" (late)" if late else "")
        if self.deadline is None:
            return "no deadline recorded"
        hours = (self.deadline - now).total_seconds() / 3600
        from riskkit.wording import duration

        return f"due in {duration(hours)}" if hours >= 0 else f"overdue by {duration(hours)}"


DEFAULT_DEADLINE_HOURS = 72.0  # what registers written before model 2.0 assumed


def state(events: list[Event], controller: str | None = None) -> IncidentState:
    """The incident's position; with ``controller``, decisions recorded for another controller
    (``riskkit decide --controller``) are left out, and those for the whole incident kept."""
    s = IncidentState(events[0].incident_id if events else "")
    for e in events:
        if controller is not None and e.kind != "assessment" and e.payload.get("controller") not in (None, controller):
            continue
        if e.kind == "assessment":
            s.assessments += 1
            s.proposed_notify = e.payload.get("regulator", {}).get("notify")
            # The model's deadline hours, as recorded (registers written before 2.0 lack it: 72).
            s.deadline_hours = float(e.payload.get("deadline_hours", DEFAULT_DEADLINE_HOURS))
            if s.became_aware is None:  # a correction event wins over later assessments
                s.became_aware = datetime.fromisoformat(e.payload["became_aware"])
        elif e.kind == "became_aware_correction":
            s.became_aware = datetime.fromisoformat(e.payload["became_aware"])
        elif e.kind == "regulator_decision":
            s.regulator = e
        elif e.kind == "people_decision":
            s.people = e
        elif e.kind == "filing" and s.first_filing is None:
            s.first_filing = e
        elif e.kind == "closed":
            s.closed = e
    if s.became_aware:
        s.deadline = s.became_aware + timedelta(hours=s.deadline_hours)
    return s


def record_decisions(reg: Register, incident_id: str, events: list[tuple[str, dict]], actor: str | None = None) -> list[Event]:
    """Append decision events; a first filing fixes its lateness against the deadline then."""
    written = []
    for kind, payload in events:
        if kind == "filing":
            current = state(reg.events(incident_id), payload.get("controller"))  # each controller files its own
            if current.first_filing is None:
                if current.deadline is None:
                    raise RegisterError(f"incident {incident_id} has no assessment in the register yet; run riskkit "
                                        "assess first so the deadline is known.")
                filed = datetime.fromisoformat(payload["filed_at"])
                hours_late = (filed - current.deadline).total_seconds() / 3600
                payload = {**payload, "deadline": current.deadline.isoformat(), "late": hours_late > 0,
                           "hours_late": round(max(0.0, hours_late), 2), "first_filing": True}
            else:
                payload = {**payload, "first_filing": False}
        written.append(reg.append(incident_id, kind, payload, actor))
    return written


def assessment_payload(summary: dict, incident: Incident, model_path: Path | None) -> dict:
    """What an assessment event records: hashes, versions, counts, bands and proposals only."""
    from riskkit.hashing import code_version, input_hashes

    return {
        "became_aware": incident.timestamps.became_aware.isoformat(),
        "input_sha256": input_hashes(incident, model_path),
        "model_version": summary["model_version"], "riskkit_version": summary["riskkit_version"],
        "code_sha256": code_version(),
        "counts": {k: summary[k] for k in ("rows_read", "rows_analysed", "rows_quarantined", "cases",
                                           "subject_records", "people")},
        "risk_bands": summary["risk_bands"], "regulator": summary["regulator"],
        "communicate": summary["communicate"], "scope": summary.get("scope"),
        "deadline_hours": summary.get("deadline_hours", DEFAULT_DEADLINE_HOURS),
        "controllers": summary.get("controllers", []),
    }
