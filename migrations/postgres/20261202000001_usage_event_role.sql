-- The agent role an LLM usage event was consumed by (planner, coder...), so
-- token usage is billed and shown per run and role. NULL for events that
-- are not a role's (tool calls, direct calls).
ALTER TABLE usage_events ADD COLUMN role text;
