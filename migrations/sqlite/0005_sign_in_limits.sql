-- Password checks (sign-in, password re-entry) are counted before they run, per
-- account, client address and user, so that parallel tries queue behind the limit.
-- Subjects are hashes or addresses, never an email as typed.
DROP TABLE login_failures;
CREATE TABLE auth_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subject TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX auth_attempts_by_subject ON auth_attempts (subject, at);

-- Bumped to end a user's sessions (password, role or activation changed).
ALTER TABLE users ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;
