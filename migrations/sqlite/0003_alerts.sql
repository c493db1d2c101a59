-- Events in, rules, alerts, and the delivery queue. Times are Unix milliseconds.

CREATE TABLE rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    alert_type TEXT NOT NULL CHECK (alert_type IN ('schema', 'freshness', 'discovery', 'connection')),
    -- A glob on the asset's qualified_name; NULL matches every asset.
    asset_pattern TEXT,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX rules_name ON rules (LOWER(name));

CREATE TABLE rule_destinations (
    rule_id BIGINT NOT NULL REFERENCES rules (id) ON DELETE CASCADE,
    destination_id BIGINT NOT NULL REFERENCES destinations (id),
    PRIMARY KEY (rule_id, destination_id)
);

CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    qualified_name TEXT NOT NULL,
    asset_type TEXT NOT NULL,
    change_type TEXT,
    details TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    dedup_key TEXT,
    received_at BIGINT NOT NULL
);

-- The latest event per dedup key; a key is free again once it expires (24 h).
CREATE TABLE dedup_keys (
    dedup_key TEXT PRIMARY KEY,
    event_id BIGINT NOT NULL REFERENCES events (id),
    expires_at BIGINT NOT NULL
);

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    public_id TEXT NOT NULL UNIQUE,
    event_id BIGINT NOT NULL REFERENCES events (id),
    rule_id BIGINT REFERENCES rules (id) ON DELETE SET NULL,
    rule_name TEXT NOT NULL,
    alert_type TEXT NOT NULL,
    status TEXT NOT NULL,
    -- The webhook body, the same for every destination and every attempt.
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX alerts_by_time ON alerts (created_at);
CREATE INDEX alerts_by_rule ON alerts (rule_id, created_at);
CREATE INDEX alerts_by_event ON alerts (event_id);

-- The queue: one row per alert and destination.
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id BIGINT NOT NULL REFERENCES alerts (id),
    destination_id BIGINT NOT NULL REFERENCES destinations (id),
    -- webhook-id, kept across attempts so receivers can de-duplicate.
    msg_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    -- Failures since the delivery was created or last re-driven: the step in the retry schedule.
    failures BIGINT NOT NULL DEFAULT 0,
    -- failures > 0, kept as its own column so claims find first attempts and retries by index.
    retry BOOLEAN NOT NULL DEFAULT FALSE,
    next_attempt_at BIGINT,
    lease_owner TEXT,
    lease_until BIGINT,
    last_status BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- Claims walk each destination's due first attempts, then its due retries, oldest first.
CREATE INDEX deliveries_due ON deliveries (destination_id, retry, next_attempt_at) WHERE status = 'pending';
-- The next due time and the queue depth.
CREATE INDEX deliveries_next ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_status ON deliveries (status, id);
CREATE INDEX deliveries_by_destination ON deliveries (destination_id, id);
CREATE INDEX deliveries_by_alert ON deliveries (alert_id);

-- Every attempt, recorded before the next one is scheduled.
CREATE TABLE attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id BIGINT NOT NULL REFERENCES deliveries (id),
    number BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    request_headers TEXT NOT NULL,
    response_status BIGINT,
    response_headers TEXT,
    response_body TEXT,
    error_kind TEXT,
    error_message TEXT,
    next_attempt_at BIGINT
);
CREATE INDEX attempts_by_delivery ON attempts (delivery_id, number);
