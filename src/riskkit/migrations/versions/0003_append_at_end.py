"""Events are only ever added at the end: INSERT OR REPLACE, REPLACE INTO, ON CONFLICT and TRUNCATE
are refused too.

REPLACE's implicit delete fires no DELETE trigger in SQLite (recursive triggers are off), so a
replaced event got past 0002. A BEFORE INSERT trigger runs before any conflict resolution: it
refuses a row that is not the next sequence number, does not link to the current last event, or
repeats an existing hash, so no insert can ever displace a recorded event. PostgreSQL's
``ON CONFLICT DO UPDATE`` already meets 0002's UPDATE trigger; TRUNCATE gets its own.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION riskkit_events_append_at_end() RETURNS trigger AS $$
            BEGIN
              IF NEW.seq <> (SELECT COALESCE(MAX(seq), 0) + 1 FROM events)
                 OR NEW.prev_hash <> COALESCE((SELECT hash FROM events ORDER BY seq DESC LIMIT 1), repeat('0', 64))
                 OR EXISTS (SELECT 1 FROM events WHERE hash = NEW.hash) THEN
                RAISE EXCEPTION 'the breach register is append-only: an event can only be added after the last one';
              END IF;
              RETURN NEW;
            END;
            $$ LANGUAGE plpgsql""")
        op.execute("CREATE TRIGGER events_append_at_end BEFORE INSERT ON events "
                   "FOR EACH ROW EXECUTE FUNCTION riskkit_events_append_at_end()")
        op.execute("CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events "
                   "FOR EACH STATEMENT EXECUTE FUNCTION riskkit_events_append_only()")
    else:
        op.execute("""
            CREATE TRIGGER events_append_at_end BEFORE INSERT ON events
            WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM events)
              OR NEW.prev_hash IS NOT COALESCE((SELECT hash FROM events ORDER BY seq DESC LIMIT 1), hex(zeroblob(32)))
              OR EXISTS (SELECT 1 FROM events WHERE hash = NEW.hash)
            BEGIN SELECT RAISE(ABORT, 'the breach register is append-only: an event can only be added after the last one');
            END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER events_no_truncate ON events")
        op.execute("DROP TRIGGER events_append_at_end ON events")
        op.execute("DROP FUNCTION riskkit_events_append_at_end()")
    else:
        op.execute("DROP TRIGGER events_append_at_end")
