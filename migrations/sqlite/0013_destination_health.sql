-- Destination health (the destination's page, its list badge and
-- GET /api/v1/destinations/{id}/health) and Send Test Alert history.

-- Kept by the recorder in the attempt's transaction: failed attempts since the
-- last successful one, the latest failure's message and time, the latest attempt.
ALTER TABLE destinations ADD COLUMN consecutive_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE destinations ADD COLUMN last_error TEXT;
ALTER TABLE destinations ADD COLUMN last_error_at BIGINT;
ALTER TABLE destinations ADD COLUMN last_attempt_at BIGINT;

-- Alert-delivery attempts per destination and hour (epoch ms of the hour's
-- start), upserted with each batch of attempts: the health figures read at
-- most 168 rows instead of the attempts. Outcomes: succeeded; failed with an
-- HTTP 4xx, a 5xx, a timeout, a network error (dns, connect, tls,
-- blocked_address), or anything else (3xx, not sent). lat_00..lat_19 count
-- attempts by duration, bucket upper bounds in store/health.rs LATENCY_BOUNDS_MS.
CREATE TABLE destination_stats (
    destination_id BIGINT NOT NULL REFERENCES destinations (id),
    hour BIGINT NOT NULL,
    succeeded BIGINT NOT NULL DEFAULT 0,
    failed_4xx BIGINT NOT NULL DEFAULT 0,
    failed_5xx BIGINT NOT NULL DEFAULT 0,
    failed_timeout BIGINT NOT NULL DEFAULT 0,
    failed_network BIGINT NOT NULL DEFAULT 0,
    failed_other BIGINT NOT NULL DEFAULT 0,
    lat_00 BIGINT NOT NULL DEFAULT 0,
    lat_01 BIGINT NOT NULL DEFAULT 0,
    lat_02 BIGINT NOT NULL DEFAULT 0,
    lat_03 BIGINT NOT NULL DEFAULT 0,
    lat_04 BIGINT NOT NULL DEFAULT 0,
    lat_05 BIGINT NOT NULL DEFAULT 0,
    lat_06 BIGINT NOT NULL DEFAULT 0,
    lat_07 BIGINT NOT NULL DEFAULT 0,
    lat_08 BIGINT NOT NULL DEFAULT 0,
    lat_09 BIGINT NOT NULL DEFAULT 0,
    lat_10 BIGINT NOT NULL DEFAULT 0,
    lat_11 BIGINT NOT NULL DEFAULT 0,
    lat_12 BIGINT NOT NULL DEFAULT 0,
    lat_13 BIGINT NOT NULL DEFAULT 0,
    lat_14 BIGINT NOT NULL DEFAULT 0,
    lat_15 BIGINT NOT NULL DEFAULT 0,
    lat_16 BIGINT NOT NULL DEFAULT 0,
    lat_17 BIGINT NOT NULL DEFAULT 0,
    lat_18 BIGINT NOT NULL DEFAULT 0,
    lat_19 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (destination_id, hour)
);
-- Retention prunes by hour.
CREATE INDEX destination_stats_by_hour ON destination_stats (hour);

-- Send Test Alert of a saved destination: attempts of kind test, apart from
-- the alert deliveries' attempts (no delivery, no alert, not in the health figures).
CREATE TABLE test_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    destination_id BIGINT NOT NULL REFERENCES destinations (id),
    started_at BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    -- Who sent it: the audit log's actor name (a user's email or an API key's name).
    actor_name TEXT,
    ok BOOLEAN NOT NULL,
    response_status BIGINT,
    error_kind TEXT,
    error_message TEXT,
    summary TEXT NOT NULL
);
CREATE INDEX test_attempts_by_destination ON test_attempts (destination_id, id);
CREATE INDEX test_attempts_by_time ON test_attempts (started_at);

-- The aggregates of the attempts stored before this migration (the text of
-- store::health::rebuild_sql, which a unit test keeps equal).
INSERT INTO destination_stats (destination_id, hour, succeeded, failed_4xx, failed_5xx, failed_timeout, failed_network, failed_other, lat_00, lat_01, lat_02, lat_03, lat_04, lat_05, lat_06, lat_07, lat_08, lat_09, lat_10, lat_11, lat_12, lat_13, lat_14, lat_15, lat_16, lat_17, lat_18, lat_19) SELECT d.destination_id, (a.started_at / 3600000) * 3600000, SUM(CASE WHEN a.error_kind IS NULL AND a.error_message IS NULL THEN 1 ELSE 0 END), SUM(CASE WHEN NOT (a.error_kind IS NULL AND a.error_message IS NULL) AND (a.error_kind = 'http_status' AND a.response_status BETWEEN 400 AND 499) THEN 1 ELSE 0 END), SUM(CASE WHEN NOT (a.error_kind IS NULL AND a.error_message IS NULL) AND (a.error_kind = 'http_status' AND a.response_status BETWEEN 500 AND 599) THEN 1 ELSE 0 END), SUM(CASE WHEN NOT (a.error_kind IS NULL AND a.error_message IS NULL) AND (a.error_kind = 'timeout') THEN 1 ELSE 0 END), SUM(CASE WHEN NOT (a.error_kind IS NULL AND a.error_message IS NULL) AND (a.error_kind IN ('dns', 'connect', 'tls', 'blocked_address')) THEN 1 ELSE 0 END), SUM(CASE WHEN NOT (a.error_kind IS NULL AND a.error_message IS NULL) AND (NOT (a.error_kind IS NOT NULL AND (a.error_kind IN ('timeout', 'dns', 'connect', 'tls', 'blocked_address') OR (a.error_kind = 'http_status' AND a.response_status BETWEEN 400 AND 599)))) THEN 1 ELSE 0 END), SUM(CASE WHEN a.duration_ms <= 10 THEN 1 ELSE 0 END), SUM(CASE WHEN a.duration_ms > 10 AND a.duration_ms <= 20 THEN 1 ELSE 0 END), SUM(CASE WHEN a.duration_ms > 20 AND a.duration_ms <= 35 THEN 1 ELSE 0 END), SUM(CASE WHEN a.duration_ms > 35 AND a.duration_ms <= 50 THEN 1 ELSE 0 END), SUM(CASE WHEN a.duration_ms > 50 AND a.duration_ms <= 75 THEN 1 ELSE 0 END), SUM(CASE WHEN a.duration_ms > 75 AND a.duration_ms <= 100 THEN 1 ELSE 0 END), SUM(CASE WHEN a.duration_ms > 100 AND a.duration_ms <= 150 THEN 1 ELSE 0 END), SUM(CASE WHEN a.duration_ms > 150 AND a.duration_ms <= 200 THEN 1 ELSE 0 END), SUM(CASE WHEN a.duration_ms > 200 AND a.duration_ms <= 300 THEN 1 ELSE 0 END), SUM(CASE WHEN a.duration_ms > 300 AND a.duration_ms <= 500 THEN 1 ELSE 0 END), SUM(CASE WHEN a.duration_ms > 500 AND a.duration_ms <= 750 THEN 1 ELSE 0 END), SUM(CASE WHEN a.duration_ms > 750 AND a.duration_ms <= 1000 THEN 1 ELSE 0 END), SUM(CASE WHEN a.duration_ms > 1000 AND a.duration_ms <= 1500 THEN 1 ELSE 0 END), SUM(CASE WHEN a.duration_ms > 1500 AND a.duration_ms <= 2000 THEN 1 ELSE 0 END), SUM(CASE WHEN a.duration_ms > 2000 AND a.duration_ms <= 3000 THEN 1 ELSE 0 END), SUM(CASE WHEN a.duration_ms > 3000 AND a.duration_ms <= 5000 THEN 1 ELSE 0 END), SUM(CASE WHEN a.duration_ms > 5000 AND a.duration_ms <= 10000 THEN 1 ELSE 0 END), SUM(CASE WHEN a.duration_ms > 10000 AND a.duration_ms <= 20000 THEN 1 ELSE 0 END), SUM(CASE WHEN a.duration_ms > 20000 AND a.duration_ms <= 30000 THEN 1 ELSE 0 END), SUM(CASE WHEN a.duration_ms > 30000 THEN 1 ELSE 0 END) FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE TRUE GROUP BY d.destination_id, (a.started_at / 3600000) * 3600000 ON CONFLICT (destination_id, hour) DO UPDATE SET succeeded = destination_stats.succeeded + excluded.succeeded, failed_4xx = destination_stats.failed_4xx + excluded.failed_4xx, failed_5xx = destination_stats.failed_5xx + excluded.failed_5xx, failed_timeout = destination_stats.failed_timeout + excluded.failed_timeout, failed_network = destination_stats.failed_network + excluded.failed_network, failed_other = destination_stats.failed_other + excluded.failed_other, lat_00 = destination_stats.lat_00 + excluded.lat_00, lat_01 = destination_stats.lat_01 + excluded.lat_01, lat_02 = destination_stats.lat_02 + excluded.lat_02, lat_03 = destination_stats.lat_03 + excluded.lat_03, lat_04 = destination_stats.lat_04 + excluded.lat_04, lat_05 = destination_stats.lat_05 + excluded.lat_05, lat_06 = destination_stats.lat_06 + excluded.lat_06, lat_07 = destination_stats.lat_07 + excluded.lat_07, lat_08 = destination_stats.lat_08 + excluded.lat_08, lat_09 = destination_stats.lat_09 + excluded.lat_09, lat_10 = destination_stats.lat_10 + excluded.lat_10, lat_11 = destination_stats.lat_11 + excluded.lat_11, lat_12 = destination_stats.lat_12 + excluded.lat_12, lat_13 = destination_stats.lat_13 + excluded.lat_13, lat_14 = destination_stats.lat_14 + excluded.lat_14, lat_15 = destination_stats.lat_15 + excluded.lat_15, lat_16 = destination_stats.lat_16 + excluded.lat_16, lat_17 = destination_stats.lat_17 + excluded.lat_17, lat_18 = destination_stats.lat_18 + excluded.lat_18, lat_19 = destination_stats.lat_19 + excluded.lat_19;
