-- The journal of the step in flight of each agent run.
--
-- While a role runs one step, every call it makes through the host that
-- costs money or has effects (a tool call, an LLM completion) and the
-- role's own fuel charge are written here, each in one transaction with
-- its charge to the run and its trace events. If the host stops before the
-- step is persisted, the step runs again after the restart: the role makes
-- the same calls in the same order and gets the journaled answers, so
-- nothing is executed, billed or traced twice. The journal of a step is
-- deleted when the step is persisted (save_step) or the run ends.

CREATE TABLE run_journal (
    run_id uuid NOT NULL REFERENCES agent_runs (id) ON DELETE CASCADE,
    -- The step in flight: agent_runs.steps + 1 when it started.
    step integer NOT NULL CHECK (step > 0),
    -- 0, 1, 2... in the order the role made its calls.
    seq integer NOT NULL CHECK (seq >= 0),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- tool, llm or role.
    kind text NOT NULL,
    -- A hash of the request, to notice a role that does not repeat itself.
    request_hash text NOT NULL,
    -- The answer, replayed to the re-run step; NULL when too large to keep.
    response jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, step, seq)
);
CREATE INDEX run_journal_user_id ON run_journal (user_id);

GRANT SELECT, INSERT, DELETE ON run_journal TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON run_journal TO service_role;

ALTER TABLE run_journal ENABLE ROW LEVEL SECURITY;

CREATE POLICY run_journal_own ON run_journal FOR ALL TO authenticated
    USING (user_id = (SELECT auth.uid()))
    WITH CHECK (user_id = (SELECT auth.uid())
        AND EXISTS (SELECT 1 FROM agent_runs r WHERE r.id = run_id));
CREATE POLICY run_journal_service ON run_journal FOR ALL TO service_role USING (true) WITH CHECK (true);
