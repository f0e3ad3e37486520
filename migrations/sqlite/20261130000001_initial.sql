-- BioAiSaaS schema, first version, for the embedded SQLite backend.
--
-- The same tables and columns as migrations/postgres, with SQLite types:
-- UUIDs are 16-byte BLOBs, timestamps are RFC 3339 UTC text, JSON is text,
-- embeddings are BLOBs of 384 little-endian f32 (searched by brute-force
-- cosine in the store). SQLite has no row-level security: the store's API
-- takes the tenant on every query and scopes it in code (see the README).
-- Money is integer fen.

CREATE TABLE users (
    id BLOB PRIMARY KEY,
    email TEXT UNIQUE,
    wechat_openid TEXT UNIQUE,
    wechat_unionid TEXT UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    auto_pay_limit_fen INTEGER NOT NULL DEFAULT 0 CHECK (auto_pay_limit_fen >= 0),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE projects (
    id BLOB PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (user_id, name)
) STRICT;
CREATE INDEX projects_user_id ON projects (user_id);

CREATE TABLE agent_runs (
    id BLOB PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id BLOB REFERENCES projects (id) ON DELETE SET NULL,
    task TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'running'
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    input_tokens INTEGER NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
    output_tokens INTEGER NOT NULL DEFAULT 0 CHECK (output_tokens >= 0)
) STRICT;
CREATE INDEX agent_runs_user_id ON agent_runs (user_id, started_at);

CREATE TABLE tool_calls (
    id BLOB PRIMARY KEY,
    run_id BLOB REFERENCES agent_runs (id) ON DELETE SET NULL,
    user_id BLOB REFERENCES users (id) ON DELETE CASCADE,
    project_id BLOB REFERENCES projects (id) ON DELETE SET NULL,
    plugin TEXT NOT NULL,
    tool TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed', 'cancelled')),
    error_class TEXT,
    fuel INTEGER NOT NULL CHECK (fuel >= 0),
    peak_memory_bytes INTEGER NOT NULL CHECK (peak_memory_bytes >= 0),
    wall_us INTEGER NOT NULL CHECK (wall_us >= 0),
    net_requests INTEGER NOT NULL DEFAULT 0 CHECK (net_requests >= 0),
    net_bytes_out INTEGER NOT NULL DEFAULT 0 CHECK (net_bytes_out >= 0),
    net_bytes_in INTEGER NOT NULL DEFAULT 0 CHECK (net_bytes_in >= 0),
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL
) STRICT;
CREATE INDEX tool_calls_user_id ON tool_calls (user_id, started_at);
CREATE INDEX tool_calls_run_id ON tool_calls (run_id);

CREATE TABLE usage_events (
    id BLOB PRIMARY KEY,
    user_id BLOB REFERENCES users (id) ON DELETE CASCADE,
    project_id BLOB REFERENCES projects (id) ON DELETE SET NULL,
    tool_call_id BLOB REFERENCES tool_calls (id) ON DELETE CASCADE,
    run_id BLOB REFERENCES agent_runs (id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity >= 0),
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
CREATE INDEX usage_events_user_id ON usage_events (user_id, occurred_at);
CREATE INDEX usage_events_tool_call_id ON usage_events (tool_call_id);

CREATE TABLE pricing_plans (
    id BLOB PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    input_fen_per_mtok INTEGER NOT NULL DEFAULT 0 CHECK (input_fen_per_mtok >= 0),
    output_fen_per_mtok INTEGER NOT NULL DEFAULT 0 CHECK (output_fen_per_mtok >= 0),
    outcome_prices TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(outcome_prices)),
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE payments (
    id BLOB PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    provider TEXT NOT NULL CHECK (provider IN ('wechat', 'alipay', 'stripe')),
    order_no TEXT NOT NULL UNIQUE,
    provider_txn_id TEXT UNIQUE,
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'paid', 'failed', 'refunded', 'closed')),
    raw_notification TEXT CHECK (raw_notification IS NULL OR json_valid(raw_notification)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX payments_user_id ON payments (user_id, created_at);

CREATE TABLE documents (
    id BLOB PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id BLOB REFERENCES projects (id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    chunk_index INTEGER NOT NULL DEFAULT 0,
    content TEXT NOT NULL,
    embedding BLOB NOT NULL CHECK (length(embedding) = 384 * 4),
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX documents_user_id ON documents (user_id);

CREATE TABLE know_how_index (
    id BLOB PRIMARY KEY,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    licence TEXT NOT NULL,
    attribution TEXT NOT NULL DEFAULT '',
    url TEXT,
    embedding BLOB NOT NULL CHECK (length(embedding) = 384 * 4),
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BLOB, -- no foreign key: see migrations/postgres
    action TEXT NOT NULL,
    table_name TEXT NOT NULL,
    row_id TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail)),
    at TEXT NOT NULL
);
CREATE INDEX audit_log_user_id ON audit_log (user_id, at);

-- Append-only, as on PostgreSQL.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: DELETE is not allowed');
END;
