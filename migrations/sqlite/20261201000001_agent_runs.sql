-- Agent runs as persisted state machines, and their trace (SQLite).
--
-- The same columns and table as migrations/postgres/20261201000001_agent_runs.sql,
-- with SQLite types (JSON is text, timestamps RFC 3339 UTC text). SQLite has
-- no row-level security: the store scopes every query to the tenant and only
-- ever appends to run_events.

ALTER TABLE agent_runs ADD COLUMN template TEXT;
ALTER TABLE agent_runs ADD COLUMN inputs TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(inputs));
ALTER TABLE agent_runs ADD COLUMN graph TEXT NOT NULL DEFAULT 'default';
ALTER TABLE agent_runs ADD COLUMN budget_fen INTEGER CHECK (budget_fen >= 0);
ALTER TABLE agent_runs ADD COLUMN state TEXT CHECK (state IS NULL OR json_valid(state));
ALTER TABLE agent_runs ADD COLUMN next_role TEXT;
ALTER TABLE agent_runs ADD COLUMN steps INTEGER NOT NULL DEFAULT 0 CHECK (steps >= 0);
ALTER TABLE agent_runs ADD COLUMN report TEXT CHECK (report IS NULL OR json_valid(report));
ALTER TABLE agent_runs ADD COLUMN error TEXT;
ALTER TABLE agent_runs ADD COLUMN cost_fen INTEGER NOT NULL DEFAULT 0 CHECK (cost_fen >= 0);

CREATE INDEX agent_runs_running ON agent_runs (started_at) WHERE status = 'running';

CREATE TABLE run_events (
    run_id BLOB NOT NULL REFERENCES agent_runs (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL CHECK (seq > 0),
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id BLOB REFERENCES projects (id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    role TEXT,
    payload TEXT NOT NULL CHECK (json_valid(payload)),
    at TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX run_events_user_id ON run_events (user_id);
