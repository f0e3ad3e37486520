-- Agent runs as persisted state machines, and their trace.
--
-- The host's swarm engine runs a task as a state machine over agent roles:
-- after every step it stores the run's whole state and the role to run next
-- (one transaction with the step's trace events), so an unfinished run can be
-- resumed after a restart from its last persisted state. `run_events` is the
-- trace: numbered 1, 2, 3... per run, streamed and replayed by `seq`, and
-- append-only for tenants.

ALTER TABLE agent_runs
    -- The task template the run was started from, if any.
    ADD COLUMN template text,
    -- The task's inputs, as given.
    ADD COLUMN inputs jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- The state-machine graph the run follows.
    ADD COLUMN graph text NOT NULL DEFAULT 'default',
    -- The most the run may cost, fen; NULL: no budget of its own.
    ADD COLUMN budget_fen bigint CHECK (budget_fen >= 0),
    -- The latest persisted run state.
    ADD COLUMN state jsonb,
    -- The role to run next; NULL once the run has nothing left to do.
    ADD COLUMN next_role text,
    -- Steps persisted so far.
    ADD COLUMN steps integer NOT NULL DEFAULT 0 CHECK (steps >= 0),
    -- The final report, when the run produced one.
    ADD COLUMN report jsonb,
    -- Why the run failed, when it did.
    ADD COLUMN error text,
    -- What the run has cost so far, fen.
    ADD COLUMN cost_fen bigint NOT NULL DEFAULT 0 CHECK (cost_fen >= 0);

-- Resuming after a restart looks for the runs still running, oldest first.
CREATE INDEX agent_runs_running ON agent_runs (started_at) WHERE status = 'running';

CREATE TABLE run_events (
    run_id uuid NOT NULL REFERENCES agent_runs (id) ON DELETE CASCADE,
    -- 1, 2, 3... per run, assigned by the store under the run's row lock.
    seq bigint NOT NULL CHECK (seq > 0),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id uuid REFERENCES projects (id) ON DELETE SET NULL,
    kind text NOT NULL,
    role text,
    payload jsonb NOT NULL,
    at timestamptz NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE INDEX run_events_user_id ON run_events (user_id);

-- ---------------------------------------------------------------- privileges

-- The trace is a record of what happened: tenants append and read, never edit.
GRANT SELECT, INSERT ON run_events TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON run_events TO service_role;

-- ---------------------------------------------------------------- row-level security

ALTER TABLE run_events ENABLE ROW LEVEL SECURITY;

-- A tenant: their own events only, and only on their own runs and projects
-- (the sub-selects are themselves filtered by the tenant's policies).
CREATE POLICY run_events_own ON run_events FOR ALL TO authenticated
    USING (user_id = (SELECT auth.uid()))
    WITH CHECK (user_id = (SELECT auth.uid())
        AND EXISTS (SELECT 1 FROM agent_runs r WHERE r.id = run_id)
        AND (project_id IS NULL OR EXISTS (SELECT 1 FROM projects p WHERE p.id = project_id)));
CREATE POLICY run_events_service ON run_events FOR ALL TO service_role USING (true) WITH CHECK (true);
