-- Accounts, sign-in throttling and API keys. Times are Unix milliseconds.

-- One row once first-run setup is done; its primary key makes setup happen once.
CREATE TABLE instance (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    setup_at BIGINT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    failed_at BIGINT NOT NULL
);
CREATE INDEX login_failures_by_email ON login_failures (email, failed_at);

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
