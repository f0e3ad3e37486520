-- The journal of the step in flight of each agent run (SQLite): the same
-- table as migrations/postgres/20261203000001_run_journal.sql, with SQLite
-- types. The store scopes every query to the tenant.

CREATE TABLE run_journal (
    run_id BLOB NOT NULL REFERENCES agent_runs (id) ON DELETE CASCADE,
    step INTEGER NOT NULL CHECK (step > 0),
    seq INTEGER NOT NULL CHECK (seq >= 0),
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response TEXT CHECK (response IS NULL OR json_valid(response)),
    created_at TEXT NOT NULL,
    PRIMARY KEY (run_id, step, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX run_journal_user_id ON run_journal (user_id);
