-- Webhook destinations. Secrets (auth_secret, signing_secret, previous_secret)
-- are sealed with the key from ALERTWIRE_SECRET_KEY_FILE, never stored plain.
CREATE TABLE destinations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'webhook',
    url TEXT NOT NULL,
    auth_type TEXT NOT NULL CHECK (auth_type IN ('none', 'bearer', 'api_key')),
    auth_header TEXT,
    auth_secret TEXT,
    headers TEXT NOT NULL DEFAULT '[]',
    signing_secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_expires_at BIGINT,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    last_result_ok BOOLEAN,
    last_result_summary TEXT,
    last_result_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    -- Deleted destinations stay for their delivery history.
    deleted_at BIGINT
);
-- Names are unique among destinations that are not deleted, ignoring case.
CREATE UNIQUE INDEX destinations_live_name ON destinations (LOWER(name)) WHERE deleted_at IS NULL;
