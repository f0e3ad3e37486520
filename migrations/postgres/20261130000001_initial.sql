-- BioAiSaaS schema, first version (PostgreSQL 15+ with pgvector; Supabase-compatible).
--
-- Conventions follow Supabase so that this file applies unchanged to a
-- Supabase project: tenant identity is `auth.uid()` (the `sub` claim of the
-- request's JWT), every tenant table has row-level security, and policies call
-- `(select auth.uid())` so the planner evaluates it once per statement.
-- On plain PostgreSQL the `auth` schema, `auth.uid()` and the
-- `anon` / `authenticated` / `service_role` roles are created here when absent.
-- Money is integer fen (BIGINT); timestamps are timestamptz.

CREATE EXTENSION IF NOT EXISTS vector;

-- Roles, as PostgREST/Supabase name them. Created only when absent, NOLOGIN,
-- and (unlike Supabase's service_role) without BYPASSRLS: on plain PostgreSQL
-- every access path stays subject to the policies below.
-- Roles are cluster-wide: two databases migrating at once may race to create
-- them, so a concurrent creation counts as "already present".
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        END IF;
    END LOOP;
END
$$;

-- auth.uid(): Supabase's own definition, created only when absent. On
-- Supabase the schema and function exist (owned by its auth service) and are
-- left untouched, grants included.
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'auth' AND p.proname = 'uid'
    ) THEN
        CREATE SCHEMA IF NOT EXISTS auth;
        EXECUTE $f$
            CREATE FUNCTION auth.uid() RETURNS uuid
            LANGUAGE sql STABLE
            AS $body$
                SELECT coalesce(
                    nullif(current_setting('request.jwt.claim.sub', true), ''),
                    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
                )::uuid
            $body$
        $f$;
        GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;
        GRANT EXECUTE ON FUNCTION auth.uid() TO anon, authenticated, service_role;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;

-- ---------------------------------------------------------------- tables

CREATE TABLE users (
    id uuid PRIMARY KEY,
    email text UNIQUE,
    wechat_openid text UNIQUE,
    wechat_unionid text UNIQUE,
    display_name text NOT NULL DEFAULT '',
    -- Micro-payments up to this amount are charged without asking again.
    auto_pay_limit_fen bigint NOT NULL DEFAULT 0 CHECK (auto_pay_limit_fen >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE projects (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, name)
);
CREATE INDEX projects_user_id ON projects (user_id);

CREATE TABLE agent_runs (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id uuid REFERENCES projects (id) ON DELETE SET NULL,
    task text NOT NULL,
    status text NOT NULL DEFAULT 'running'
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    input_tokens bigint NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
    output_tokens bigint NOT NULL DEFAULT 0 CHECK (output_tokens >= 0)
);
CREATE INDEX agent_runs_user_id ON agent_runs (user_id, started_at DESC);

-- One row per tools/call through the host, successful or not. user_id is NULL
-- only for operator calls without a tenant (e.g. `bioai call`).
CREATE TABLE tool_calls (
    id uuid PRIMARY KEY,
    run_id uuid REFERENCES agent_runs (id) ON DELETE SET NULL,
    user_id uuid REFERENCES users (id) ON DELETE CASCADE,
    project_id uuid REFERENCES projects (id) ON DELETE SET NULL,
    plugin text NOT NULL,
    tool text NOT NULL,
    status text NOT NULL CHECK (status IN ('ok', 'failed', 'cancelled')),
    error_class text,
    fuel bigint NOT NULL CHECK (fuel >= 0),
    peak_memory_bytes bigint NOT NULL CHECK (peak_memory_bytes >= 0),
    wall_us bigint NOT NULL CHECK (wall_us >= 0),
    net_requests bigint NOT NULL DEFAULT 0 CHECK (net_requests >= 0),
    net_bytes_out bigint NOT NULL DEFAULT 0 CHECK (net_bytes_out >= 0),
    net_bytes_in bigint NOT NULL DEFAULT 0 CHECK (net_bytes_in >= 0),
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL
);
CREATE INDEX tool_calls_user_id ON tool_calls (user_id, started_at DESC);
CREATE INDEX tool_calls_run_id ON tool_calls (run_id);

-- Metering events, the input to billing. The id is chosen by the producer so
-- that re-sending an event is harmless (INSERT ... ON CONFLICT DO NOTHING).
CREATE TABLE usage_events (
    id uuid PRIMARY KEY,
    user_id uuid REFERENCES users (id) ON DELETE CASCADE,
    project_id uuid REFERENCES projects (id) ON DELETE SET NULL,
    tool_call_id uuid REFERENCES tool_calls (id) ON DELETE CASCADE,
    run_id uuid REFERENCES agent_runs (id) ON DELETE SET NULL,
    kind text NOT NULL,
    quantity bigint NOT NULL CHECK (quantity >= 0),
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX usage_events_user_id ON usage_events (user_id, occurred_at);
CREATE INDEX usage_events_tool_call_id ON usage_events (tool_call_id);

-- Prices: not tenant data; everyone may read them.
CREATE TABLE pricing_plans (
    id uuid PRIMARY KEY,
    name text NOT NULL UNIQUE,
    -- Token-based rates, fen per million tokens.
    input_fen_per_mtok bigint NOT NULL DEFAULT 0 CHECK (input_fen_per_mtok >= 0),
    output_fen_per_mtok bigint NOT NULL DEFAULT 0 CHECK (output_fen_per_mtok >= 0),
    -- Outcome-based prices: {"task template": fen}.
    outcome_prices jsonb NOT NULL DEFAULT '{}'::jsonb,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE payments (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    provider text NOT NULL CHECK (provider IN ('wechat', 'alipay', 'stripe')),
    order_no text NOT NULL UNIQUE,
    provider_txn_id text UNIQUE,
    amount_fen bigint NOT NULL CHECK (amount_fen > 0),
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'paid', 'failed', 'refunded', 'closed')),
    raw_notification jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_user_id ON payments (user_id, created_at DESC);

-- A user's private document chunks for retrieval.
CREATE TABLE documents (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id uuid REFERENCES projects (id) ON DELETE CASCADE,
    source text NOT NULL,
    chunk_index integer NOT NULL DEFAULT 0,
    content text NOT NULL,
    embedding vector(384) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX documents_user_id ON documents (user_id);
CREATE INDEX documents_embedding ON documents USING hnsw (embedding vector_cosine_ops);

-- Shared know-how chunks (curated, licensed), readable by every user.
CREATE TABLE know_how_index (
    id uuid PRIMARY KEY,
    source text NOT NULL,
    title text NOT NULL,
    content text NOT NULL,
    licence text NOT NULL,
    attribution text NOT NULL DEFAULT '',
    url text,
    embedding vector(384) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX know_how_index_embedding ON know_how_index USING hnsw (embedding vector_cosine_ops);

-- Who did what to which row. Append-only: UPDATE and DELETE are refused by
-- a trigger, for every role including the owner.
CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- No foreign key: a cascading SET NULL would be an UPDATE, which this
    -- table refuses; the actor id stays as written.
    user_id uuid,
    action text NOT NULL,
    table_name text NOT NULL,
    row_id text NOT NULL,
    detail jsonb NOT NULL DEFAULT '{}'::jsonb,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_user_id ON audit_log (user_id, at);

CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- ---------------------------------------------------------------- privileges

GRANT SELECT, INSERT, UPDATE ON users TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON projects, agent_runs, documents TO authenticated;
-- Call records and metering events are facts: written once, never edited by tenants.
GRANT SELECT, INSERT ON tool_calls, usage_events, audit_log TO authenticated;
GRANT SELECT, INSERT, UPDATE ON payments TO authenticated;
GRANT SELECT ON pricing_plans, know_how_index TO anon, authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO service_role;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM service_role;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO authenticated, service_role;

-- ---------------------------------------------------------------- row-level security

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE projects ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE tool_calls ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE pricing_plans ENABLE ROW LEVEL SECURITY;
ALTER TABLE payments ENABLE ROW LEVEL SECURITY;
ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE know_how_index ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;

-- A tenant: their own rows only. Rows naming a project (or run) must name one
-- of the tenant's own: foreign keys alone do not check ownership, and the
-- sub-selects below are themselves filtered by the tenant's policies.
CREATE POLICY users_own ON users FOR ALL TO authenticated
    USING (id = (SELECT auth.uid())) WITH CHECK (id = (SELECT auth.uid()));
CREATE POLICY projects_own ON projects FOR ALL TO authenticated
    USING (user_id = (SELECT auth.uid())) WITH CHECK (user_id = (SELECT auth.uid()));
CREATE POLICY agent_runs_own ON agent_runs FOR ALL TO authenticated
    USING (user_id = (SELECT auth.uid()))
    WITH CHECK (user_id = (SELECT auth.uid())
        AND (project_id IS NULL OR EXISTS (SELECT 1 FROM projects p WHERE p.id = project_id)));
CREATE POLICY tool_calls_own ON tool_calls FOR ALL TO authenticated
    USING (user_id = (SELECT auth.uid()))
    WITH CHECK (user_id = (SELECT auth.uid())
        AND (project_id IS NULL OR EXISTS (SELECT 1 FROM projects p WHERE p.id = project_id))
        AND (run_id IS NULL OR EXISTS (SELECT 1 FROM agent_runs r WHERE r.id = run_id)));
CREATE POLICY usage_events_own ON usage_events FOR ALL TO authenticated
    USING (user_id = (SELECT auth.uid()))
    WITH CHECK (user_id = (SELECT auth.uid())
        AND (project_id IS NULL OR EXISTS (SELECT 1 FROM projects p WHERE p.id = project_id)));
CREATE POLICY payments_own ON payments FOR ALL TO authenticated
    USING (user_id = (SELECT auth.uid())) WITH CHECK (user_id = (SELECT auth.uid()));
CREATE POLICY documents_own ON documents FOR ALL TO authenticated
    USING (user_id = (SELECT auth.uid()))
    WITH CHECK (user_id = (SELECT auth.uid())
        AND (project_id IS NULL OR EXISTS (SELECT 1 FROM projects p WHERE p.id = project_id)));
CREATE POLICY audit_log_own ON audit_log FOR ALL TO authenticated
    USING (user_id = (SELECT auth.uid())) WITH CHECK (user_id = (SELECT auth.uid()));
CREATE POLICY pricing_plans_read ON pricing_plans FOR SELECT TO anon, authenticated USING (active);
CREATE POLICY know_how_read ON know_how_index FOR SELECT TO anon, authenticated USING (true);

-- The service path (administration, calls without a tenant). On Supabase the
-- service_role bypasses RLS anyway; on plain PostgreSQL these policies grant it.
CREATE POLICY users_service ON users FOR ALL TO service_role USING (true) WITH CHECK (true);
CREATE POLICY projects_service ON projects FOR ALL TO service_role USING (true) WITH CHECK (true);
CREATE POLICY agent_runs_service ON agent_runs FOR ALL TO service_role USING (true) WITH CHECK (true);
CREATE POLICY tool_calls_service ON tool_calls FOR ALL TO service_role USING (true) WITH CHECK (true);
CREATE POLICY usage_events_service ON usage_events FOR ALL TO service_role USING (true) WITH CHECK (true);
CREATE POLICY pricing_plans_service ON pricing_plans FOR ALL TO service_role USING (true) WITH CHECK (true);
CREATE POLICY payments_service ON payments FOR ALL TO service_role USING (true) WITH CHECK (true);
CREATE POLICY documents_service ON documents FOR ALL TO service_role USING (true) WITH CHECK (true);
CREATE POLICY know_how_service ON know_how_index FOR ALL TO service_role USING (true) WITH CHECK (true);
CREATE POLICY audit_log_service ON audit_log FOR ALL TO service_role USING (true) WITH CHECK (true);
