-- The audit log: who did what to which object, when, and from which address.
-- Never a secret value: no tokens, passwords, signing secrets or header values.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    -- NULL when nobody was signed in: the command line, first-run setup, a failed sign-in.
    actor_kind TEXT CHECK (actor_kind IN ('user', 'api_key')),
    actor_id BIGINT,
    -- A user's email or a key's name at the time (users and keys are never deleted).
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    object_kind TEXT NOT NULL,
    -- No foreign key: the entry outlives what it names.
    object_id BIGINT,
    object_name TEXT NOT NULL,
    address TEXT
);
CREATE INDEX audit_log_by_time ON audit_log (at);
CREATE INDEX audit_log_by_actor ON audit_log (actor_kind, actor_id, id);
CREATE INDEX audit_log_by_object ON audit_log (object_kind, object_id, id);

-- Retention (ALERTWIRE_RETENTION) walks these instead of whole tables.
-- Finished deliveries by the time they finished; the same text as the prune's WHERE.
CREATE INDEX deliveries_finished ON deliveries (updated_at) WHERE status IN ('delivered', 'failed');
-- Events that raised no alert (or whose alerts are gone), oldest first.
CREATE INDEX events_by_time ON events (received_at, id);
-- An event is kept while a dedup key names it; expired keys are removed.
CREATE INDEX dedup_keys_by_event ON dedup_keys (event_id);
CREATE INDEX dedup_keys_by_expiry ON dedup_keys (expires_at);
