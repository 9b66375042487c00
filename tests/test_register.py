"""The breach register on SQLite and on a real PostgreSQL server the suite starts itself."""

from __future__ import annotations

import glob
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from riskkit.register import Register, RegisterError, decision_payloads, record_decisions, state
from tests.conftest import ASB

RISKKIT = str(Path(sys.executable).parent / "riskkit")


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail("PostgreSQL server binaries are missing: 'make install' installs Debian's postgresql package")
    return found[-1]


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway cluster in a temporary folder, on a Unix socket there; removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="riskkit-pg-"))
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_user:
        shutil.chown(base, "postgres", "postgres")
    with socket.socket() as s:  # a free port number names the socket file
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = base / "data"
    subprocess.run([*as_user, _pg_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "riskkit", "--no-sync"],
                   check=True, capture_output=True)
    subprocess.run([*as_user, _pg_bin("pg_ctl"), "-D", str(data), "-w", "-l", str(base / "log"), "-o",
                    f"-k {base} -p {port} -c listen_addresses='' -c fsync=off", "start"], check=True, capture_output=True)
    yield f"postgresql+psycopg://riskkit@/postgres?host={base}&port={port}"
    subprocess.run([*as_user, _pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'register.sqlite'}"
    pg = request.getfixturevalue("postgres_url")
    engine = sa.create_engine(pg)
    with engine.begin() as conn:  # a clean schema for each test
        conn.execute(sa.text("DROP TABLE IF EXISTS events, alembic_version CASCADE"))
        conn.execute(sa.text("DROP FUNCTION IF EXISTS riskkit_events_append_only() CASCADE"))
        conn.execute(sa.text("DROP FUNCTION IF EXISTS riskkit_events_append_at_end() CASCADE"))
    engine.dispose()
    from riskkit.headlog import head_log_path

    head_log_path(pg).unlink(missing_ok=True)  # the head log belongs to the dropped schema
    return pg


def test_chain_verifies_and_the_database_refuses_edits(url):
    reg = Register(url)
    for i in range(5):
        reg.append("inc-a", "note", {"i": i}, "tester")
    assert reg.verify() == (5, None)
    assert reg.head() == reg.events()[-1].hash
    for statement in ("UPDATE events SET actor = 'someone else'", "DELETE FROM events"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), reg.engine.begin() as conn:
            conn.execute(sa.text(statement))
    assert len(reg.events()) == 5


def test_an_event_edited_directly_is_caught(url):
    reg = Register(url)
    for i in range(4):
        reg.append("inc-a", "note", {"i": i}, "tester")
    with reg.engine.begin() as conn:  # an attacker with database rights drops the guard first
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("ALTER TABLE events DISABLE TRIGGER events_no_update"))
        else:
            conn.execute(sa.text("DROP TRIGGER events_no_update"))
        conn.execute(sa.text("UPDATE events SET payload = '{\"i\": 99}' WHERE seq = 3"))
    n, broken = reg.verify()
    assert n == 4 and broken == "event 3 was altered after it was recorded"
    proc = subprocess.run([RISKKIT, "register", "verify", "--register", url], capture_output=True, text=True)
    assert proc.returncode == 1 and "event 3 was altered" in proc.stderr


def _writer(url: str, who: str, n: int) -> None:
    reg = Register(url)
    for i in range(n):
        reg.append("inc-c", "note", {"who": who, "i": i}, who)


def test_two_writers_at_once_lose_nothing(url):
    Register(url)  # migrate first
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(url, f"w{k}", 25)) for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
        assert p.exitcode == 0
    reg = Register(url)
    events = reg.events()
    assert [e.seq for e in events] == list(range(1, 51))
    assert sorted((e.payload["who"], e.payload["i"]) for e in events) == sorted((f"w{k}", i) for k in range(2) for i in range(25))
    assert reg.verify() == (50, None)


def _count(reg: Register) -> int:
    with reg.engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one()


def test_a_writer_killed_mid_append_leaves_the_register_consistent(url):
    reg = Register(url)
    ctx = multiprocessing.get_context("spawn")
    for pause in (0.0, 0.05):
        before = _count(reg)
        p = ctx.Process(target=_writer, args=(url, "doomed", 100_000))
        p.start()
        # Kill only once this writer is appending (a slow machine may take seconds to start it),
        # so the kill lands among appends rather than before the first one.
        deadline = time.monotonic() + 120
        while _count(reg) < before + 3 and p.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(pause)
        assert p.is_alive(), f"the writer stopped on its own (exit code {p.exitcode})"
        os.kill(p.pid, signal.SIGKILL)
        p.join()
    n, broken = reg.verify()
    assert broken is None and n >= 6
    reg.append("inc-c", "note", {"after": True}, "survivor")
    assert reg.verify() == (n + 1, None)


def test_migrations_on_an_empty_and_an_older_register(url):
    from alembic import command
    from alembic.config import Config

    from riskkit.paths import PACKAGE_DIR

    engine = sa.create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(PACKAGE_DIR / "migrations"))
    with engine.begin() as conn:  # a register as version 0001 made it: no append-only guard yet
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    old = Register.__new__(Register)
    old.url, old.engine = url, engine
    from riskkit.headlog import head_log_path

    old.head_log = head_log_path(url)
    Register.append(old, "inc-old", "note", {"kept": True}, "old-version")
    reg = Register(url)  # opening upgrades to head
    assert reg.events()[0].payload == {"kept": True} and reg.verify() == (1, None)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), reg.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM events"))
    with reg.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0003"


@pytest.mark.parametrize("kwargs,needle", [
    ({"regulator": "no-notify"}, "not to notify"),
    ({"people": "no-tell"}, "not to tell"),
    ({"people": "tell", "exemption": "unintelligible"}, "exemption"),
    ({"people": "tell", "restriction": True}, r"s\.68\(7\)"),
    ({"became_aware": datetime.fromisoformat("2026-10-09T09:00:00+01:00")}, "justification"),
    ({"filed_at": datetime.fromisoformat("2026-10-11T09:00:00+01:00")}, "reference"),
    ({"close": True}, "closing"),
    ({}, "nothing to record"),
])
def test_decisions_without_a_required_reason_are_refused(kwargs, needle):
    with pytest.raises(RegisterError, match=needle):
        decision_payloads(**kwargs)


def test_lateness_is_fixed_at_the_first_filing(tmp_path):
    reg = Register(tmp_path / "r.sqlite")
    aware = datetime.fromisoformat("2026-10-09T10:30:00+01:00")
    reg.append("inc", "assessment", {"became_aware": aware.isoformat(), "regulator": {"notify": True}}, "analyst")
    record_decisions(reg, "inc", decision_payloads(filed_at=aware + timedelta(hours=80), reference="ICO/1"), "dpo")
    # a later correction of became_aware, however justified, does not rewrite the lateness
    record_decisions(reg, "inc", decision_payloads(became_aware=aware + timedelta(hours=24),
                                                   justification="the first report reached the DPO a day later"), "dpo")
    record_decisions(reg, "inc", decision_payloads(filed_at=aware + timedelta(hours=90), reference="ICO/1"), "dpo")
    s = state(reg.events("inc"))
    assert s.first_filing.payload["late"] and s.first_filing.payload["hours_late"] == 8.0
    assert s.status() == "filed (late)" and s.deadline == aware + timedelta(hours=96)


def test_cli_assess_decide_list_show_export_and_ico_form(tmp_path):
    reg = f"sqlite:///{tmp_path / 'r.sqlite'}"
    env = {**os.environ, "RISKKIT_REGISTER": reg}

    def cli(*args):
        return subprocess.run([RISKKIT, *args], capture_output=True, text=True, env=env, timeout=300)

    assert cli("assess", str(ASB), "--out", str(tmp_path / "out"), "--quiet", "--now",
               "2026-10-10T09:00:00+01:00", "--analyst", "A. Analyst").returncode == 0
    events = Register(reg).events()
    assert [e.kind for e in events] == ["assessment"] and events[0].actor == "A. Analyst"
    payload = events[0].payload
    assert payload["counts"]["cases"] == 62 and set(payload["input_sha256"]) >= {"incident", "model"}
    assert cli("decide", str(ASB), "--regulator", "no-notify").returncode == 2
    from riskkit.leakcheck import identifiers

    name = sorted(v for v in identifiers(ASB)["name"])[0]
    leak = cli("decide", str(ASB), "--regulator", "notify", "--reason", f"because {name} complained")
    assert leak.returncode == 2 and "personal data" in leak.stderr and name not in leak.stderr
    ok = cli("decide", str(ASB), "--regulator", "notify", "--people", "tell", "--restriction", "--reason",
             "victims' details withheld from the alleged perpetrators", "--by", "DPO")
    assert ok.returncode == 0, ok.stderr
    assert cli("decide", str(ASB), "--filed-at", "2026-10-11T16:00:00+01:00", "--reference", "ICO/00042").returncode == 0
    listing = cli("register", "list").stdout
    assert "asb-publication-sample\tfiled" in listing and "(late)" not in listing
    assert "people_decision" in cli("register", "show", "asb-publication-sample").stdout
    assert cli("register", "export", "--out", str(tmp_path / "log")).returncode == 0
    ws = openpyxl.load_workbook(tmp_path / "log" / "breach_log.xlsx").active
    assert ws.max_row == 5 and all(c.data_type != "f" for r in ws.iter_rows() for c in r)
    assert cli("ico-form", str(ASB), "--out", str(tmp_path / "ico")).returncode == 0
    form = json.loads((tmp_path / "ico" / "ico_form.json").read_text())
    assert "form map" in form["form"] and {f["status"] for f in form["fields"]} == {"pre-filled", "needs a person",
                                                                                   "not applicable"}
    by_field = {f["field"]: f for f in form["fields"]}
    assert by_field["ICO case reference"]["value"] == "ICO/00042"
    assert by_field["Number of data subjects affected"]["value"] == "132"  # people_range max (best estimate 130)
    from riskkit.leakcheck import scan_folder

    assert scan_folder(tmp_path / "ico", ASB) == []
    rerun = cli("assess", str(ASB), "--out", str(tmp_path / "out"), "--quiet", "--now", "2026-10-10T09:00:00+01:00")
    html = (tmp_path / "out" / "briefing.html").read_text()
    after = Register(reg).events()  # the briefing shows the register after this re-run's own event
    assert len(after) == 5 and after[-1].kind == "assessment"
    assert "Decisions recorded" in html and "ICO/00042" in html and after[-1].hash in html
    assert "2 assessment(s) recorded" in html
    assert rerun.returncode == 0


def _forge(conn: sa.Connection, seq: int) -> None:
    """What someone with write access does: replace event ``seq`` with a 'no-notify' decision and
    recompute every later hash, so that the chain alone verifies."""
    from riskkit.register import event_hash

    rows = conn.execute(sa.text("SELECT * FROM events ORDER BY seq")).all()
    conn.execute(sa.text("DELETE FROM events WHERE seq >= :s"), {"s": seq})
    prev = rows[seq - 2].hash if seq > 1 else "0" * 64
    for r in rows[seq - 1:]:
        payload = json.dumps({"decision": "no-notify", "reason": "forged after the fact"}) if r.seq == seq else r.payload
        digest = event_hash(r.seq, r.incident_id, r.kind, r.recorded_at, r.actor, payload, prev)
        conn.execute(sa.text("INSERT INTO events VALUES (:seq, :i, :k, :t, :a, :p, :prev, :h)"),
                     {"seq": r.seq, "i": r.incident_id, "k": r.kind, "t": r.recorded_at, "a": r.actor, "p": payload,
                      "prev": prev, "h": digest})
        prev = digest


def _drop_guards(conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("ALTER TABLE events DISABLE TRIGGER USER"))
    else:
        for name in ("events_no_update", "events_no_delete", "events_append_at_end"):
            conn.execute(sa.text(f"DROP TRIGGER {name}"))


@pytest.mark.parametrize("statement", [
    "INSERT OR REPLACE INTO events VALUES (2, 'inc-a', 'regulator_decision', 't', 'x', '{}', :prev, :h)",
    "REPLACE INTO events VALUES (2, 'inc-a', 'regulator_decision', 't', 'x', '{}', :prev, :h)",
    "INSERT OR REPLACE INTO events VALUES (4, 'inc-a', 'note', 't', 'x', '{}', :last, :h2)",  # displaces by hash
    "INSERT INTO events VALUES (9, 'inc-a', 'note', 't', 'x', '{}', :last, :h)",  # a gap
    "INSERT INTO events VALUES (4, 'inc-a', 'note', 't', 'x', '{}', :prev, :h)",  # does not link to the last
    "INSERT INTO events VALUES (2, 'inc-a', 'note', 't', 'x', '{}', :prev, :h) ON CONFLICT (seq) DO UPDATE SET payload = '{}'",
    "INSERT INTO events VALUES (2, 'inc-a', 'note', 't', 'x', '{}', :prev, :h) ON CONFLICT (seq) DO NOTHING",
    "TRUNCATE events",
])
def test_no_insert_can_replace_or_skip_an_event(url, statement):
    reg = Register(url)
    for i in range(3):
        reg.append("inc-a", "note", {"i": i}, "tester")
    before = [(e.seq, e.hash) for e in reg.events()]
    if url.startswith("sqlite") and ("ON CONFLICT (seq) DO" in statement or statement.startswith("TRUNCATE")):
        statement = statement.replace("ON CONFLICT (seq) DO UPDATE SET payload = '{}'", "ON CONFLICT (seq) DO NOTHING")
        if statement.startswith("TRUNCATE"):
            pytest.skip("SQLite has no TRUNCATE (DELETE is refused by test_chain_verifies_and_the_database_refuses_edits)")
    if url.startswith("postgresql") and ("REPLACE" in statement):
        statement = statement.replace("INSERT OR REPLACE", "INSERT").replace("REPLACE INTO", "INSERT INTO")
    values = {"prev": before[0][1], "last": before[-1][1], "h": "f" * 64, "h2": before[1][1]}
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), reg.engine.begin() as conn:
        conn.execute(sa.text(statement), values)
    assert [(e.seq, e.hash) for e in reg.events()] == before and reg.verify() == (3, None)


def test_a_recomputed_chain_fails_against_the_head_log(url):
    reg = Register(url)
    reg.append("inc-a", "assessment", {"became_aware": "2026-10-09T10:30:00+01:00", "regulator": {"notify": True}}, "a")
    reg.append("inc-a", "regulator_decision", {"decision": "notify", "reason": ""}, "dpo")
    reg.append("inc-a", "note", {"i": 3}, "a")
    kept = reg.head()
    with reg.engine.begin() as conn:
        _drop_guards(conn)
        _forge(conn, 2)
    rows_alone = Register.__new__(Register)  # the chain by itself: the forgery passes
    rows_alone.url, rows_alone.engine, rows_alone.head_log = reg.url, reg.engine, Path("/nonexistent/heads")
    assert rows_alone.verify() == (3, None) and reg.events()[1].payload["decision"] == "no-notify"
    n, broken = reg.verify()
    assert n == 3 and broken and "event 2 is not the event the head log" in broken
    proc = subprocess.run([RISKKIT, "register", "verify", "--register", url], capture_output=True, text=True)
    assert proc.returncode == 1 and "event 2" in proc.stderr and len(proc.stderr.splitlines()) == 1
    with pytest.raises(RegisterError, match="head log"):
        reg.append("inc-a", "note", {}, "a")  # nothing is added on top of a forged register
    rows_alone.head_log = reg.head_log.with_name("other.heads")
    proc = subprocess.run([RISKKIT, "register", "verify", "--register", url, "--expect-head", kept],
                          capture_output=True, text=True, env={**os.environ, "RISKKIT_HEAD_LOG": str(rows_alone.head_log)})
    assert proc.returncode == 1 and "head hash you kept" in proc.stderr


def test_an_emptied_or_replaced_register_fails_against_its_head_log(tmp_path):
    db = tmp_path / "r.sqlite"
    reg = Register(db)
    for i in range(3):
        reg.append("inc-a", "note", {"i": i}, "tester")
    reg.engine.dispose()
    db.write_bytes(b"")  # truncated to 0 bytes
    reopened = Register(db)
    n, broken = reopened.verify()
    assert n == 0 and "records event 1" in broken
    proc = subprocess.run([RISKKIT, "register", "verify", "--register", str(db)], capture_output=True, text=True)
    assert proc.returncode == 1 and "truncated" in proc.stderr
    with pytest.raises(RegisterError, match="fewer events than its head log"):
        reopened.append("inc-a", "note", {}, "tester")
    clean = tmp_path / "clean.sqlite"
    assert Register(clean).verify() == (0, None)  # a new register with no head log is simply empty


def _cli_one_line(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([RISKKIT, *args], capture_output=True, text=True)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    return proc


def test_corrupt_foreign_and_unparseable_registers_end_in_one_clear_line(tmp_path):
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    assert "not a readable database" in _cli_one_line("register", "list", "--register", str(corrupt)).stderr
    text_file = tmp_path / "notes.sqlite"
    text_file.write_text("Declan Curtis, 20 August 1990\n" * 50)
    proc = _cli_one_line("register", "verify", "--register", str(text_file))
    assert "not a readable database" in proc.stderr and "Curtis" not in proc.stderr
    foreign = tmp_path / "foreign.sqlite"
    Register(foreign).engine.dispose()
    engine = sa.create_engine(f"sqlite:///{foreign}")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    assert "schema revision" in _cli_one_line("register", "list", "--register", str(foreign)).stderr
    bad = tmp_path / "bad.sqlite"
    reg = Register(bad)
    reg.append("inc-a", "note", {"i": 1}, "tester")
    with reg.engine.begin() as conn:
        _drop_guards(conn)
        conn.execute(sa.text("UPDATE events SET payload = '{\"name\": \"Declan Curt' WHERE seq = 1"))
    proc = _cli_one_line("register", "list", "--register", str(bad))
    assert "event 1" in proc.stderr and "unreadable payload" in proc.stderr and "Declan" not in proc.stderr


def test_make_briefing_shows_the_head_verify_prints_and_leaves_the_users_register_alone(tmp_path):
    """The sample's briefing is one event behind no more: its head is the register's head."""
    import re

    root = Path(__file__).resolve().parents[1]
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k not in ("RISKKIT_REGISTER", "RISKKIT_HEAD_LOG")}
    env["HOME"] = str(home)
    make = subprocess.run(["make", "-C", str(root), "-o", ".venv/.riskkit-installed", "briefing",
                           f"BIN={Path(sys.executable).parent}", f"REPORTS={tmp_path / 'reports'}"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert make.returncode == 0, make.stderr
    html = (tmp_path / "reports" / "asb_publication" / "briefing.html").read_text()
    shown = re.search(r"head \(SHA-256\)[^<]*<code>([0-9a-f]{64})</code>", html).group(1)
    verify = subprocess.run([RISKKIT, "register", "verify", "--register", str(tmp_path / "reports" / "register.sqlite")],
                            capture_output=True, text=True, env=env)
    assert verify.returncode == 0 and f"head {shown};" in verify.stdout
    assert shown != "0" * 64 and "1 assessment(s) recorded" in html
    assert not (home / ".local" / "share" / "riskkit").exists()  # the user's default register is untouched
