-- Background jobs: a bulk redelivery of the failed deliveries that match a filter.
-- A job works through its deliveries in id order, a batch per transaction, and
-- moves `done` and `after_id` in the same transaction as the batch it queued, so
-- a crash between batches neither queues a delivery twice nor loses progress.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('redeliver')),
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'cancelled', 'failed')),
    -- The filter as JSON, with absolute times: what the job redelivers.
    filter_json TEXT NOT NULL,
    -- Deliveries that matched when the job was created (at most 100,000).
    total BIGINT NOT NULL,
    -- Deliveries it has queued again so far.
    done BIGINT NOT NULL DEFAULT 0,
    -- The last delivery id looked at; the next batch starts after it.
    after_id BIGINT NOT NULL DEFAULT 0,
    -- The highest delivery id when it was created: later deliveries are not swept in.
    max_delivery_id BIGINT NOT NULL,
    created_by_kind TEXT CHECK (created_by_kind IN ('user', 'api_key')),
    created_by_id BIGINT,
    created_by_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    -- Why it ended `failed` or `cancelled`.
    error TEXT,
    -- The process running it, until when (another takes over after a crash).
    lease_owner TEXT,
    lease_until BIGINT
);
-- One queued or running job per filter: a second start of the same job is refused.
CREATE UNIQUE INDEX jobs_active_filter ON jobs (filter_json) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_active ON jobs (state, id) WHERE state IN ('queued', 'running');
